/**
 * Template bundles (.zip, .tar.gz) are written by whoever uploads them: every way out of the extraction folder is
 * refused before anything is written, and size and entry limits hold against compression bombs. Archives are
 * made by Python's zipfile/tarfile (test/fixtures/bundles/make_archive.py), which write any name or link, as a
 * hostile uploader's tool would.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TemplateInvalidError } from '../../core/errors.ts';
import { type ArchiveKind, archiveKindOf, extractArchive } from '../../functions/common/prepare-build/archive.ts';
import { bundleTemplate } from '../../functions/common/prepare-build/fetch-template.ts';

const MAKER = new URL('../fixtures/bundles/make_archive.py', import.meta.url).pathname;

interface Entry {
  name: string;
  data?: string;
  zeros?: number;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev';
  target?: string;
}

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kiln-bundle-test-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

function archive(kind: ArchiveKind, entries: Entry[]): Uint8Array {
  const out = join(scratch, `a.${kind}`);
  execFileSync('python3', [MAKER, kind, out], { input: JSON.stringify(entries) });
  return readFileSync(out);
}

/** Extracts into scratch/out (beside nothing else) and lists every path under scratch afterwards. */
async function extract(kind: ArchiveKind, entries: Entry[], limits?: Parameters<typeof extractArchive>[4]) {
  const bytes = archive(kind, entries);
  const dir = join(scratch, 'out');
  mkdirSync(dir);
  const run = extractArchive(kind, bytes, dir, 's3://t/app.bundle', limits);
  const files = () =>
    readdirSync(scratch, { recursive: true, encoding: 'utf8' })
      .filter((p) => !p.startsWith('a.'))
      .sort();
  return { run, dir, files };
}

const KINDS: ArchiveKind[] = ['zip', 'tar.gz'];

describe('bundle kinds', () => {
  it.each([
    ['app.zip', 'zip'],
    ['app.ZIP', 'zip'],
    ['app.tar.gz', 'tar.gz'],
    ['app.tgz', 'tar.gz'],
    ['app.tar', undefined],
    ['app.pkr.hcl', undefined],
  ])('%s → %s', (key, kind) => {
    expect(archiveKindOf(key)).toBe(kind);
  });
});

describe.each(KINDS)('extracting a %s bundle', (kind) => {
  it('writes the template and its files, folders included', async () => {
    const t = await extract(kind, [
      { name: 'app.pkr.hcl', data: 'source "null" "x" {}\n' },
      { name: 'scripts/', type: 'dir' },
      { name: 'scripts/setup.sh', data: 'echo hi\n' },
      { name: './tests/test_app.py', data: 'pass\n' },
    ]);
    const written = await t.run;
    expect(written.map((p) => relative(t.dir, p)).sort()).toEqual([
      'app.pkr.hcl',
      'scripts/setup.sh',
      'tests/test_app.py',
    ]);
    expect(readFileSync(join(t.dir, 'scripts/setup.sh'), 'utf8')).toBe('echo hi\n');
    expect(await bundleTemplate(t.dir, 'b')).toBe(t.dir);
  });

  it.each([
    ['../evil.sh', 'a "." or ".." path segment'],
    ['a/../../evil.sh', 'a "." or ".." path segment'],
    ['/etc/cron.d/evil', 'an absolute path'],
    ['a//b.sh', 'an empty path segment'],
  ])('refuses the entry %j (%s) and writes nothing outside', async (name, why) => {
    const t = await extract(kind, [
      { name: 'ok.pkr.hcl', data: 'x' },
      { name, data: 'evil' },
    ]);
    await expect(t.run).rejects.toThrow(TemplateInvalidError);
    // yauzl refuses `..` and absolute names itself (its words); the rest meet Kiln's rule (ours).
    await expect(t.run).rejects.toThrow(
      kind === 'zip' && !name.includes('//') ? /cannot be used: (invalid relative path|absolute path)/ : why,
    );
    expect(t.files().every((p) => p === 'out' || p.startsWith('out/'))).toBe(true);
    expect(t.files()).not.toContain('evil.sh');
  });

  it('refuses a name with a control character, or reads it as a harmless glyph (zip: CP437 names)', async () => {
    const t = await extract(kind, [
      { name: 'ok.pkr.hcl', data: 'x' },
      { name: 'bad\u0001name', data: 'x' },
    ]);
    if (kind === 'tar.gz') {
      await expect(t.run).rejects.toThrow(/"bad\?name", which cannot be used: it contains a control character/);
    } else {
      // A zip name without the UTF-8 flag is CP437, where byte 0x01 is "☺": a plain file inside the folder.
      await t.run;
      expect(t.files()).toContain('out/bad\u263aname');
    }
  });

  it('refuses a symbolic link, whatever it points at', async () => {
    const t = await extract(kind, [
      { name: 'app.pkr.hcl', data: 'x' },
      { name: 'creds', type: 'symlink', target: '/proc/self/environ' },
    ]);
    await expect(t.run).rejects.toThrow(/link or special file|is a symlink/);
    expect(t.files()).not.toContain('out/creds');
  });

  it('refuses the same path twice instead of overwriting the first', async () => {
    const t = await extract(kind, [
      { name: 'app.pkr.hcl', data: 'first' },
      { name: 'app.pkr.hcl', data: 'second' },
    ]);
    await expect(t.run).rejects.toThrow(TemplateInvalidError);
    expect(readFileSync(join(t.dir, 'app.pkr.hcl'), 'utf8')).toBe('first');
  });

  it('stops a compression bomb at the byte limit', async () => {
    const t = await extract(kind, [{ name: 'zeros.bin', zeros: 8 * 1024 * 1024 }], {
      maxArchiveBytes: 1024 * 1024,
      maxEntries: 10,
      maxTotalBytes: 1024 * 1024,
    });
    await expect(t.run).rejects.toThrow(/expands to more than 1 MB/);
    expect(t.files()).toEqual(['out']);
  });

  it('stops at the entry limit', async () => {
    const entries = Array.from({ length: 12 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' }));
    const t = await extract(kind, entries, { maxArchiveBytes: 1024 * 1024, maxEntries: 10, maxTotalBytes: 1024 });
    await expect(t.run).rejects.toThrow(/more than 10 entries/);
  });

  it('refuses an archive over the size limit before reading it', async () => {
    const t = await extract(kind, [{ name: 'a.txt', data: 'x'.repeat(4096) }], {
      maxArchiveBytes: 16,
      maxEntries: 10,
      maxTotalBytes: 1024 * 1024,
    });
    await expect(t.run).rejects.toThrow(/larger than/);
    expect(t.files()).toEqual(['out']);
  });

  it('reports a corrupt archive as an invalid template', async () => {
    const dir = join(scratch, 'out');
    mkdirSync(dir);
    await expect(extractArchive(kind, new TextEncoder().encode('not an archive'), dir, 'b')).rejects.toThrow(
      /is not a readable/,
    );
  });
});

describe('tar-only entry types', () => {
  it.each([
    ['hardlink', { name: 'h', type: 'hardlink', target: '/etc/passwd' }],
    ['fifo', { name: 'p', type: 'fifo' }],
    ['character device', { name: 'c', type: 'chardev' }],
  ] as const)('refuses a %s', async (_what, entry) => {
    const t = await extract('tar.gz', [{ name: 'app.pkr.hcl', data: 'x' }, entry]);
    await expect(t.run).rejects.toThrow(/only files and folders are allowed/);
  });
});

describe('which template a bundle builds', () => {
  const make = (files: Record<string, string>) => {
    const root = join(scratch, 'root');
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(root, name, '..'), { recursive: true });
      execFileSync('sh', ['-c', 'cat > "$1"', 'sh', join(root, name)], { input: text });
    }
    return root;
  };

  it('an HCL2 folder: the root itself, variables beside builds', async () => {
    const root = make({ 'build.pkr.hcl': '', 'variables.pkr.hcl': '', 'dev.pkrvars.hcl': '' });
    expect(await bundleTemplate(root, 'b')).toBe(root);
  });

  it('the one legacy JSON template at the root; var files and subfolders do not count', async () => {
    const root = make({ 'app.json': '{}', 'prod.pkrvars.json': '{}', 'config/settings.json': '{}' });
    expect(await bundleTemplate(root, 'b')).toBe(join(root, 'app.json'));
  });

  it('refuses a root without a template, or with several legacy ones, saying what to do', async () => {
    await expect(bundleTemplate(make({ 'README.md': '' }), 'b')).rejects.toThrow(/has no template at its root/);
    rmSync(join(scratch, 'root'), { recursive: true });
    await expect(bundleTemplate(make({ 'a.json': '', 'b.json': '' }), 'b')).rejects.toThrow(
      /several \.json files at its root \(a\.json, b\.json\)/,
    );
  });
});
