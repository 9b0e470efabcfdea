import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../../core/errors.ts';
import { planTemplate, redactPlan } from '../../../core/plan/plan.ts';
import { provisionerOf } from '../../../core/plan/typed.ts';
import { UnknownValue } from '../../../core/template/model.ts';
import { build, EBS_CONFIG, PROJECT_DIR, template } from './template-builders.ts';

const NOW = new Date('2026-01-02T03:04:05Z');

describe('planTemplate', () => {
  it('routes each builder type to its driver', () => {
    const plan = planTemplate(
      template([
        build({ builderType: 'amazon-ebs', config: EBS_CONFIG }),
        build({ builderType: 'docker', config: { image: 'ubuntu', commit: true } }),
        build({ builderType: 'vmware-iso', config: {} }),
        build({ builderType: 'virtualbox-iso', config: {} }),
        build({ builderType: 'null', config: { communicator: 'none' } }),
        build({ builderType: 'qemu', config: {} }),
      ]),
      { now: NOW },
    );
    expect(plan.builds.map((b) => [b.builderType, b.driver])).toEqual([
      ['amazon-ebs', 'ec2-ami'],
      ['docker', 'ec2-docker'],
      ['vmware-iso', 'agent'],
      ['virtualbox-iso', 'agent'],
      ['null', 'agent'],
      ['qemu', 'agent'],
    ]);
    expect(plan.builds[5]?.summary.agentLabels).toEqual(['builder:qemu']);
    expect(plan.builds[2]?.summary.agentLabels).toEqual(['builder:vmware-iso']);
  });

  it('keeps provisioners in order with their index, retries default 0 and timeouts in seconds', () => {
    const plan = planTemplate(
      template([
        build({
          builderType: 'docker',
          config: { image: 'ubuntu', commit: true },
          provisioners: [
            { type: 'shell', config: { inline: ['a'] }, timeout: '1m30s' },
            { type: 'file', config: { source: 'files/app.conf', destination: '/etc/app.conf' }, maxRetries: 3 },
            { type: 'shell', config: { script: 'scripts/base.sh' }, pauseBefore: '10s' },
          ],
        }),
      ]),
      { now: NOW },
    );
    const provisioners = plan.builds[0]?.provisioners ?? [];
    expect(provisioners.map((p) => [p.index, p.type, p.maxRetries, p.timeoutSeconds, p.pauseBeforeSeconds])).toEqual([
      [0, 'shell', 0, 90, undefined],
      [1, 'file', 3, undefined, undefined],
      [2, 'shell', 0, undefined, 10],
    ]);
  });

  it('stages an amazon-ebs user_data_file like a script, so LaunchBuilder can read it from the staged files', () => {
    const plan = planTemplate(
      template([build({ builderType: 'amazon-ebs', config: { ...EBS_CONFIG, user_data_file: './files/app.conf' } })]),
      { now: NOW },
    );
    const content = readFileSync(`${PROJECT_DIR}/files/app.conf`);
    expect(plan.builds[0]?.config.user_data_file).toBe('files/app.conf');
    expect(plan.files).toContainEqual(
      expect.objectContaining({
        relativePath: 'files/app.conf',
        sha256: createHash('sha256').update(content).digest('hex'),
        size: content.byteLength,
      }),
    );
  });

  it('refuses, in the pipeline, a user_data_file outside the template folder', () => {
    expect(() =>
      planTemplate(
        template([
          build({ builderType: 'amazon-ebs', config: { ...EBS_CONFIG, user_data_file: '../../plan/plan.test.ts' } }),
        ]),
        { now: NOW, confinement: { root: PROJECT_DIR } },
      ),
    ).toThrow(/amazon-ebs builder "user_data_file": .*outside/);
  });

  it('turns scripts and uploads into FileRefs with hash and size, inline content stays inline', () => {
    const plan = planTemplate(
      template([
        build({
          builderType: 'amazon-ebs',
          config: EBS_CONFIG,
          provisioners: [
            { type: 'shell', config: { scripts: [`${PROJECT_DIR}/scripts/base.sh`] } },
            { type: 'file', config: { source: 'files/app.conf', destination: '/etc/app.conf' } },
            { type: 'file', config: { content: 'inline text', destination: '/etc/motd' } },
          ],
        }),
      ]),
      { now: NOW },
    );
    const script = readFileSync(`${PROJECT_DIR}/scripts/base.sh`);
    const [shell, upload, inline] = plan.builds[0]?.provisioners ?? [];
    expect(shell && provisionerOf(shell, 'shell').config.scripts).toEqual(['scripts/base.sh']);
    expect(shell?.files).toEqual([
      {
        path: `${PROJECT_DIR}/scripts/base.sh`,
        relativePath: 'scripts/base.sh',
        sha256: createHash('sha256').update(script).digest('hex'),
        size: script.byteLength,
      },
    ]);
    expect(upload && provisionerOf(upload, 'file').config.source).toBe('files/app.conf');
    expect(upload?.files[0]?.size).toBe(6);
    expect(inline?.files).toEqual([]);
    expect(inline && provisionerOf(inline, 'file').config.content).toBe('inline text');
    expect(plan.files.map((f) => f.relativePath)).toEqual(['files/app.conf', 'scripts/base.sh']);
  });

  it('warns about a file that is not on disk', () => {
    const plan = planTemplate(
      template([
        build({
          builderType: 'docker',
          config: { image: 'x', commit: true },
          provisioners: [{ type: 'shell', config: { script: 'nope.sh' } }],
        }),
      ]),
      { now: NOW },
    );
    expect(plan.warnings.map((w) => w.summary)).toEqual(['File nope.sh of the shell provisioner was not found']);
  });

  it('summarizes an amazon-ebs build', () => {
    const plan = planTemplate(template([build({ builderType: 'amazon-ebs', config: EBS_CONFIG })]), { now: NOW });
    expect(plan.builds[0]?.summary).toEqual({
      instanceType: 't3.micro',
      sourceAmi: 'ami-0123456789abcdef0',
      amiName: 'kiln-base-{{timestamp}}',
      regions: ['us-east-1', 'eu-west-1'],
    });
  });

  it('summarizes a source_ami_filter', () => {
    const config = {
      ...EBS_CONFIG,
      source_ami: undefined,
      source_ami_filter: { filters: { name: 'ubuntu/*' }, owners: ['099720109477'] },
    };
    const plan = planTemplate(template([build({ builderType: 'amazon-ebs', config })]), { now: NOW });
    expect(plan.builds[0]?.summary.sourceAmi).toBe('filter: name=ubuntu/* owners=099720109477');
  });

  it('renders plan-time legacy expressions in HCL values and leaves run-time ones', () => {
    const plan = planTemplate(
      template(
        [
          build({
            builderType: 'amazon-ebs',
            name: 'amazon-ebs.ubuntu',
            config: {
              ...EBS_CONFIG,
              ami_name: 'x-{{timestamp}}',
              ami_description: '{{isotime "2006-01-02"}} {{ build_name | clean_resource_name }}',
            },
            provisioners: [
              {
                type: 'shell',
                config: { execute_command: 'sudo {{ .Vars }} {{ .Path }}', inline: ['echo {{timestamp}}'] },
              },
            ],
          }),
        ],
        { format: 'hcl' },
      ),
      { now: NOW },
    );
    const b = plan.builds[0];
    expect(b?.config.ami_name).toBe(`x-${NOW.getTime() / 1000}`);
    expect(b?.config.ami_description).toBe('2026-01-02 amazon-ebs.ubuntu');
    expect(b?.summary.amiName).toBe(`x-${NOW.getTime() / 1000}`);
    const shell = b?.provisioners[0];
    expect(shell && provisionerOf(shell, 'shell').config.execute_command).toBe('sudo {{ .Vars }} {{ .Path }}');
  });

  it('leaves JSON-origin values to the JSON front end', () => {
    const plan = planTemplate(template([build({ builderType: 'amazon-ebs', config: EBS_CONFIG })]), { now: NOW });
    expect(plan.builds[0]?.config.ami_name).toBe('kiln-base-{{timestamp}}');
  });

  it('uses an injected legacy renderer', () => {
    const plan = planTemplate(template([build({ builderType: 'amazon-ebs', config: EBS_CONFIG })], { format: 'hcl' }), {
      now: NOW,
      renderLegacy: (text, b) => text.replace('{{timestamp}}', `T-${b.name}`),
    });
    expect(plan.builds[0]?.config.ami_name).toBe('kiln-base-T-amazon-ebs');
  });

  it('reports the ECR repository from docker-tag for docker builds', () => {
    const plan = planTemplate(
      template([
        build({
          builderType: 'docker',
          config: { image: 'python:3.9-slim', commit: true },
          postProcessors: [
            [
              { type: 'docker-tag', config: { repository: 'my-python-app', tag: '' } },
              { type: 'docker-push', config: {} },
            ],
          ],
        }),
      ]),
      { now: NOW },
    );
    expect(plan.builds[0]?.summary).toEqual({ image: 'python:3.9-slim', ecrRepository: 'my-python-app' });
    expect(plan.builds[0]?.postProcessors[0]?.map((p) => [p.type, p.keepInputArtifact])).toEqual([
      // Not written: each post-processor's own default applies (docker-tag and docker-push keep their input).
      ['docker-tag', undefined],
      ['docker-push', undefined],
    ]);
  });

  it('records JSON pointers of values that equal or contain a sensitive value', () => {
    const plan = planTemplate(
      template(
        [
          build({
            builderType: 'vmware-iso',
            config: { ssh_password: 's3cr3t', 'odd/key': 'x-s3cr3t-y', ssh_username: 'packer' },
            provisioners: [{ type: 'shell', config: { environment_vars: ['A=1', 'TOKEN=tok-123'] } }],
          }),
        ],
        { sensitiveValues: ['s3cr3t', 'tok-123', ''] },
      ),
      { now: NOW },
    );
    expect(plan.builds[0]?.sensitivePaths).toEqual([
      '/config/ssh_password',
      '/config/odd~1key',
      '/provisioners/0/config/environment_vars/1',
    ]);
  });

  it('redacts sensitive values for printing without touching the plan', () => {
    const plan = planTemplate(
      template([build({ builderType: 'null', config: { communicator: 'ssh', ssh_host: 'h', ssh_password: 'pw-1' } })]),
      { now: NOW },
    );
    const printed = redactPlan(plan, ['pw-1']);
    expect(printed.builds[0]?.config.ssh_password).toBe('<sensitive>');
    expect(plan.builds[0]?.config.ssh_password).toBe('pw-1');
  });

  it('is deterministic and JSON-serializable, unknown values included', () => {
    const t = template([
      build({
        builderType: 'amazon-ebs',
        config: { ...EBS_CONFIG, source_ami: new UnknownValue('data.amazon-ami.ubuntu.id') },
      }),
    ]);
    const a = JSON.stringify(planTemplate(t, { now: NOW, runUuid: 'r-1' }));
    const b = JSON.stringify(planTemplate(t, { now: NOW, runUuid: 'r-1' }));
    expect(a).toBe(b);
    const parsed = JSON.parse(a);
    expect(parsed.builds[0].config.source_ami).toBe('<unknown: data.amazon-ami.ubuntu.id>');
    expect(parsed.builds[0].summary.sourceAmi).toBe('<unknown: data.amazon-ami.ubuntu.id>');
    expect(parsed.runUuid).toBe('r-1');
  });

  it('refuses a build whose plan entry does not fit a Step Functions payload, naming it', () => {
    const big = 'x'.repeat(210 * 1024);
    const t = template([
      build({ builderType: 'docker', name: 'small', config: { image: 'a', commit: true } }),
      build({
        builderType: 'docker',
        name: 'huge',
        config: { image: 'a', commit: true },
        provisioners: [{ type: 'shell', config: { inline: [big] } }],
      }),
    ]);
    expect(() => planTemplate(t, { now: NOW })).toThrow(LimitExceededError);
    expect(() => planTemplate(t, { now: NOW })).toThrow(/Build "huge" is too large/);
  });
});
