// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are HCL source, where ${} is HCL interpolation.
/**
 * The `build` block's full grammar (Packer 1.7+, hcl2template/types.build.go with dynblock expansion):
 * `sources = <expression evaluating to a list of source references>`, and `dynamic` blocks generating build-level
 * `source`, `provisioner`, `post-processor` (also inside `post-processors`) and `error-cleanup-provisioner` blocks.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';

async function loadText(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-grammar-'));
  writeFileSync(join(dir, 'main.pkr.hcl'), text);
  return loadHclTemplate('main.pkr.hcl', { cwd: dir });
}

const SOURCES =
  'source "null" "a" {\n  communicator = "none"\n}\nsource "null" "b" {\n  communicator = "none"\n}\nsource "docker" "c" {\n  image = "alpine"\n}\n';

const errors = (r: Awaited<ReturnType<typeof loadText>>) =>
  r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.summary, d.detail, d.range?.start.line]);

describe('build: sources = <expression>', () => {
  it.each([
    ['a local', 'locals {\n  refs = ["source.null.a", "null.b"]\n}\n', 'local.refs'],
    ['a for expression', '', '[for n in ["a", "b"] : "source.null.${n}"]'],
    ['a variable', 'variable "refs" {\n  default = ["source.null.a", "source.null.b"]\n}\n', 'var.refs'],
    ['a conditional', '', 'true ? ["source.null.a", "source.null.b"] : []'],
    ['a function call', '', 'concat(["source.null.a"], ["source.null.b"])'],
  ])('takes %s', async (_what, decls, expr) => {
    const r = await loadText(`${SOURCES}${decls}build {\n  sources = ${expr}\n}\n`);
    expect(errors(r)).toEqual([]);
    expect(r.template?.builds.map((b) => b.name)).toEqual(['null.a', 'null.b']);
  });

  it.each([
    ['a string', '"source.null.a"', 'Unsuitable value: list of string required'],
    ['an object', '{ a = "source.null.a" }', 'Unsuitable value: list of string required'],
    ['a list holding a list', 'local.nested', 'Unsuitable value: element 0: string required'],
  ])("refuses %s, with HCL's message", async (_what, expr, detail) => {
    const r = await loadText(
      `${SOURCES}locals {\n  nested = [["source.null.a"]]\n}\nbuild {\n  sources = ${expr}\n}\n`,
    );
    expect(errors(r)).toEqual([['Unsuitable value type', detail, 14]]);
  });

  it('refuses a reference that is not type.name, and names an unknown one', async () => {
    const r = await loadText(`${SOURCES}build {\n  sources = ["nodot", "null.zzz"]\n}\n`);
    const [invalid, unknown] = errors(r);
    expect(invalid?.[0]).toBe('Invalid source reference');
    expect(invalid?.[1]).toMatch(/source\.type\.name/);
    expect(unknown?.slice(0, 2)).toEqual(['Unknown source null.zzz', 'Known: [null.a null.b docker.c]']);
  });
});

describe('build: dynamic blocks', () => {
  it('expands dynamic "source" in place, with the iterator in the labels and the content', async () => {
    const r = await loadText(
      `${SOURCES}build {\n  dynamic "source" {\n    for_each = { x = "debian", y = "ubuntu" }\n    iterator = img\n    labels   = ["source.docker.c"]\n    content {\n      name  = "c-\${img.key}"\n      image = img.value\n    }\n  }\n}\n`,
    );
    expect(errors(r)).toEqual([]);
    expect(r.template?.builds.map((b) => [b.name, b.config.image])).toEqual([
      ['docker.c-x', 'debian'],
      ['docker.c-y', 'ubuntu'],
    ]);
  });

  it('expands dynamic "provisioner" among static ones, in file order, with source.name still known', async () => {
    const r = await loadText(
      `${SOURCES}build {\n  sources = ["null.a"]\n  provisioner "shell-local" {\n    inline = ["first"]\n  }\n  dynamic "provisioner" {\n    for_each = ["shell-local", "shell-local"]\n    labels   = [provisioner.value]\n    content {\n      inline = ["step \${provisioner.key} on \${source.name}"]\n    }\n  }\n  provisioner "shell-local" {\n    inline = ["last"]\n  }\n}\n`,
    );
    expect(errors(r)).toEqual([]);
    expect(r.template?.builds[0]?.provisioners.map((p) => [p.type, p.config.inline])).toEqual([
      ['shell-local', ['first']],
      ['shell-local', ['step 0 on a']],
      ['shell-local', ['step 1 on a']],
      ['shell-local', ['last']],
    ]);
  });

  it('applies only/except written inside a dynamic provisioner to each source', async () => {
    const r = await loadText(
      `${SOURCES}build {\n  sources = ["null.a", "null.b"]\n  dynamic "provisioner" {\n    for_each = ["null.a"]\n    labels   = ["shell-local"]\n    content {\n      only   = [provisioner.value]\n      inline = ["only on a"]\n    }\n  }\n}\n`,
    );
    expect(r.template?.builds.map((b) => b.provisioners.length)).toEqual([1, 0]);
  });

  it('expands dynamic post-processors, alone and inside a post-processors chain', async () => {
    const r = await loadText(
      `${SOURCES}build {\n  sources = ["null.a"]\n  dynamic "post-processor" {\n    for_each = ["one.json"]\n    labels   = ["manifest"]\n    content {\n      output = post-processor.value\n    }\n  }\n  post-processors {\n    dynamic "post-processor" {\n      for_each = ["x", "y"]\n      iterator = pp\n      labels   = ["shell-local"]\n      content {\n        inline = [pp.value]\n      }\n    }\n  }\n}\n`,
    );
    expect(errors(r)).toEqual([]);
    expect(r.template?.builds[0]?.postProcessors.map((chain) => chain.map((p) => p.type))).toEqual([
      ['manifest'],
      ['shell-local', 'shell-local'],
    ]);
    expect(r.template?.builds[0]?.postProcessors[1]?.[1]?.config.inline).toEqual(['y']);
  });

  it('makes nothing for an empty for_each', async () => {
    const r = await loadText(
      `${SOURCES}build {\n  sources = ["null.a"]\n  dynamic "provisioner" {\n    for_each = []\n    labels   = ["shell-local"]\n    content {\n      inline = ["never"]\n    }\n  }\n}\n`,
    );
    expect(errors(r)).toEqual([]);
    expect(r.template?.builds[0]?.provisioners).toEqual([]);
  });

  const dyn = (inner: string, type = 'provisioner') =>
    loadText(`${SOURCES}build {\n  sources = ["null.a"]\n  dynamic "${type}" {\n${inner}\n  }\n}\n`);

  it.each([
    ['no labels', '    for_each = [1]\n    content {}', 'Missing required argument', /"labels" is required/],
    [
      'too many labels',
      '    for_each = [1]\n    labels = ["a", "b"]\n    content {}',
      'Extraneous dynamic block label',
      /"provisioner" require 1 label/,
    ],
    [
      'no label in the list',
      '    for_each = [1]\n    labels = []\n    content {}',
      'Insufficient dynamic block labels',
      /require 1 label/,
    ],
    ['no for_each', '    labels = ["shell"]\n    content {}', 'Missing required argument', /"for_each" is required/],
    ['no content', '    for_each = [1]\n    labels = ["shell"]', 'Missing dynamic content block', /"content"/],
    [
      'a string for_each',
      '    for_each = "abc"\n    labels = ["shell"]\n    content {}',
      'Invalid dynamic for_each value',
      /Cannot use a string value in for_each/,
    ],
    [
      'a null label',
      '    for_each = [1]\n    labels = [null]\n    content {}',
      'Invalid dynamic block label',
      /null value/,
    ],
    [
      'an object label',
      '    for_each = [1]\n    labels = [{ a = 1 }]\n    content {}',
      'Invalid dynamic block label',
      /string required/,
    ],
  ])('refuses a dynamic block with %s', async (_what, inner, summary, detail) => {
    const [d] = errors(await dyn(inner));
    expect(d?.[0]).toBe(summary);
    expect(d?.[1]).toMatch(detail);
  });

  it('refuses a dynamic block of a type the build does not hold', async () => {
    const [d] = errors(await dyn('    for_each = [1]\n    content {}', 'variable'));
    expect(d?.slice(0, 2)).toEqual(['Unsupported block type', 'Blocks of type "variable" are not expected here.']);
  });
});

describe('build: at least one source', () => {
  it.each([
    ['no sources at all', '  name = "x"'],
    ['an empty sources list', '  sources = []'],
    [
      'a dynamic source over an empty collection',
      '  dynamic "source" {\n    for_each = []\n    labels = ["null.a"]\n    content {}\n  }',
    ],
  ])('refuses a build with %s (Packer 1.7+: missing source reference)', async (_what, inner) => {
    const r = await loadText(`${SOURCES}build {\n${inner}\n}\n`);
    expect(errors(r)).toEqual([
      ['missing source reference', 'a build block must reference at least one source to be built', 10],
    ]);
  });
});
