/** Safe extraction of a job's bundle: hostile archives written with tar-stream are refused before any write. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CannotRunError } from '../../../agent/errors.ts';
import { extractBundle } from '../../../agent/extract.ts';

type Entry = Partial<tar.Header> & { name: string; body?: string };

async function tarGz(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...header } of entries) pack.entry(header, body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'kiln-extract-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

async function extract(entries: Entry[], limits?: { maxEntries: number; maxBytes: number }) {
  const archive = join(work, 'b.tar.gz');
  writeFileSync(archive, await tarGz(entries));
  return extractBundle(archive, join(work, 'out'), limits);
}

async function refusal(entries: Entry[], limits?: { maxEntries: number; maxBytes: number }): Promise<string> {
  const error = await extract(entries, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CannotRunError);
  return (error as Error).message;
}

describe('extractBundle', () => {
  it('extracts files and folders, ./ prefixes included', async () => {
    const files = await extract([
      { name: './scripts/', type: 'directory' },
      { name: './scripts/install.sh', body: 'echo hi', mode: 0o755 },
      { name: 'template.json', body: '{}' },
    ]);
    expect(files.map((f) => f.slice(work.length))).toEqual(['/out/scripts/install.sh', '/out/template.json']);
    expect(readFileSync(join(work, 'out/scripts/install.sh'), 'utf8')).toBe('echo hi');
  });

  it.each([
    ['../escape.txt', /"\." or "\.\." segment/],
    ['a/../../escape.txt', /"\." or "\.\." segment/],
    ['/etc/passwd-kiln', /absolute path/],
    ['a\\b', /backslash/],
  ])('refuses the entry name %s', async (name, why) => {
    expect(await refusal([{ name, body: 'x' }])).toMatch(why);
    expect(existsSync(join(work, 'escape.txt'))).toBe(false);
  });

  it('refuses a symbolic link, a hard link and a device', async () => {
    expect(await refusal([{ name: 'l', type: 'symlink', linkname: '/etc' }])).toMatch(/l → \/etc: it is a symlink/);
    expect(
      await refusal([
        { name: 'a', body: 'x' },
        { name: 'h', type: 'link', linkname: 'a' },
      ]),
    ).toMatch(/it is a link/);
    expect(await refusal([{ name: 'd', type: 'character-device', devmajor: 1, devminor: 3 }])).toMatch(
      /character-device/,
    );
  });

  it('stops at the entry and byte limits', async () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: 'x' }));
    expect(await refusal(many, { maxEntries: 10, maxBytes: 1000 })).toMatch(/more than 10 entries/);
    expect(await refusal([{ name: 'big', body: 'x'.repeat(5000) }], { maxEntries: 10, maxBytes: 1000 })).toMatch(
      /inflates past 1000 bytes/,
    );
  });

  it('refuses an entry overwriting an earlier one, and a corrupt archive', async () => {
    expect(
      await refusal([
        { name: 'a', body: '1' },
        { name: 'a', body: '2' },
      ]),
    ).toMatch(/not a readable tar.gz: .*EEXIST/);
    const archive = join(work, 'bad.tar.gz');
    writeFileSync(archive, 'not gzip');
    await expect(extractBundle(archive, join(work, 'out'))).rejects.toThrow(/not a readable tar.gz/);
  });
});
