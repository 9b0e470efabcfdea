import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zipDirectory, zipEntries } from '../../harness/zip.ts';

describe('zip writer', () => {
  it('writes an archive that unzip extracts to the same files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-zip-'));
    mkdirSync(join(dir, 'src', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'index.js'), 'exports.handler = async () => 42;\n');
    writeFileSync(join(dir, 'src', 'nested', 'data.txt'), 'x'.repeat(10_000));
    const archive = join(dir, 'out.zip');
    writeFileSync(archive, zipDirectory(dir));
    const test = spawnSync('unzip', ['-t', archive], { encoding: 'utf8' });
    expect(test.status).toBe(0);
    const out = join(dir, 'extracted');
    expect(spawnSync('unzip', ['-q', archive, '-d', out]).status).toBe(0);
    expect(readFileSync(join(out, 'index.js'), 'utf8')).toBe('exports.handler = async () => 42;\n');
    expect(readFileSync(join(out, 'src/nested/data.txt'), 'utf8')).toHaveLength(10_000);
  });

  it('gives the same bytes for the same entries', () => {
    const entries = [{ name: 'a.txt', data: Buffer.from('a') }];
    expect(zipEntries(entries).equals(zipEntries(entries))).toBe(true);
  });
});
