/**
 * Local files a provisioner needs (scripts, file-provisioner sources) become FileRefs: path relative to the
 * template directory plus sha256 and size, so PrepareBuild can stage them in S3 and the plan stays small.
 * Reads go through FileAccess: regular files only, bounded, and confined to the template's root in the pipeline.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import { type FileAccess, fileAccess } from '../files/access.ts';
import { MAX_STAGED_FILE_BYTES } from '../files/read.ts';
import { knownString } from '../schema/values.ts';
import type { Config } from '../template/model.ts';
import { stagedFileKeys } from './file-keys.ts';
import type { FileRef } from './types.ts';

/** Unconfined disk access (the CLI on a user's machine): Packer's local semantics, still bounded reads. */
export const diskAccess: FileAccess = fileAccess();

/** Packer resolves relative paths against the working directory; a bundle keeps them next to the template. */
function locate(templateDir: string, written: string, files: FileAccess, cwd?: string): string {
  if (isAbsolute(written)) return written;
  const inTemplateDir = resolve(templateDir, written);
  if (cwd === undefined) return inTemplateDir;
  const inCwd = resolve(cwd, written);
  const exists = (p: string) => files.kind(p) !== 'missing';
  return exists(inCwd) || !exists(inTemplateDir) ? inCwd : inTemplateDir;
}

/** A FileRef, or why the path cannot be used (outside the root in the pipeline, not a regular file, too big). */
export function fileRef(
  templateDir: string,
  written: string,
  files: FileAccess,
  cwd?: string,
): { ref: FileRef; problem?: string } {
  const absolute = locate(templateDir, written, files, cwd);
  const relativePath = relative(templateDir, absolute).split('\\').join('/');
  const base = { path: absolute, relativePath };
  const checked = isAbsolute(written)
    ? files.resolveWritten(written, templateDir)
    : files.check(absolute, `"${written}"`);
  if (!checked.ok) return { ref: base, problem: checked.problem };
  const kind = files.kind(absolute);
  if (kind === 'directory') return { ref: { ...base, directory: true } };
  if (kind === 'missing') return { ref: base };
  const read = files.readBytes(absolute, MAX_STAGED_FILE_BYTES, `"${written}"`);
  if (!read.ok) return { ref: base, problem: read.problem };
  return {
    ref: {
      ...base,
      sha256: createHash('sha256').update(read.bytes).digest('hex'),
      size: read.bytes.byteLength,
    },
  };
}

const FOLDER_KEYS = new Set(['source', 'sources']);

export interface PlannedFiles {
  readonly config: Config;
  readonly files: FileRef[];
  /** Paths that cannot be staged, by configuration key. */
  readonly problems: { readonly key: string; readonly problem: string }[];
}

/** The configuration with file paths replaced by their template-relative paths, and the FileRefs. */
export function planFiles(
  type: string,
  config: Config,
  templateDir: string,
  files: FileAccess,
  cwd?: string,
  keys: readonly string[] = stagedFileKeys(type, config),
): PlannedFiles {
  const refs: FileRef[] = [];
  const problems: { key: string; problem: string }[] = [];
  const out: Config = { ...config };
  const ref = (key: string, value: unknown): unknown => {
    const written = knownString(value);
    if (written === undefined || written === '' || typeof value !== 'string') return value;
    const f = fileRef(templateDir, written, files, cwd);
    // Only the file provisioner uploads folders; a script or playbook must be a file.
    const problem =
      f.problem ??
      (f.ref.directory && !FOLDER_KEYS.has(key) ? `"${written}" is a directory, not a regular file` : undefined);
    if (problem !== undefined) {
      problems.push({ key, problem });
      return value;
    }
    refs.push(f.ref);
    return f.ref.relativePath.startsWith('..') ? value : f.ref.relativePath;
  };
  for (const key of keys) {
    const value = config[key];
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.map((v) => ref(key, v)) : ref(key, value);
  }
  return { config: out, files: refs, problems };
}
