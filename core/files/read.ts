/**
 * Bounded reads of regular files only. Every file Kiln reads on behalf of a template (the template, var files,
 * `file()` and friends, scripts to stage) goes through here, so a FIFO never blocks, a device never streams
 * forever and a huge file is refused before it is read: open with O_NONBLOCK, fstat the descriptor (the type
 * and size of what was actually opened, not of a name that may have changed), then read at most limit+1 bytes
 * (files in /proc report size 0 and may still hold data).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Templates, var files and files read by template functions. */
export const MAX_INPUT_FILE_BYTES = 4 * 1024 * 1024;
/** Scripts and uploads staged for a build (the S3 folder beside a template is capped at 20 MB in all). */
export const MAX_STAGED_FILE_BYTES = 20 * 1024 * 1024;

export type FileKind = 'file' | 'directory' | 'fifo' | 'socket' | 'device' | 'symlink' | 'other';

export type ReadOutcome =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly missing: boolean; readonly problem: string; readonly tooLarge?: true };

export function kindOf(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}): FileKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

const KIND_TEXT: Record<Exclude<FileKind, 'file'>, string> = {
  directory: 'a directory',
  fifo: 'a named pipe (FIFO)',
  socket: 'a socket',
  device: 'a device file',
  symlink: 'a symbolic link',
  other: 'not a regular file',
};

/** "is a directory, not a regular file", for diagnostics. */
export function notRegularText(kind: Exclude<FileKind, 'file'>): string {
  return kind === 'other' ? 'is not a regular file' : `is ${KIND_TEXT[kind]}, not a regular file`;
}

function errnoProblem(display: string, err: unknown): { missing: boolean; problem: string } {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { missing: true, problem: `${display} does not exist` };
  // open(2) on a Unix socket fails with ENXIO.
  if (code === 'ENXIO') return { missing: false, problem: `${display} ${notRegularText('socket')}` };
  if (code === 'EACCES' || code === 'EPERM')
    return { missing: false, problem: `${display} cannot be read: permission denied` };
  if (code === 'ELOOP') return { missing: false, problem: `${display} is a symbolic link loop` };
  return { missing: false, problem: `${display} cannot be read (${code ?? String(err)})` };
}

/**
 * Reads `path` if it is a regular file of at most `limit` bytes. `display` is how the path is named in the
 * problem text (as the user wrote it).
 */
export function readRegularFile(path: string, limit: number, display: string = path): ReadOutcome {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return { ok: false, ...errnoProblem(display, err) };
  }
  try {
    const kind = kindOf(fstatSync(fd));
    if (kind !== 'file') return { ok: false, missing: false, problem: `${display} ${notRegularText(kind)}` };
    const size = fstatSync(fd).size;
    if (size > limit) return { ok: false, missing: false, problem: tooLarge(display, limit), tooLarge: true };
    const buffer = Buffer.alloc(Math.min(limit + 1, Math.max(size + 1, 64 * 1024)));
    let total = 0;
    const chunks: Buffer[] = [];
    for (;;) {
      if (total > limit) return { ok: false, missing: false, problem: tooLarge(display, limit), tooLarge: true };
      const want = Math.min(buffer.length, limit + 1 - total);
      const n = readSync(fd, buffer, 0, want, null);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      total += n;
    }
    return { ok: true, bytes: Buffer.concat(chunks, total) };
  } catch (err) {
    return { ok: false, ...errnoProblem(display, err) };
  } finally {
    closeSync(fd);
  }
}

function tooLarge(display: string, limit: number): string {
  return `${display} is larger than ${limit} bytes (${Math.round(limit / 1024 / 1024)} MB), the limit for this file`;
}

export type TextOutcome =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly missing: boolean; readonly problem: string; readonly tooLarge?: true };

export function readRegularText(path: string, limit: number, display?: string): TextOutcome {
  const r = readRegularFile(path, limit, display);
  return r.ok ? { ok: true, text: Buffer.from(r.bytes).toString('utf8') } : r;
}
