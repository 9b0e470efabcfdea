/**
 * The `kiln` CLI as users run it: the bundle scripts/build-cli.ts builds (what setup puts in dist/), copied to a
 * folder with no node_modules above it and run by Node 22 (node_modules/.bin/node, the project's runtime). Its
 * commands load their code on first use (split chunks beside kiln.mjs), and the HCL syntax gate's worker finds
 * @cdktf/hcl2json shipped beside the bundle, not in the project.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let scratch: string;
let bin: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'kiln-cli-bundle-'));
  const out = join(scratch, 'kiln');
  bin = await buildCli(out);
  // Templates beside the bundle, outside the repository: nothing resolves through the project's node_modules.
  cpSync(join(ROOT, 'examples'), join(scratch, 'examples'), { recursive: true });
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function kiln(...args: string[]) {
  try {
    const { stdout, stderr } = await run(join(ROOT, 'node_modules/.bin/node'), [bin, ...args], {
      cwd: join(scratch, 'examples'),
      env: { PATH: '/usr/bin:/bin', HOME: scratch },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('the kiln CLI bundle', () => {
  it('has no project folder to lean on', () => {
    expect(existsSync(join(scratch, 'node_modules'))).toBe(false);
    expect(bin.startsWith(scratch)).toBe(true);
  });

  it('validates an HCL2 template (tree-sitter and the hcl2json worker from the files beside it)', async () => {
    const r = await kiln('validate', 'amazon-ebs-basic/amazon-ebs-basic.pkr.hcl');
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: 'The configuration is valid.\n' });
  });

  it('validates both reference templates unchanged', async () => {
    for (const t of ['docker-python-app.json', 'vmware-ubuntu-apache.json']) {
      expect(await kiln('validate', t)).toMatchObject({ code: 0, stdout: 'The configuration is valid.\n' });
    }
  });

  it('reports an invalid template Packer-style with file, line and column', async () => {
    writeFileSync(join(scratch, 'examples', 'broken.pkr.hcl'), 'source "amazon-ebs" "x" {\n  ami_name = \n}\n');
    const r = await kiln('validate', 'broken.pkr.hcl');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/Error: .*\n\s*\n\s*on broken\.pkr\.hcl line 2, column \d+/);
  });

  it('keeps the AWS SDK of the registry commands out of the entry file', () => {
    const entry = statSync(bin).size;
    const chunks = readdirSync(join(scratch, 'kiln')).filter((f) => f.endsWith('.mjs') && f !== 'kiln.mjs');
    expect(chunks.length).toBeGreaterThan(1);
    expect(entry).toBeLessThan(200 * 1024);
  });
});
