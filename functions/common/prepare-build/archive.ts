/**
 * Extracts a template bundle (`.zip`, `.tar.gz`/`.tgz`) into a scratch folder. The archive is written by whoever
 * uploads the template, so every entry is checked before a byte of it is written: names must be clean relative
 * paths that stay inside the folder (the rule S3 keys beside a template meet), only files and folders are
 * allowed (symbolic links, hard links, devices and FIFOs are refused: a link is the classic way out of an
 * extraction folder), and the entry count and the bytes written are bounded before inflating, so a compression
 * bomb stops at the limit instead of filling /tmp. yauzl (zip) and tar-stream (tar) do the format work; both
 * stream, so memory stays at one entry's chunk.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import * as yauzl from 'yauzl';
import { TemplateInvalidError } from '../../../core/errors.ts';
import { confinedPath, printable } from './confined-path.ts';

export type ArchiveKind = 'zip' | 'tar.gz';

export interface ArchiveLimits {
  /** Size of the archive object itself. */
  readonly maxArchiveBytes: number;
  readonly maxEntries: number;
  /** Bytes written for all files together (uncompressed). */
  readonly maxTotalBytes: number;
}

/** A template with its scripts and files is kilobytes to a few megabytes; these leave room for a build context. */
export const BUNDLE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 50 * 1024 * 1024,
  maxEntries: 2_000,
  maxTotalBytes: 200 * 1024 * 1024,
};

export function archiveKindOf(key: string): ArchiveKind | undefined {
  const lower = key.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  return undefined;
}

const MiB = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

class Budget {
  entries = 0;
  bytes = 0;
  constructor(
    private readonly limits: ArchiveLimits,
    private readonly label: string,
  ) {}
  /** Refuses up front when the archive's own directory already says it has too many entries (zip). */
  expect(count: number): void {
    if (count > this.limits.maxEntries) {
      this.entries = count - 1;
      this.entry();
    }
  }
  entry(): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw new TemplateInvalidError(
        `The bundle ${this.label} has more than ${this.limits.maxEntries} entries; keep the template, its scripts and files only`,
      );
    }
  }
  /** Charges `n` bytes; throws once the total passes the limit (declared sizes are charged before inflating). */
  charge(n: number): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxTotalBytes) {
      throw new TemplateInvalidError(
        `The bundle ${this.label} expands to more than ${MiB(this.limits.maxTotalBytes)}; ` +
          'a template bundle holds the template, its scripts and files (large artifacts belong in S3 or a registry)',
      );
    }
  }
}

function refuseEntry(label: string, name: string, why: string): TemplateInvalidError {
  return new TemplateInvalidError(
    `The bundle ${label} holds the entry "${printable(name)}", which cannot be used: ${why}`,
  );
}

/** Where an entry lands: folders end in `/` in both formats; `./` prefixes (tar's habit) are dropped. */
function entryPath(dir: string, label: string, rawName: string): { local: string; isDir: boolean } {
  const isDir = rawName.endsWith('/');
  const name = rawName.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (name === '' || name === '.') return { local: dir, isDir: true };
  const where = confinedPath(dir, name);
  if (where.ok) return { local: where.path, isDir };
  throw refuseEntry(label, rawName, `${where.why}; rebuild the archive with relative paths inside it`);
}

/** Counts bytes as they are written and stops the stream past the budget (a lying header cannot pass it). */
function meter(declared: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > declared) {
        done(new TemplateInvalidError('an archive entry holds more bytes than its header declares'));
        return;
      }
      done(null, chunk);
    },
  });
}

async function writeEntry(
  local: string,
  body: AsyncIterable<Uint8Array>,
  budget: Budget,
  declared: number,
): Promise<void> {
  budget.charge(declared);
  await mkdir(dirname(local), { recursive: true });
  // `wx`: an archive naming one path twice is refused instead of overwriting (or following) the first.
  await pipeline(body, meter(declared), createWriteStream(local, { flags: 'wx', mode: 0o644 }));
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

async function extractZip(bytes: Buffer, dir: string, label: string, budget: Budget): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(
      bytes,
      { lazyEntries: true, validateEntrySizes: true, strictFileNames: true, decodeStrings: true },
      (err, z) => (err || !z ? reject(err) : resolve(z)),
    ),
  );
  budget.expect(zip.entryCount);
  const written: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          budget.entry();
          const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
          const { local, isDir } = entryPath(dir, label, entry.fileName);
          if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
            throw refuseEntry(
              label,
              entry.fileName,
              'it is a link or special file (only files and folders are allowed)',
            );
          }
          if (isDir || mode === S_IFDIR) {
            await mkdir(local, { recursive: true });
          } else {
            const body = await new Promise<Readable>((res, rej) =>
              zip.openReadStream(entry, (err, s) => (err || !s ? rej(err) : res(s))),
            );
            await writeEntry(local, body, budget, entry.uncompressedSize);
            written.push(local);
          }
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return written;
}

async function extractTarGz(bytes: Buffer, dir: string, label: string, budget: Budget): Promise<string[]> {
  const extract = tar.extract();
  const written: string[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type, size } = entry.header;
      budget.entry();
      const { local, isDir } = entryPath(dir, label, type === 'directory' && !name.endsWith('/') ? `${name}/` : name);
      if (type === 'directory' || isDir) {
        await mkdir(local, { recursive: true });
        entry.resume();
      } else if (type === 'file' || type === 'contiguous-file') {
        // tar-stream's entry is a streamx Readable of Buffers (its types say unknown).
        await writeEntry(local, entry as AsyncIterable<Uint8Array>, budget, size ?? 0);
        written.push(local);
      } else {
        const target = entry.header.linkname ? ` → ${entry.header.linkname}` : '';
        throw refuseEntry(label, `${name}${target}`, `it is a ${type} (only files and folders are allowed)`);
      }
    }
  })();
  const feed = pipeline(Readable.from([bytes]), createGunzip(), extract);
  // Either side failing ends both: a refused entry must stop the gunzip stream (no further inflating).
  try {
    await Promise.all([done, feed]);
  } catch (err) {
    extract.destroy();
    throw err;
  }
  return written;
}

/**
 * Extracts the archive into `dir` (which must exist and be empty) and returns the files written. Errors that the
 * uploader can fix are TemplateInvalidError; a corrupt archive is reported as one too, with the format's reason.
 */
export async function extractArchive(
  kind: ArchiveKind,
  bytes: Uint8Array,
  dir: string,
  label: string,
  limits: ArchiveLimits = BUNDLE_LIMITS,
): Promise<string[]> {
  if (bytes.byteLength > limits.maxArchiveBytes) {
    throw new TemplateInvalidError(
      `The bundle ${label} is larger than ${MiB(limits.maxArchiveBytes)}; a template bundle holds the template, its scripts and files`,
    );
  }
  const budget = new Budget(limits, label);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return kind === 'zip'
      ? await extractZip(buffer, dir, label, budget)
      : await extractTarGz(buffer, dir, label, budget);
  } catch (err) {
    if (err instanceof TemplateInvalidError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    // yauzl checks entry names itself, before we see them: same refusal, its wording.
    if (/^(absolute path|invalid relative path|invalid characters in fileName)/.test(reason)) {
      throw new TemplateInvalidError(
        `The bundle ${label} holds an entry that cannot be used: ${printable(reason)}; rebuild the archive with relative paths inside it`,
        { cause: err },
      );
    }
    throw new TemplateInvalidError(`The bundle ${label} is not a readable ${kind} archive: ${reason}`, {
      cause: err,
    });
  }
}
