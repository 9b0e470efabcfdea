import { describe, expect, it } from 'vitest';
import { inspectEvents, renderInspectMachine, renderInspectText } from '../../../cli/inspect-render.ts';
import { parseMachineLine } from '../../../cli/machine-readable.ts';
import type { BuildDef, Template } from '../../../core/template/model.ts';

const build = (name: string, builderType: string, provisioners: string[], chains: string[][]): BuildDef => ({
  name,
  builderType,
  sourceName: name,
  config: {},
  provisioners: provisioners.map((type) => ({ type, config: {} })),
  postProcessors: chains.map((chain) => chain.map((type) => ({ type, config: {} }))),
});

const template: Template = {
  format: 'json',
  path: 't.json',
  dir: '.',
  files: ['t.json'],
  requiredPlugins: [],
  variables: [
    { name: 'region', sensitive: false, required: false, value: 'us-east-1,eu-west-1' },
    { name: 'password', sensitive: true, required: false, value: 'hunter2' },
    { name: 'url', sensitive: false, required: false, value: 'https://u:hunter2@example.com' },
    { name: 'needed', sensitive: false, required: true },
  ],
  sensitiveValues: ['hunter2'],
  builds: [
    build('docker', 'docker', ['shell', 'file'], [['docker-tag', 'docker-push'], ['manifest']]),
    build('one', 'null', [], []),
  ],
};

describe('inspect rendering', () => {
  const events = inspectEvents(template);

  it('lists required variables apart and hides sensitive values wherever they appear', () => {
    const text = renderInspectText(events);
    expect(text).toContain('Required variables:\n\n  needed\n');
    expect(text).toContain('  password = <sensitive>');
    expect(text).toContain('  url      = https://u:<sensitive>@example.com');
    expect(text).not.toContain('hunter2');
  });

  it('shows builds with their type, provisioners in order and post-processor chains', () => {
    const text = renderInspectText(events);
    expect(text).toContain('  one     (null)');
    expect(text).toMatch(/Build docker:\n\n {2}Provisioners:\n {4}shell\n {4}file\n/);
    expect(text).toContain('    0: docker-tag -> docker-push');
    expect(text).toContain('    1: manifest');
  });

  it('emits Packer-shaped machine-readable events', () => {
    const lines = renderInspectMachine(events, new Date(1_000_000)).trimEnd().split('\n').map(parseMachineLine);
    expect(lines).toContainEqual(['1000', '', 'template-variable', 'region', 'us-east-1,eu-west-1', '0']);
    expect(lines).toContainEqual(['1000', '', 'template-variable', 'needed', '', '1']);
    expect(lines).toContainEqual(['1000', '', 'template-builder', 'one', 'null']);
    const provisioners = lines.filter((l) => l[2] === 'template-provisioner').map((l) => `${l[1]}:${l[3]}`);
    expect(provisioners).toEqual(['docker:shell', 'docker:file']);
    expect(renderInspectMachine(events, new Date(0))).not.toContain('hunter2');
  });
});
