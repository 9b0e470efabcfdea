/**
 * HCL templates are decoded with HCL's own type rules (cty conversion to each option's HCL2 spec type), legacy
 * JSON with mapstructure's weak decoding: the same option value can be valid in one and refused in the other.
 * Every HCL verdict and message below is what Packer 1.6.6 prints for the same shell-local block (checked on
 * this machine); the cty version Packer pins today (1.13) words them the same.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builderSpec } from '../../../../core/builders/registry.ts';
import { planTemplate } from '../../../../core/plan/plan.ts';
import { PROVISIONERS } from '../../../../core/provisioners/registry.ts';
import { loadTemplate } from '../../../../core/validation/load.ts';

async function loadFile(name: string, text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-strict-'));
  writeFileSync(join(dir, name), text);
  return loadTemplate(name, { cwd: dir });
}

const hcl = (provisioner: string, type = 'shell-local') =>
  loadFile(
    'main.pkr.hcl',
    `source "null" "x" {\n  communicator = "none"\n}\n\nbuild {\n  sources = ["source.null.x"]\n\n  provisioner "${type}" {\n${provisioner}\n  }\n}\n`,
  );

const json = (provisioner: Record<string, unknown>) =>
  loadFile(
    'main.json',
    JSON.stringify({
      builders: [{ type: 'null', communicator: 'none' }],
      provisioners: [{ type: 'shell-local', ...provisioner }],
    }),
  );

const errors = (r: Awaited<ReturnType<typeof loadTemplate>>) => r.diagnostics.filter((d) => d.severity === 'error');

describe('HCL is strictly typed', () => {
  it.each([
    ['a string where the spec wants list(string)', '    inline = "echo hi"', 'inline', 'list of string required'],
    ['an object where the spec wants list(string)', '    inline = { a = "b" }', 'inline', 'list of string required'],
    ['an object inside the list', '    inline = ["a", { b = 1 }]', 'inline', 'element 1: string required'],
    [
      'a comma-separated string for environment_vars',
      '    inline = ["a"]\n    environment_vars = "A=1,B=2"',
      'environment_vars',
      'list of string required',
    ],
    [
      'a number where the spec wants bool',
      '    inline = ["a"]\n    use_linux_pathing = 1',
      'use_linux_pathing',
      'bool required',
    ],
    [
      'a list where the spec wants bool',
      '    inline = ["a"]\n    use_linux_pathing = ["true"]',
      'use_linux_pathing',
      'bool required',
    ],
    [
      'a string that is no bool',
      '    inline = ["a"]\n    use_linux_pathing = "yes"',
      'use_linux_pathing',
      'a bool is required',
    ],
    [
      '"True" (Go would accept it; cty wants lowercase)',
      '    inline = ["a"]\n    use_linux_pathing = "True"',
      'use_linux_pathing',
      'a bool is required; to convert from string, use lowercase "true"',
    ],
    [
      'a list where the spec wants string',
      '    inline = ["a"]\n    inline_shebang = ["a"]',
      'inline_shebang',
      'string required',
    ],
    [
      'an object where the spec wants string',
      '    inline = ["a"]\n    inline_shebang = { a = 1 }',
      'inline_shebang',
      'string required',
    ],
  ])('refuses %s', async (_what, body, attribute, message) => {
    const r = await hcl(body);
    const [d, ...rest] = errors(r);
    expect(rest).toEqual([]);
    expect(d?.summary).toBe('Incorrect attribute value type');
    expect(d?.detail).toBe(`Inappropriate value for attribute "${attribute}": ${message}.`);
    expect(d?.range?.start.line).toBe(body.split('\n').length + 8);
  });

  it.each([
    ['a tuple of mixed primitives for list(string)', '    inline = ["a", 1, true]'],
    ['"1" and "0" for a bool', '    inline = ["a"]\n    only_on = ["linux"]\n    use_linux_pathing = "0"'],
    ['a number and a bool for a string', '    inline = ["a"]\n    inline_shebang = 12.5\n    env_var_format = true'],
    [
      'a list of strings for execute_command (a list in shell-local)',
      '    inline = ["a"]\n    execute_command = ["a"]',
    ],
  ])('accepts %s (HCL conversions)', async (_what, body) => {
    expect(errors(await hcl(body))).toEqual([]);
  });

  it('legacy JSON keeps weak decoding for the same values', async () => {
    expect(errors(await json({ inline: 'echo hi' }))).toEqual([]);
    expect(errors(await json({ inline: ['a'], environment_vars: 'A=1,B=2' }))).toEqual([]);
    expect(errors(await json({ inline: ['a'], use_linux_pathing: 'f' }))).toEqual([]);
    // ... and HCL refuses "f", which is no cty bool.
    expect(errors(await hcl('    inline = ["a"]\n    use_linux_pathing = "f"'))[0]?.detail).toBe(
      'Inappropriate value for attribute "use_linux_pathing": a bool is required.',
    );
  });

  it('checks attributes inside nested blocks by their own types', async () => {
    const r = await loadFile(
      'main.pkr.hcl',
      [
        'source "amazon-ebs" "x" {',
        '  region        = "us-east-1"',
        '  instance_type = "t3.micro"',
        '  source_ami    = "ami-12345678"',
        '  ami_name      = "x"',
        '  ssh_username  = "ubuntu"',
        '  launch_block_device_mappings {',
        '    device_name = "/dev/xvda"',
        '    volume_size = "big"',
        '  }',
        '}',
        'build {',
        '  sources = ["source.amazon-ebs.x"]',
        '}',
        '',
      ].join('\n'),
    );
    expect(errors(r).map((d) => d.detail)).toEqual([
      'Inappropriate value for attribute "volume_size": a number is required.',
    ]);
  });

  it('decodes by the format at plan time: HCL converts with cty, JSON with mapstructure', () => {
    const shell = PROVISIONERS.get('shell');
    if (!shell) throw new Error('shell is registered');
    const written = { inline: ['a', 1, true], expect_disconnect: '1', remote_folder: true, remote_file: 1.5 };
    expect(shell.decode(written, 'hcl')).toMatchObject({
      inline: ['a', '1', 'true'],
      expect_disconnect: true,
      remote_folder: 'true',
      remote_file: '1.5',
    });
    expect(shell.decode(written, 'json')).toMatchObject({ inline: ['a', '1', '1'], remote_folder: '1' });
    const ebs = builderSpec('amazon-ebs');
    expect(ebs?.decode({ launch_block_device_mappings: [{ volume_size: '1e2' }] }, 'hcl')).toMatchObject({
      launch_block_device_mappings: [{ volume_size: 100 }],
    });
  });

  it('plans an HCL template with its options converted', async () => {
    const r = await hcl('    inline = ["a", 2]\n    inline_shebang = true', 'shell');
    expect(errors(r)).toEqual([]);
    if (!r.template) throw new Error('loaded');
    const plan = planTemplate(r.template);
    expect(plan.builds[0]?.provisioners[0]?.config).toMatchObject({ inline: ['a', '2'], inline_shebang: 'true' });
  });
});

describe('HCL is strictly typed: the block attributes Packer decodes itself (gohcl wording)', () => {
  it.each([
    ['max_retries = "2"', undefined],
    ['max_retries = true', 'Unsuitable value: number required'],
    ['max_retries = "many"', 'Unsuitable value: a number is required'],
    ['only = "null.x"', 'Unsuitable value: list of string required'],
    ['only = [["null.x"]]', 'Unsuitable value: element 0: string required'],
    ['name = ["a"]', 'Unsuitable value: string required'],
    ['pause_before = ["1s"]', 'Unsuitable value: string required'],
  ])('provisioner %s', async (attr, detail) => {
    const r = await hcl(`    inline = ["a"]\n    ${attr}`);
    expect(errors(r).map((d) => d.detail)).toEqual(detail ? [detail] : []);
  });

  it('post-processor keep_input_artifact is a bool ("true" converts, "yes" does not)', async () => {
    const pp = (v: string) =>
      loadFile(
        'main.pkr.hcl',
        `source "null" "x" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x"]\n  post-processor "manifest" {\n    keep_input_artifact = ${v}\n  }\n}\n`,
      );
    const ok = await pp('"true"');
    expect(errors(ok)).toEqual([]);
    expect(ok.template?.builds[0]?.postProcessors[0]?.[0]?.keepInputArtifact).toBe(true);
    expect(errors(await pp('"yes"')).map((d) => d.detail)).toEqual(['Unsuitable value: a bool is required']);
  });
});

describe('HCL is strictly typed: blocks and arguments are not interchangeable', () => {
  const ebs = (body: string) =>
    loadFile(
      'main.pkr.hcl',
      `source "amazon-ebs" "x" {\n  region        = "us-east-1"\n  instance_type = "t3.micro"\n  source_ami    = "ami-0123456789abcdef0"\n  ami_name      = "kiln-shape"\n  ssh_username  = "ubuntu"\n${body}\n}\nbuild {\n  sources = ["source.amazon-ebs.x"]\n}\n`,
    );

  it.each([
    [
      'a map argument written as a block (a similar block name is suggested first, as hclsyntax does)',
      '  tags {\n    Name = "x"\n  }',
      'Unsupported block type',
      'Blocks of type "tags" are not expected here. Did you mean "tag"?',
    ],
    [
      'an argument written as a block, no similar block',
      '  ami_description {\n  }',
      'Unsupported block type',
      'Blocks of type "ami_description" are not expected here. Did you mean to define argument "ami_description"? If so, use the equals sign to assign it a value.',
    ],
    [
      'a block written as an argument',
      '  launch_block_device_mappings = [{ device_name = "/dev/xvda", volume_size = 8 }]',
      'Unsupported argument',
      'An argument named "launch_block_device_mappings" is not expected here. Did you mean to define a block of type "launch_block_device_mappings"?',
    ],
    [
      'a dynamic block of an argument',
      '  dynamic "tags" {\n    for_each = ["a"]\n    content {}\n  }',
      'Unsupported block type',
      'Blocks of type "tags" are not expected here.',
    ],
  ])('refuses %s (Packer 1.6.6 says the same)', async (_what, body, summary, detail) => {
    expect(errors(await ebs(body)).map((d) => [d.summary, d.detail, d.range?.start.line])).toEqual([
      [summary, detail, 7],
    ]);
  });

  it('accepts blocks where the schema has blocks, dynamic ones included, and maps as arguments', async () => {
    const r = await ebs(
      '  tags = { Name = "x" }\n  tag {\n    key   = "a"\n    value = "b"\n  }\n  dynamic "launch_block_device_mappings" {\n    for_each = ["/dev/xvdb"]\n    content {\n      device_name = launch_block_device_mappings.value\n      volume_size = 8\n    }\n  }',
    );
    expect(errors(r)).toEqual([]);
  });

  it('refuses an argument of a provisioner written as a block, and checks it once for all builds', async () => {
    const r = await loadFile(
      'main.pkr.hcl',
      'source "null" "x" {\n  communicator = "none"\n}\nsource "null" "y" {\n  communicator = "none"\n}\nbuild {\n  sources = ["source.null.x", "source.null.y"]\n  provisioner "shell-local" {\n    inline {\n    }\n  }\n}\n',
    );
    expect(errors(r).map((d) => [d.summary, d.range?.start.line])).toEqual([['Unsupported block type', 10]]);
  });
});
