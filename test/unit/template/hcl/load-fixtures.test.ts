/** Table-driven over test/fixtures/hcl: valid templates (builds, order, config) and invalid ones (summary + position). */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';
import { hasErrors } from '../../../../core/template/diagnostics.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../fixtures/hcl');
const load = (rel: string, opts = {}) => loadHclTemplate(rel, { cwd: FIXTURES, ...opts });

describe('invalid HCL fixtures', () => {
  it.each([
    [
      'invalid/undeclared-variable.pkr.hcl',
      'Reference to undeclared input variable',
      7,
      18,
      /"regoin".*Did you mean "region"/s,
    ],
    ['invalid/duplicate-source.pkr.hcl', 'Duplicate source block', 5, 15, /invalid\/duplicate-source.pkr.hcl:1,1/],
    ['invalid/unknown-source.pkr.hcl', 'Unknown source amazon-ebs.nope', 8, 5, /Known: \[null.example\]/],
    ['invalid/unknown-block.pkr.hcl', 'Unsupported block type', 1, 1, /"sourc".*Did you mean "source"/s],
    ['invalid/local-cycle.pkr.hcl', 'Cycle in local variables', 4, 7, /local\.a -> local\.b -> local\.c -> local\.a/],
    ['invalid/missing-newline.pkr.hcl', 'Missing newline after argument', 2, 25, /must end with a newline/],
    ['invalid/unclosed-block.pkr.hcl', 'Unclosed configuration block', 1, 25, /no closing brace/],
    ['invalid/unknown-function.pkr.hcl', 'Call to unknown function', 3, 18, /Did you mean "upper"/],
    ['invalid/duplicate-variable.pkr.hcl', 'Duplicate variable', 5, 10, /Duplicate a variable/],
    ['invalid/unset-variable.pkr.hcl', 'Unset variable "region"', 1, 10, /must be set or have a default/],
    ['invalid/bad-timeout.pkr.hcl', 'Failed to parse timeout duration', 8, 3, /missing unit in duration "5"/],
    ['invalid/required-version.pkr.hcl', 'Unsupported Packer Core version', 2, 22, /Packer version 1\.16\.0/],
    ['invalid/variable-validation.pkr.hcl', 'Invalid value for variable', 6, 21, /must start with "ami-"/],
    [
      'invalid/unsupported-build-block.pkr.hcl',
      'Unsupported block type',
      7,
      3,
      /"provisoner".*Did you mean "provisioner"/s,
    ],
  ])('%s → %s at %i:%i', async (file, summary, line, column, detail) => {
    const r = await load(file);
    const d = r.diagnostics.find((x) => x.summary === summary);
    expect(d, JSON.stringify(r.diagnostics, null, 1)).toBeDefined();
    expect(d?.severity).toBe('error');
    expect(d?.range?.file).toBe(file);
    expect([d?.range?.start.line, d?.range?.start.column]).toEqual([line, column]);
    expect(d?.detail ?? '').toMatch(detail);
    expect(r.sources.get(file)).toBeDefined();
  });
});

describe('valid HCL fixtures', () => {
  it('keeps provisioners in file order across types, with only/except/override per source', async () => {
    const r = await load('valid/provisioner-order.pkr.hcl');
    expect(hasErrors(r.diagnostics), JSON.stringify(r.diagnostics)).toBe(false);
    const builds = r.template?.builds ?? [];
    expect(builds.map((b) => b.name)).toEqual(['app.null.first', 'app.null.second']);
    const [first, second] = builds;
    expect(first?.provisioners.map((p) => p.type)).toEqual(['shell', 'file', 'shell']);
    expect(second?.provisioners.map((p) => p.type)).toEqual(['shell', 'shell', 'breakpoint']);
    expect(first?.provisioners[0]?.config.inline).toEqual(['echo one first']);
    expect(second?.provisioners[1]?.config.inline).toEqual(['echo overridden']);
    expect(first?.provisioners[2]?.config).toEqual({ inline: ['echo three'] });
    expect(first?.provisioners[1]).toMatchObject({ pauseBefore: '10s', config: { source: 'a.txt' } });
    expect(first?.provisioners[2]).toMatchObject({ maxRetries: 3, timeout: '5m' });
    expect(first?.errorCleanupProvisioner?.type).toBe('shell-local');
    expect(first?.postProcessors.map((c) => c.map((p) => p.type))).toEqual([['manifest'], ['shell-local', 'checksum']]);
    expect(first?.postProcessors[1]?.[1]).toMatchObject({
      keepInputArtifact: true,
      config: { checksum_types: ['sha256'] },
    });
    expect(first?.keyRanges?.communicator?.start).toEqual({ line: 2, column: 3 });
    expect(first?.buildBlockName).toBe('app');
  });

  it('-only and -except match build names with globs', async () => {
    const only = await load('valid/provisioner-order.pkr.hcl', { only: ['*.second'] });
    expect(only.template?.builds.map((b) => b.name)).toEqual(['app.null.second']);
    const except = await load('valid/provisioner-order.pkr.hcl', { except: ['app.null.f*', 'manifest'] });
    expect(except.template?.builds.map((b) => b.name)).toEqual(['app.null.second']);
    expect(except.template?.builds[0]?.postProcessors.map((c) => c.map((p) => p.type))).toEqual([
      ['shell-local', 'checksum'],
    ]);
  });

  it('evaluates locals in any order, nested and dynamic blocks, build-level source renames', async () => {
    const r = await load('valid/source-nested-blocks.pkr.hcl');
    expect(hasErrors(r.diagnostics), JSON.stringify(r.diagnostics)).toBe(false);
    const [b] = r.template?.builds ?? [];
    expect(b?.name).toBe('amazon-ebs.renamed');
    expect(b?.sourceName).toBe('renamed');
    expect(b?.config.ami_name).toBe('KILN-dev');
    expect(b?.config.ssh_username).toBe('admin');
    expect(b?.config.source_ami_filter).toEqual({
      filters: { name: 'ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*', 'root-device-type': 'ebs' },
      owners: ['099720109477'],
      most_recent: true,
    });
    expect(b?.config.launch_block_device_mappings).toEqual([
      { device_name: '/dev/sda1', volume_size: 10 },
      { device_name: '/dev/sdb', volume_size: 20 },
      { device_name: '/dev/sdc', volume_size: 40 },
    ]);
    expect(b?.config.tags).toEqual({ Name: 'KILN-dev', Base: '{{ .SourceAMIName }}' });
    expect(r.template?.sensitiveValues).toContain('s3cr3t-dev');
    expect(b?.keyRanges?.source_ami_filter?.start.line).toBe(25);
  });

  it('loads a directory with auto var files', async () => {
    const r = await load('valid/multi-file');
    expect(hasErrors(r.diagnostics), JSON.stringify(r.diagnostics)).toBe(false);
    expect(r.template?.files.map((f) => f.split('/').pop())).toEqual([
      'build.pkr.hcl',
      'variables.pkr.hcl',
      'region.auto.pkrvars.hcl',
    ]);
    expect(r.template?.builds[0]?.config.ami_name).toBe('base-eu-west-1-3');
    expect(r.template?.variables.find((v) => v.name === 'region')).toMatchObject({
      required: true,
      value: 'eu-west-1',
      type: 'string',
    });
  });

  it('loads HCL JSON syntax', async () => {
    const r = await load('valid/template.pkr.json');
    expect(hasErrors(r.diagnostics), JSON.stringify(r.diagnostics)).toBe(false);
    const [b] = r.template?.builds ?? [];
    expect(b?.name).toBe('null.example');
    expect(b?.config.label).toBe('JSON');
    expect(b?.provisioners.map((p) => p.type)).toEqual(['shell-local', 'file', 'shell-local']);
    expect(b?.provisioners[0]?.config.inline).toEqual(['echo json']);
  });

  it('leaves build.* unknown until run time', async () => {
    const r = await load('valid/provisioner-order.pkr.hcl');
    expect(r.template?.format).toBe('hcl');
    expect(r.template?.builds[0]?.config.communicator).toBe('none');
    // Packer's own `complete` testdata: test/conformance/shared-copies.test.ts (needs ../shared).
  });
});

describe('templating', () => {
  it('renders templatefile, heredocs with directives and path.root', async () => {
    // File functions resolve against the template directory (Packer's basedir), so "${path.root}/x" works when
    // Packer runs from the template directory, as here.
    const r = await loadHclTemplate('.', { cwd: resolve(FIXTURES, 'valid/templating') });
    expect(hasErrors(r.diagnostics), JSON.stringify(r.diagnostics)).toBe(false);
    const config = r.template?.builds[0]?.config ?? {};
    expect(config.user_data).toBe('#cloud-config\nhostname: kiln\nusers:\n- name: alice\n- name: bob\n');
    expect(config.motd).toBe('Welcome to KILN\n- alice\n- bob\n');
    expect(config.script_dir).toBe('./scripts');
    expect(config.version).toBe('1.16.0');
  });
});
