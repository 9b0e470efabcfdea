/** loadTemplate end to end: front-end choice, validation after parsing, and the two reference templates. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { frontEndKind } from '../../../core/frontends/parse.ts';
import { planTemplate } from '../../../core/plan/plan.ts';
import { isPostProcessor, provisionerOf } from '../../../core/plan/typed.ts';
import { error } from '../../../core/template/diagnostics.ts';
import type { LoadResult } from '../../../core/template/model.ts';
import { loadTemplate } from '../../../core/validation/load.ts';
import { build, template } from '../plan/template-builders.ts';

// The reference templates, unchanged: the repository's copies (test/conformance/shared-copies.test.ts checks they
// match ../shared/examples byte for byte).
const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples');

describe('frontEndKind', () => {
  it('sends legacy .json to the JSON front end and .pkr.hcl, .pkr.json and directories to HCL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-load-'));
    mkdirSync(join(dir, 'tpl.json'));
    expect(frontEndKind('/x/template.json')).toBe('json');
    expect(frontEndKind('/x/template.JSON')).toBe('json');
    expect(frontEndKind('/x/build.pkr.json')).toBe('hcl');
    expect(frontEndKind('/x/build.pkr.hcl')).toBe('hcl');
    expect(frontEndKind(dir)).toBe('hcl');
    expect(frontEndKind(join(dir, 'tpl.json'))).toBe('hcl');
  });
});

describe('loadTemplate', () => {
  const badDocker: LoadResult = {
    template: template([build({ builderType: 'docker', config: { image: 'x' } })]),
    diagnostics: [],
    sources: new Map(),
  };

  it('validates components after a clean parse', async () => {
    const result = await loadTemplate('t.json', {}, { frontEnd: async () => badDocker });
    expect(result.diagnostics.map((d) => d.summary)).toEqual([
      'exactly one of commit, discard or export_path must be set',
    ]);
  });

  it('stops after the syntax check when asked, and after front-end errors', async () => {
    expect(
      (await loadTemplate('t.json', { syntaxOnly: true }, { frontEnd: async () => badDocker })).diagnostics,
    ).toEqual([]);
    const failed = { ...badDocker, diagnostics: [error('required variable not set: x')] };
    const result = await loadTemplate('t.json', {}, { frontEnd: async () => failed });
    expect(result.diagnostics.map((d) => d.summary)).toEqual(['required variable not set: x']);
  });

  it('validates and plans the docker reference template: ec2-docker, docker-tag my-python-app with an empty tag', async () => {
    const result = await loadTemplate(join(EXAMPLES, 'docker-python-app.json'), { cwd: EXAMPLES, env: {} });
    expect(result.diagnostics).toEqual([]);
    const plan = planTemplate(result.template ?? template([]), { now: new Date(0) });
    expect(plan.builds).toHaveLength(1);
    const [b] = plan.builds;
    expect(b?.driver).toBe('ec2-docker');
    expect(b?.summary).toEqual({ image: 'python:3.9-slim', ecrRepository: 'my-python-app' });
    expect(b?.provisioners.map((p) => p.type)).toEqual(['shell']);
    // `tag: ""` decodes as Packer's string → []string hook does: no tags (docker then tags `latest`).
    const tagged = b?.postProcessors.flat().filter((p) => isPostProcessor(p, 'docker-tag'));
    expect(tagged?.map((p) => [p.type, p.config.repository, p.config.tag])).toEqual([
      ['docker-tag', 'my-python-app', []],
    ]);
  });

  it('validates and plans the vmware reference template to an agent', async () => {
    const result = await loadTemplate(join(EXAMPLES, 'vmware-ubuntu-apache.json'), { cwd: EXAMPLES, env: {} });
    expect(result.diagnostics).toEqual([]);
    const plan = planTemplate(result.template ?? template([]), { now: new Date(0) });
    expect(plan.builds.map((b) => [b.builderType, b.driver, b.summary.agentLabels])).toEqual([
      ['vmware-iso', 'agent', ['builder:vmware-iso']],
    ]);
    const shell = plan.builds[0]?.provisioners[0];
    expect(shell && provisionerOf(shell, 'shell').config.inline).toEqual([
      'sudo apt-get update',
      'sudo apt-get install -y apache2',
    ]);
  });
});
