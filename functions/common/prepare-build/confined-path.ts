/**
 * The one rule for names that come from an upload (S3 keys beside a template, entries of a bundle) and become
 * local paths: a clean relative path that stays inside the scratch folder. Anything that could leave the folder
 * or alias another path is refused with the reason: absolute paths, `.` and `..` segments, empty segments
 * (`a//b`), backslashes and control characters.
 */
import { isAbsolute, relative, resolve } from 'node:path';

export type ConfinedPath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly why: string };

const isControl = (ch: string) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f';

/** The name with control characters (NUL, newlines) shown as `?`, safe to put in a message. */
export const printable = (name: string): string => [...name].map((ch) => (isControl(ch) ? '?' : ch)).join('');

export function confinedPath(dir: string, rel: string): ConfinedPath {
  const no = (why: string): ConfinedPath => ({ ok: false, why });
  if (rel === '') return no('it names the folder itself');
  if (printable(rel) !== rel) return no('it contains a control character');
  if (rel.includes('\\')) return no('it contains a backslash');
  if (rel.startsWith('/')) return no('it is an absolute path');
  const segments = rel.split('/');
  if (segments.some((seg) => seg === '')) return no('it has an empty path segment');
  if (segments.some((seg) => seg === '.' || seg === '..')) return no('it has a "." or ".." path segment');
  const local = resolve(dir, ...segments);
  const back = relative(resolve(dir), local);
  if (back === '' || back.startsWith('..') || isAbsolute(back)) return no('it would land outside the scratch folder');
  return { ok: true, path: local };
}
