/** Template-level rules (one file each under core/validation/rules), with compliant and non-compliant templates. */
import { describe, expect, it } from 'vitest';
import { BuilderConfig } from '../../../core/validation/rules/BuilderConfig.ts';
import { PostProcessorConfig } from '../../../core/validation/rules/PostProcessorConfig.ts';
import { ProvisionerConfig } from '../../../core/validation/rules/ProvisionerConfig.ts';
import { ProvisionerDuration } from '../../../core/validation/rules/ProvisionerDuration.ts';
import { ProvisionerMaxRetries } from '../../../core/validation/rules/ProvisionerMaxRetries.ts';
import { validateTemplate } from '../../../core/validation/validate.ts';
import { build, EBS_CONFIG, template } from '../plan/template-builders.ts';

const ctx = { fileExists: () => false };
const range = { file: 'build.pkr.hcl', start: { line: 3, column: 3 }, end: { line: 3, column: 20 } };
const summaries = (ds: readonly { summary: string }[]) => ds.map((d) => d.summary);

describe('BuilderConfig', () => {
  it('passes a compliant amazon-ebs build', () => {
    expect(BuilderConfig(template([build({ builderType: 'amazon-ebs', config: EBS_CONFIG })]), ctx)).toEqual([]);
  });

  it('points an unknown key at its range with a suggestion', () => {
    const t = template([
      build({ builderType: 'docker', config: { image: 'x', commit: true, comit: true }, keyRanges: { comit: range } }),
    ]);
    expect(BuilderConfig(t, ctx)).toEqual([
      { severity: 'error', summary: 'Unknown configuration key: "comit"', detail: 'Did you mean "commit"?', range },
    ]);
  });

  it('warns that another official builder is checked by the agent', () => {
    const [d] = BuilderConfig(template([build({ builderType: 'qemu', config: { anything: 1 } })]), ctx);
    expect(d?.severity).toBe('warning');
    expect(d?.detail).toContain("checked by the agent's packer");
  });

  it('rejects a type that is no Packer builder, with did-you-mean', () => {
    const [d] = BuilderConfig(template([build({ builderType: 'amazon-eb', config: {} })]), ctx);
    expect(d?.summary).toBe(
      'The builder amazon-eb is unknown by Packer, and is likely part of a plugin that is not installed.',
    );
    expect(d?.detail).toBe('Did you mean "amazon-ebs"?');
  });

  it('names the third-party plugin a builder needs; a declared plugin is only a warning', () => {
    const undeclared = BuilderConfig(template([build({ builderType: 'parallels-iso', config: {} })]), ctx);
    expect(undeclared[0]?.severity).toBe('error');
    expect(undeclared[0]?.summary).toContain('github.com/Parallels/parallels');
    const declared = BuilderConfig(
      template([build({ builderType: 'parallels-iso', config: {} })], {
        requiredPlugins: [{ name: 'parallels', source: 'github.com/Parallels/parallels' }],
      }),
      ctx,
    );
    expect(declared[0]?.severity).toBe('warning');
  });
});

describe('ProvisionerConfig', () => {
  it('warns that agent-only provisioners do not run on EC2 drivers, and not on agent builds', () => {
    const ansible = { type: 'ansible', config: { playbook_file: 'site.yml' } };
    const t = template([
      build({ builderType: 'amazon-ebs', config: EBS_CONFIG, provisioners: [ansible] }),
      build({ builderType: 'vmware-iso', config: {}, provisioners: [ansible] }),
    ]);
    const ds = ProvisionerConfig(t, ctx);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      severity: 'warning',
      summary: 'Kiln runs the ansible provisioner only on the agent driver',
    });
  });

  it('checks the error-cleanup provisioner too', () => {
    const t = template([
      build({
        builderType: 'null',
        config: { communicator: 'none' },
        errorCleanupProvisioner: { type: 'shell-local', config: {} },
      }),
    ]);
    expect(summaries(ProvisionerConfig(t, ctx))).toEqual([
      'Command, Inline, Script and Scripts options cannot all be empty.',
    ]);
  });

  it('treats Object.prototype names as unknown types, not as plugins', () => {
    const t = template([
      build({ builderType: 'docker', config: {}, provisioners: [{ type: 'toString', config: {} }] }),
    ]);
    expect(ProvisionerConfig(t, ctx)[0]?.summary).toBe(
      'The provisioner toString is unknown by Packer, and is likely part of a plugin that is not installed.',
    );
  });

  it('names the third-party plugin of a provisioner', () => {
    const t = template([
      build({ builderType: 'vmware-iso', config: {}, provisioners: [{ type: 'goss', config: {} }] }),
    ]);
    expect(ProvisionerConfig(t, ctx)[0]?.summary).toContain('github.com/YaleUniversity/goss');
  });

  it('resolves scripts against cwd first, then the template dir', () => {
    const t = template([
      build({ builderType: 'docker', config: {}, provisioners: [{ type: 'shell', config: { script: 'a.sh' } }] }),
    ]);
    expect(ProvisionerConfig(t, { fileExists: (p) => p === '/work/dir/a.sh', cwd: '/work/dir' })).toEqual([]);
    expect(ProvisionerConfig(t, { fileExists: (p) => p === `${t.dir}/a.sh`, cwd: '/elsewhere' })).toEqual([]);
    expect(summaries(ProvisionerConfig(t, { fileExists: () => false, cwd: '/elsewhere' }))).toEqual([
      "Bad script 'a.sh': stat a.sh: no such file or directory",
    ]);
  });
});

describe('ProvisionerDuration', () => {
  it.each(['10s', '1m30s', '500ms', '0'])('accepts %s', (value) => {
    const t = template([
      build({
        builderType: 'null',
        config: {},
        provisioners: [{ type: 'shell-local', config: {}, pauseBefore: value, timeout: value }],
      }),
    ]);
    expect(ProvisionerDuration(t, ctx)).toEqual([]);
  });

  it('rejects a duration without unit as Go does, at the key range', () => {
    const t = template([
      build({
        builderType: 'null',
        config: {},
        provisioners: [{ type: 'shell-local', config: {}, pauseBefore: '5', keyRanges: { pause_before: range } }],
      }),
    ]);
    expect(ProvisionerDuration(t, ctx)).toEqual([
      {
        severity: 'error',
        summary: 'Failed to parse pause_before of the shell-local provisioner: time: missing unit in duration "5"',
        detail: 'Use a Go duration such as "10s", "5m" or "1m30s".',
        range,
      },
    ]);
  });

  it('rejects a malformed timeout', () => {
    const t = template([
      build({ builderType: 'null', config: {}, provisioners: [{ type: 'shell', config: {}, timeout: 'soon' }] }),
    ]);
    expect(summaries(ProvisionerDuration(t, ctx))).toEqual([
      'Failed to parse timeout of the shell provisioner: time: invalid duration "soon"',
    ]);
  });
});

describe('ProvisionerMaxRetries', () => {
  it('accepts whole numbers and rejects the rest', () => {
    const ok = template([
      build({ builderType: 'null', config: {}, provisioners: [{ type: 'shell', config: {}, maxRetries: 3 }] }),
    ]);
    expect(ProvisionerMaxRetries(ok, ctx)).toEqual([]);
    const bad = template([
      build({ builderType: 'null', config: {}, provisioners: [{ type: 'shell', config: {}, maxRetries: 1.5 }] }),
    ]);
    expect(summaries(ProvisionerMaxRetries(bad, ctx))).toEqual([
      'max_retries of the shell provisioner must be a whole number of retries, 0 or more; got 1.5',
    ]);
  });
});

describe('PostProcessorConfig', () => {
  it('warns about agent-only post-processors on EC2 drivers', () => {
    const t = template([
      build({ builderType: 'amazon-ebs', config: EBS_CONFIG, postProcessors: [[{ type: 'vagrant', config: {} }]] }),
    ]);
    expect(PostProcessorConfig(t, ctx)[0]).toMatchObject({
      severity: 'warning',
      summary: 'Kiln runs the vagrant post-processor only on the agent driver',
    });
  });
});

describe('validateTemplate', () => {
  it('reports a problem shared by several builds once', () => {
    const shell = { type: 'shell', config: {} };
    const t = template([
      build({ builderType: 'docker', name: 'a', config: { image: 'x', commit: true }, provisioners: [shell] }),
      build({ builderType: 'docker', name: 'b', config: { image: 'y', commit: true }, provisioners: [shell] }),
    ]);
    expect(summaries(validateTemplate(t, { fileExists: () => true }))).toEqual([
      'Either a script file or inline script must be specified.',
    ]);
  });
});
