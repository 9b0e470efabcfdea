/**
 * Safe extraction of a job's template bundle (tar.gz) into the job's folder. The gateway verified who uploaded
 * it, but the agent runs on someone's machine: every entry is checked before a byte is written. Names must be
 * clean relative paths that stay in the folder (no absolute paths, `..`, empty segments, backslashes, control
 * characters), only files and folders are accepted (links and devices are the classic ways out), and the entry
 * count and inflated bytes are bounded so a compression bomb stops at the limit. Same rules as the pipeline's
 * extractor (functions/common/prepare-build/archive.ts), which the agent cannot import (layers).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { CannotRunError } from './errors.ts';

export interface ExtractLimits {
  readonly maxEntries: number;
  /** Bytes written for all files together. */
  readonly maxBytes: number;
}
export const EXTRACT_LIMITS: ExtractLimits = { maxEntries: 5_000, maxBytes: 1024 * 1024 * 1024 };

const isControl = (ch: string) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f';
const printable = (name: string): string => [...name].map((ch) => (isControl(ch) ? '?' : ch)).join('');

/** The local path of an entry name, or why it is refused. A leading `./` (tar's own habit) is allowed. */
export function entryPath(dir: string, name: string): { path: string } | { why: string } {
  const rel = name.replace(/^(\.\/)+/, '').replace(/\/$/, '');
  if (rel === '' || rel === '.') return { why: 'it names the folder itself' };
  if (printable(rel) !== rel) return { why: 'it contains a control character' };
  if (rel.includes('\\')) return { why: 'it contains a backslash' };
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) return { why: 'it is an absolute path' };
  const segments = rel.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return { why: 'it has an empty, "." or ".." segment' };
  const path = resolve(dir, ...segments);
  const back = relative(resolve(dir), path);
  if (back === '' || back.startsWith('..') || isAbsolute(back)) return { why: 'it would land outside the folder' };
  return { path };
}

const refuse = (name: string, why: string) =>
  new CannotRunError(`the template bundle holds an entry the agent will not extract, ${printable(name)}: ${why}`);

/** Extracts `archive` (a .tar.gz file) into `dir`; returns the files written. Throws CannotRunError. */
export async function extractBundle(
  archive: string,
  dir: string,
  limits: ExtractLimits = EXTRACT_LIMITS,
): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const extract = tar.extract();
  const written: string[] = [];
  let entries = 0;
  let bytes = 0;
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      entries += 1;
      if (entries > limits.maxEntries) {
        throw new CannotRunError(`the template bundle has more than ${limits.maxEntries} entries`);
      }
      const target = entryPath(dir, name);
      if ('why' in target) throw refuse(name, target.why);
      if (type === 'directory') {
        await mkdir(target.path, { recursive: true, mode: 0o700 });
        entry.resume();
      } else if (type === 'file' || type === 'contiguous-file') {
        await mkdir(dirname(target.path), { recursive: true, mode: 0o700 });
        // Owner bits only (scripts keep their execute bit); `wx`: an entry never overwrites an earlier one.
        const mode = ((entry.header.mode ?? 0o600) & 0o700) | 0o600;
        const count = new Transform({
          transform(chunk: Buffer, _enc, callback) {
            bytes += chunk.length;
            if (bytes > limits.maxBytes) {
              callback(new CannotRunError(`the template bundle inflates past ${limits.maxBytes} bytes`));
            } else callback(null, chunk);
          },
        });
        // tar-stream's entry is a Readable of Buffers (its types say unknown).
        await pipeline(
          entry as AsyncIterable<Uint8Array>,
          count,
          createWriteStream(target.path, { flags: 'wx', mode }),
        );
        written.push(target.path);
      } else {
        const link = entry.header.linkname ? ` → ${entry.header.linkname}` : '';
        throw refuse(`${name}${link}`, `it is a ${type} (only files and folders are allowed)`);
      }
    }
  })();
  const feed = pipeline(createReadStream(archive), createGunzip(), extract);
  try {
    await Promise.all([done, feed]);
  } catch (error) {
    extract.destroy();
    if (error instanceof CannotRunError) throw error;
    throw new CannotRunError(
      `the template bundle is not a readable tar.gz: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return written;
}
