/** Variable precedence (default < PKR_VAR_ < auto var files < -var-file < -var), conversions and errors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';
import type { LoadOptions } from '../../../../core/template/model.ts';

const TEMPLATE = `
variable "v" {
  type    = string
  default = "default"
}
variable "n" {
  type    = number
  default = 1
}
variable "flags" {
  type    = list(string)
  default = []
}
variable "cfg" {
  type    = object({ size = number, name = optional(string, "anon") })
  default = { size = 1 }
}
variable "untyped" {
  default = "d"
}
variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
source "null" "x" {
  communicator = "none"
  v            = var.v
  n            = var.n
  flags        = var.flags
  cfg          = var.cfg
  untyped      = var.untyped
}
build {
  sources = ["source.null.x"]
}
`;

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-vars-'));
  writeFileSync(join(dir, 'main.pkr.hcl'), TEMPLATE);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function config(files: Record<string, string>, opts: LoadOptions = {}) {
  const dir = workspace(files);
  const r = await loadHclTemplate('.', { cwd: dir, ...opts });
  return { r, config: r.template?.builds[0]?.config ?? {} };
}

describe('variable precedence', () => {
  it.each([
    ['default only', {}, {}, 'default'],
    ['env beats default', {}, { env: { PKR_VAR_v: 'env' } }, 'env'],
    ['auto var file beats env', { 'a.auto.pkrvars.hcl': 'v = "auto-a"' }, { env: { PKR_VAR_v: 'env' } }, 'auto-a'],
    [
      'later auto var file wins',
      { 'a.auto.pkrvars.hcl': 'v = "auto-a"', 'b.auto.pkrvars.hcl': 'v = "auto-b"' },
      {},
      'auto-b',
    ],
    [
      '-var-file beats auto files',
      { 'a.auto.pkrvars.hcl': 'v = "auto"', 'x.pkrvars.hcl': 'v = "file"' },
      { varFiles: ['x.pkrvars.hcl'] },
      'file',
    ],
    [
      'later -var-file wins',
      { 'x.pkrvars.hcl': 'v = "x"', 'y.pkrvars.json': '{"v": "y"}' },
      { varFiles: ['x.pkrvars.hcl', 'y.pkrvars.json'] },
      'y',
    ],
    [
      '-var beats everything',
      { 'x.pkrvars.hcl': 'v = "file"' },
      { varFiles: ['x.pkrvars.hcl'], vars: [['v', 'cli']] as const, env: { PKR_VAR_v: 'env' } },
      'cli',
    ],
    [
      'last -var wins',
      {},
      {
        vars: [
          ['v', 'one'],
          ['v', 'two'],
        ] as const,
      },
      'two',
    ],
  ])('%s', async (_name, files, opts, expected) => {
    const { r, config: c } = await config(files, opts as LoadOptions);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(c.v).toBe(expected);
    expect(r.template?.variables.find((v) => v.name === 'v')?.value).toBe(expected);
  });

  it('converts string inputs to the declared types', async () => {
    const { r, config: c } = await config(
      {},
      {
        vars: [
          ['n', '42'],
          ['flags', '["a", "b"]'],
          ['cfg', '{ size = 3 }'],
          ['untyped', '[1]'],
        ],
        env: { PKR_VAR_v: '12' },
      },
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(c).toMatchObject({ v: '12', n: 42, flags: ['a', 'b'], cfg: { size: 3, name: 'anon' }, untyped: '[1]' });
    expect(r.template?.variables.find((v) => v.name === 'n')?.valueSource).toBe('var');
  });

  it('collects sensitive values for redaction', async () => {
    const { r } = await config({}, { vars: [['secret', 'pa55']] });
    expect(r.template?.sensitiveValues).toEqual(['pa55']);
  });

  it('rejects an undeclared -var, warns on an undeclared var-file entry', async () => {
    const { r } = await config(
      { 'x.pkrvars.hcl': 'nope = 1' },
      { vars: [['missing', '1']], varFiles: ['x.pkrvars.hcl'] },
    );
    expect(r.diagnostics.find((d) => d.summary === 'Undefined -var variable')?.severity).toBe('error');
    const w = r.diagnostics.find((d) => d.summary === 'Undefined variable');
    expect(w?.severity).toBe('warning');
    expect(w?.range?.start).toEqual({ line: 1, column: 1 });
  });

  it('reports a value that does not match the type', async () => {
    const { r } = await config({}, { vars: [['n', 'abc']] });
    const d = r.diagnostics.find((x) => x.summary === 'Invalid value for variable');
    expect(d?.detail).toMatch(/var\.n.*a number is required/);
  });

  it('ignores PKR_VAR_ for undeclared variables', async () => {
    const { r } = await config({}, { env: { PKR_VAR_other: 'x' } });
    expect(r.diagnostics).toEqual([]);
  });
});
