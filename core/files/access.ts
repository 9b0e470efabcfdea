/**
 * FileAccess: how the template engine and the planner reach the disk. Local (the CLI on a user's machine)
 * keeps Packer's semantics: any path, relative to the working directory or template folder. Confined (the
 * pipeline, and `kiln validate|plan --pipeline`) refuses any path that does not resolve, after following
 * symlinks, inside the template's root: the author of an uploaded template must not read the Lambda's files
 * (`/proc/self/environ` holds its AWS credentials). Both modes read regular files only, bounded.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  type FileKind,
  kindOf,
  MAX_INPUT_FILE_BYTES,
  notRegularText,
  type ReadOutcome,
  readRegularFile,
  readRegularText,
  type TextOutcome,
} from './read.ts';

/** The pipeline's rule: every file a template names lives under `root` (its folder or bundle). */
export interface Confinement {
  readonly root: string;
}

export type PathCheck = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

export interface FileAccess {
  /** Present when paths are confined: the root as given (lexical). */
  readonly root?: string;
  /** A path the template wrote, resolved against `base`; refused when it leaves the root (confined mode). */
  readonly resolveWritten: (written: string, base: string) => PathCheck;
  /** An absolute path (the template file, a var file, a path already resolved): confinement only. */
  readonly check: (path: string, display?: string) => PathCheck;
  /** Confinement, then a bounded read of a regular file. */
  readonly readText: (path: string, display?: string, limit?: number) => TextOutcome;
  readonly readBytes: (path: string, limit: number, display?: string) => ReadOutcome;
  /** What is at `path` (following symlinks), `missing` when nothing (or refused by confinement). */
  readonly kind: (path: string) => FileKind | 'missing';
  /** Regular files under `dir`, recursively, not following symlinked directories; confined to the root. */
  readonly listFiles: (dir: string, max: number) => string[];
}

const inside = (root: string, p: string): boolean => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/** realpath of `p`, or of its deepest existing ancestor joined with the missing rest. */
function realOrAncestor(p: string): string {
  let current = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return p;
      rest.push(current.slice(parent.length).replace(/^[/\\]+/, ''));
      current = parent;
    }
  }
}

const OUTSIDE = "the template's folder";

export function confinedCheck(root: string, path: string, display: string = path): PathCheck {
  const lexicalRoot = resolve(root);
  const abs = resolve(lexicalRoot, path);
  if (!inside(lexicalRoot, abs)) {
    return { ok: false, problem: `${display} points outside ${OUTSIDE}` };
  }
  const realRoot = realOrAncestor(lexicalRoot);
  const real = realOrAncestor(abs);
  if (!inside(realRoot, real)) {
    return { ok: false, problem: `${display} is a symbolic link that points outside ${OUTSIDE}` };
  }
  return { ok: true, path: real };
}

function listFiles(dir: string, max: number, accept: (p: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (out.length > max) return;
      const full = join(d, name);
      let kind: FileKind;
      try {
        kind = kindOf(lstatSync(full));
        // A link to a file counts as that file; links to directories are not followed (no loops).
        if (kind === 'symlink') kind = kindOf(statSync(full)) === 'file' ? 'file' : 'other';
      } catch {
        continue; // broken links and races are skipped, like Go's filepath.Glob
      }
      if (kind === 'directory') walk(full);
      else if (kind === 'file' && accept(full)) out.push(full);
    }
  };
  walk(dir);
  return out;
}

export interface FileAccessOptions {
  readonly confinement?: Confinement;
  /** Replaces the disk for reads (tests, a bundle in memory); still confined. */
  readonly readFile?: (path: string) => string | undefined;
}

export function fileAccess(options: FileAccessOptions = {}): FileAccess {
  const root = options.confinement ? resolve(options.confinement.root) : undefined;
  const check = (path: string, display = path): PathCheck =>
    root === undefined ? { ok: true, path: resolve(path) } : confinedCheck(root, path, display);
  const override = options.readFile;
  const kind = (path: string): FileKind | 'missing' => {
    const c = check(path);
    if (!c.ok) return 'missing';
    try {
      return kindOf(statSync(c.path));
    } catch {
      return override?.(path) !== undefined ? 'file' : 'missing';
    }
  };
  return {
    ...(root !== undefined ? { root } : {}),
    resolveWritten: (written, base) => {
      const abs = isAbsolute(written) ? written : resolve(base, written);
      if (root !== undefined && isAbsolute(written) && !inside(root, resolve(written))) {
        return {
          ok: false,
          problem: `"${written}" is an absolute path outside ${OUTSIDE}; in the pipeline a template may only name files inside its own folder (write the path relative to the template)`,
        };
      }
      return check(abs, `"${written}"`);
    },
    check,
    readText: (path, display = path, limit = MAX_INPUT_FILE_BYTES) => {
      const c = check(path, display);
      if (!c.ok) return { ok: false, missing: false, problem: c.problem };
      if (override) {
        const text = override(path);
        // Already in memory: the caller checks sizes itself.
        return text === undefined
          ? { ok: false, missing: true, problem: `${display} does not exist` }
          : { ok: true, text };
      }
      return readRegularText(c.path, limit, display);
    },
    readBytes: (path, limit, display = path) => {
      const c = check(path, display);
      if (!c.ok) return { ok: false, missing: false, problem: c.problem };
      return readRegularFile(c.path, limit, display);
    },
    kind,
    listFiles: (dir, max) => {
      const c = check(dir);
      if (!c.ok) return [];
      // Files are reported under the path asked for, so fileset() gives paths relative to what was written.
      return listFiles(c.path, max, (p) => root === undefined || confinedCheck(root, p).ok).map((p) =>
        join(dir, relative(c.path, p)),
      );
    },
  };
}

export { notRegularText };
