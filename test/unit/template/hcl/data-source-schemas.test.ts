// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are HCL source, where ${} is HCL interpolation.
/**
 * Data sources are checked offline against their schemas (packer-plugin-amazon's data.hcl2spec.go and Configure,
 * Packer's null data source), with HCL's wording and the position of the offending name.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';

const BUILD = '\nsource "null" "x" {\n  communicator = "none"\n}\n\nbuild {\n  sources = ["source.null.x"]\n}\n';

async function load(data: string) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-ds-'));
  writeFileSync(join(dir, 'main.pkr.hcl'), data + BUILD);
  return loadHclTemplate('main.pkr.hcl', { cwd: dir });
}

const errorsOf = async (data: string) =>
  (await load(data)).diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => ({
      summary: d.summary,
      detail: d.detail ?? '',
      line: d.range?.start.line,
      col: d.range?.start.column,
    }));

const AMI_OK = 'data "amazon-ami" "u" {\n  filters = { name = "ubuntu-*" }\n  owners  = ["099720109477"]\n';

describe('data source schemas', () => {
  it.each([
    [
      'amazon-ami',
      `${AMI_OK}  most_recent = true\n  region = "eu-west-1"\n  assume_role {\n    role_arn = "arn:aws:iam::1:role/x"\n  }\n}\n`,
    ],
    ['amazon-parameterstore', 'data "amazon-parameterstore" "p" {\n  name = "/x"\n  with_decryption = true\n}\n'],
    [
      'amazon-secretsmanager',
      'data "amazon-secretsmanager" "s" {\n  name = "db"\n  key = "pw"\n  version_stage = "AWSPREVIOUS"\n}\n',
    ],
    ['null', 'data "null" "n" {\n  input = "x"\n}\n'],
    [
      'values known only at run time',
      'data "amazon-parameterstore" "p" {\n  name = "/owner"\n}\ndata "amazon-ami" "u" {\n  filters = { name = "x" }\n  owners = [data.amazon-parameterstore.p.value]\n}\n',
    ],
    [
      'a dynamic assume_role block',
      `${AMI_OK}  dynamic "assume_role" {\n    for_each = ["arn:aws:iam::1:role/x"]\n    content {\n      role_arn = assume_role.value\n    }\n  }\n}\n`,
    ],
  ])('accepts a valid %s', async (_name, data) => {
    expect(await errorsOf(data)).toEqual([]);
  });

  // [case, data block(s), summary, detail fragment, line, column]
  it.each([
    [
      'a filters block where the schema wants a map',
      'data "amazon-ami" "u" {\n  filters {\n    name = "x"\n  }\n  owners = ["self"]\n}\n',
      'Unsupported block type',
      'Blocks of type "filters" are not expected here. Did you mean to define argument "filters"? If so, use the equals sign to assign it a value.',
      2,
      3,
    ],
    [
      'a filter block (no such block or argument)',
      `${AMI_OK}  filter {\n    name = "x"\n  }\n}\n`,
      'Unsupported block type',
      'Blocks of type "filter" are not expected here.',
      4,
      3,
    ],
    [
      'an assume_role attribute where the schema wants a block',
      `${AMI_OK}  assume_role = { role_arn = "x" }\n}\n`,
      'Unsupported argument',
      'An argument named "assume_role" is not expected here. Did you mean to define a block of type "assume_role"?',
      4,
      3,
    ],
    [
      'two assume_role blocks',
      `${AMI_OK}  assume_role {\n    role_arn = "a"\n  }\n  assume_role {\n    role_arn = "b"\n  }\n}\n`,
      'Duplicate assume_role block',
      'Only one "assume_role" block is allowed.',
      7,
      3,
    ],
    [
      'a misspelled argument',
      'data "amazon-ami" "u" {\n  filters = { name = "x" }\n  ownerz = ["self"]\n}\n',
      'Unsupported argument',
      'An argument named "ownerz" is not expected here. Did you mean "owners"?',
      3,
      3,
    ],
    [
      'an argument of another data source',
      'data "amazon-parameterstore" "p" {\n  name = "/x"\n  key = "k"\n}\n',
      'Unsupported argument',
      'An argument named "key" is not expected here.',
      3,
      3,
    ],
    [
      'an unknown argument inside assume_role',
      `${AMI_OK}  assume_role {\n    role_arnn = "x"\n  }\n}\n`,
      'Unsupported argument',
      'role_arnn',
      4,
      3,
    ],
    [
      'a list where the schema wants a map',
      'data "amazon-ami" "u" {\n  filters = ["x"]\n  owners = ["self"]\n}\n',
      'Incorrect attribute value type',
      'Inappropriate value for attribute "filters": map of string required.',
      2,
      3,
    ],
    [
      'a list where the schema wants a bool',
      `${AMI_OK}  most_recent = [true]\n}\n`,
      'Incorrect attribute value type',
      'Inappropriate value for attribute "most_recent": bool required.',
      4,
      3,
    ],
    [
      'a string that is no bool',
      'data "amazon-parameterstore" "p" {\n  name = "/x"\n  with_decryption = "yes"\n}\n',
      'Incorrect attribute value type',
      'Inappropriate value for attribute "with_decryption": a bool is required.',
      3,
      3,
    ],
    [
      'an object where the schema wants a string',
      'data "null" "n" {\n  input = { a = 1 }\n}\n',
      'Incorrect attribute value type',
      'Inappropriate value for attribute "input": string required.',
      2,
      3,
    ],
    [
      'amazon-ami without owners',
      'data "amazon-ami" "u" {\n  filters = { name = "x" }\n}\n',
      'For security reasons, you must declare an owner.',
      '',
      1,
      1,
    ],
    [
      'amazon-ami with empty filters',
      'data "amazon-ami" "u" {\n  filters = {}\n  owners = ["self"]\n}\n',
      'The `filters` must be specified',
      '',
      1,
      1,
    ],
    [
      'amazon-parameterstore without name',
      'data "amazon-parameterstore" "p" {\n}\n',
      "a 'name' must be provided",
      '',
      1,
      1,
    ],
    [
      'amazon-secretsmanager with an empty name',
      'data "amazon-secretsmanager" "s" {\n  name = ""\n}\n',
      "a 'name' must be provided",
      '',
      1,
      1,
    ],
    ['null without input', 'data "null" "n" {\n}\n', 'The `input` must be specified', '', 1, 1],
    [
      'access_key without secret_key',
      'data "amazon-parameterstore" "p" {\n  name = "/x"\n  access_key = "AKIA"\n}\n',
      '`access_key` and `secret_key` must both be either set or not set.',
      '',
      3,
      3,
    ],
  ])('refuses %s', async (_name, data, summary, detail, line, col) => {
    const errors = await errorsOf(data);
    expect(errors[0]).toMatchObject({ summary, line, col });
    expect(errors[0]?.detail).toContain(detail);
  });

  it('stops at decoding: a body HCL cannot decode gets no Configure check', async () => {
    const errors = await errorsOf('data "amazon-ami" "u" {\n  filters {\n    name = "x"\n  }\n}\n');
    expect(errors.map((e) => e.summary)).toEqual(['Unsupported block type']);
  });

  it('resolves the null data source offline: its output is its input', async () => {
    const r = await load(
      'data "null" "n" {\n  input = "ami-${upper("x")}"\n}\nlocals {\n  v = data.null.n.output\n}\n',
    );
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const bad = await errorsOf('data "null" "n" {\n  input = "x"\n}\nlocals {\n  v = data.null.n.input\n}\n');
    expect(bad[0]?.summary).toBe('Unsupported attribute');
  });

  it.each([
    [
      '2000 unknown arguments',
      `data "null" "n" {\n  input = "x"\n${Array.from({ length: 2000 }, (_, i) => `  a${i} = ${i}\n`).join('')}}\n`,
      'Unsupported argument',
    ],
    [
      'assume_role blocks nested 150 deep',
      `${AMI_OK}${'  assume_role {\n'.repeat(150)}${'  }\n'.repeat(150)}}\n`,
      'Unsupported argument',
    ],
    [
      'a 400 KB name',
      `data "amazon-parameterstore" "p" {\n  name = "${'x'.repeat(400_000)}"\n  bogus = 1\n}\n`,
      'Unsupported argument',
    ],
  ])('hostile: %s is reported, not a crash', async (_name, data, summary) => {
    const errors = await errorsOf(data);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.summary).toBe(summary);
  });
});
