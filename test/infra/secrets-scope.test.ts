/**
 * Secret access and shell-local isolation, asserted on the synthesized policies of the real registry: PrepareBuild
 * may read only the secrets and parameters the deployer allows, ShellLocal has no permission beyond its own logs.
 */
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole, IRole } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ECS_AL2023_AMI_PARAMETER } from '../../aws/docker-host.ts';
import { readKilnContext } from '../../infra/context.ts';
import { createKilnApp } from '../../infra/kiln-app.ts';
import type { KilnStack } from '../../infra/kiln-stack.ts';
import { actionsOf, resourcesOf, type Statement, statementsOfRole } from './helpers.ts';

function synth(context: Record<string, unknown>): { stack: KilnStack; template: Template } {
  const { stack } = createKilnApp({ appProps: { context: { 'aws:cdk:bundling-stacks': [], ...context } }, nag: false });
  return { stack, template: Template.fromStack(stack) };
}

function roleId(stack: Stack, role: IRole | undefined): string {
  return stack.resolve(stack.getLogicalId(role?.node.defaultChild as CfnRole)) as string;
}

const statementsOf = (s: { stack: KilnStack; template: Template }, fn: string): Statement[] =>
  statementsOfRole(s.template, roleId(s.stack, s.stack.pipeline.functions.get(fn)?.role));

const text = (v: unknown) => JSON.stringify(v);

describe('secret scope and shell-local isolation (real registry)', () => {
  const custom = synth({ 'kiln:secretPrefix': 'team-a/', 'kiln:secretTag': 'kiln-allowed=yes' });
  const defaults = synth({});

  it('PrepareBuild reads secrets and parameters only under the default prefix kiln/', () => {
    const statements = statementsOf(defaults, 'PrepareBuild');
    const reads = statements.filter((s) =>
      actionsOf(s).some((a) => a === 'secretsmanager:GetSecretValue' || a.startsWith('ssm:GetParameter')),
    );
    expect(reads.map((s) => s.Sid).sort()).toEqual(['ResolveTemplateParameters', 'ResolveTemplateSecrets']);
    const resources = text(reads.flatMap(resourcesOf));
    expect(resources).toContain(':parameter/kiln/*');
    expect(resources).toContain(':secret:kiln/*');
    expect(resources).not.toMatch(/parameter\/\*"|secret:\*"/);
  });

  it('honours kiln:secretPrefix and kiln:secretTag (a tag condition per service)', () => {
    const statements = statementsOf(custom, 'PrepareBuild');
    const secrets = statements.find((s) => s.Sid === 'ResolveTemplateSecrets');
    const params = statements.find((s) => s.Sid === 'ResolveTemplateParameters');
    expect(text(secrets?.Resource)).toContain(':secret:team-a/*');
    expect(text(params?.Resource)).toContain(':parameter/team-a/*');
    expect(secrets?.Condition).toEqual({ StringEquals: { 'secretsmanager:ResourceTag/kiln-allowed': 'yes' } });
    expect(params?.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/kiln-allowed': 'yes' } });
    const env = custom.template.findResources('AWS::Lambda::Function');
    expect(text(env)).toContain('"KILN_SECRET_PREFIX":"team-a/"');
  });

  it('no other function may read secrets or parameters (LaunchBuilder: the docker host AMI parameter only)', () => {
    for (const [id] of defaults.stack.pipeline.functions) {
      if (id === 'PrepareBuild') continue;
      const reading = statementsOf(defaults, id).filter((s) =>
        actionsOf(s).some((a) => /secretsmanager:|ssm:GetParameter/.test(a)),
      );
      if (id !== 'LaunchBuilder') {
        expect(reading, id).toEqual([]);
        continue;
      }
      expect(reading.flatMap(actionsOf)).toEqual(['ssm:GetParameter']);
      // AWS's public parameter: no account in its ARN, and nothing under the template secret prefix.
      expect(text(reading.flatMap(resourcesOf))).toContain(`::parameter${ECS_AL2023_AMI_PARAMETER}`);
      expect(reading.flatMap(resourcesOf)).toHaveLength(1);
    }
  });

  it('ShellLocal may only write its own logs: no AWS action beyond that, no tracing', () => {
    const statements = statementsOf(defaults, 'ShellLocal');
    expect(statements.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const fn = defaults.stack.pipeline.functions.get('ShellLocal');
    const props = defaults.template.findResources('AWS::Lambda::Function');
    const own = Object.entries(props).find(
      ([id]) => id === defaults.stack.resolve(defaults.stack.getLogicalId(fn?.node.defaultChild as never)),
    );
    expect(own?.[1].Properties.TracingConfig).toBeUndefined();
    expect(own?.[1].Properties.VpcConfig).toBeUndefined();
    const roles = defaults.template.findResources('AWS::IAM::Role');
    const role = roles[roleId(defaults.stack, fn?.role)];
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role?.Properties.Policies).toBeUndefined();
  });

  it('RunProvisioner may invoke exactly ShellLocal and knows its name', () => {
    const invoke = statementsOf(defaults, 'RunProvisioner').filter((s) =>
      actionsOf(s).includes('lambda:InvokeFunction'),
    );
    expect(invoke).toHaveLength(1);
    expect(text(invoke[0]?.Resource)).toContain('ShellLocal');
    expect(text(invoke[0]?.Resource)).not.toContain(':*');
    const fns = defaults.template.findResources('AWS::Lambda::Function');
    expect(text(fns)).toContain('KILN_SHELL_LOCAL_FUNCTION');
  });

  it('sealed values: only the functions that need them may touch secrets/, and a 1-day lifecycle backstop', () => {
    const touching = [...defaults.stack.pipeline.functions.keys()].filter((id) =>
      text(statementsOf(defaults, id).flatMap(resourcesOf)).includes('/secrets/*'),
    );
    // RunHostStep delivers a docker step that reveals a sensitive value (or the ECR password) as a one-shot object;
    // AgentAcquire presigns an agent job's variables document (secrets/<build>/agent-variables.json only).
    expect(touching.sort()).toEqual([
      'AgentAcquire',
      'CheckCommand',
      'Cleanup',
      'Finalize',
      'PrepareBuild',
      'RunHostStep',
      'RunProvisioner',
    ]);
    const buckets = defaults.template.findResources('AWS::S3::Bucket');
    const rules = Object.values(buckets).flatMap((b) => b.Properties.LifecycleConfiguration?.Rules ?? []);
    expect(rules).toContainEqual(
      expect.objectContaining({ Id: 'expire-sealed-values', Prefix: 'secrets/', ExpirationInDays: 1 }),
    );
  });

  it('passes cdk-nag with the real registry (ShellLocal without tracing, scoped wildcards acknowledged)', () => {
    const { app } = createKilnApp({
      appProps: { context: { 'aws:cdk:bundling-stacks': [], 'kiln:secretPrefix': 'team-a/' } },
    });
    expect(() => app.synth()).not.toThrow();
  }, 300_000);

  it.each([
    ['kiln:secretTag', 'no-equals-sign'],
    ['kiln:secretPrefix', 42],
  ])('refuses a malformed %s', (key, value) => {
    expect(() => readKilnContext((k) => (k === key ? value : undefined))).toThrow(/kiln:secret/);
  });
});
