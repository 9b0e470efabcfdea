/**
 * ECR permissions of docker builds: the builder role pushes (and pulls) only repositories tagged
 * kiln:managed=true of its account and region, plus the login token; the function scopes ecr-read, ecr-write and
 * ecr-login say exactly what functions/lib/ecr/ and RecordImages call.
 */
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { statementsFor } from '../../infra/constructs/function-permissions.ts';
import type { PermissionTargets } from '../../infra/constructs/permission-basics.ts';
import { KILN_WILDCARD_JUSTIFICATIONS, STAR_ONLY_ACTIONS } from '../../infra/constructs/wildcard-justifications.ts';
import { readKilnContext } from '../../infra/context.ts';
import type { KilnStack } from '../../infra/kiln-stack.ts';
import { actionsOf, logicalId, type Statement, statementsOfRole, synthFixtureStack, text } from './helpers.ts';

const PUSH_PULL = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
];
const MANAGED = { StringEquals: { 'aws:ResourceTag/kiln:managed': 'true' } };
const REPOSITORIES = /:ecr:us-east-1:123456789012:repository\/\*"\]\]\}$/;

describe('builder role (docker builds push with it)', () => {
  let stack: KilnStack;
  let template: Template;
  beforeAll(() => {
    // cdk-nag runs in this synth: the repository wildcard and the login's "*" must be acknowledged, or it throws.
    ({ stack, template } = synthFixtureStack({ account: '123456789012', region: 'us-east-1' }));
  });

  it('logs in to ECR and pushes/pulls only Kiln-managed repositories of its account and region', () => {
    const ecr = statementsOfRole(template, logicalId(stack, stack.builder.role)).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('ecr:')),
    );
    expect(ecr.map((s) => s.Sid)).toEqual(['EcrLogin', 'PushPullKilnManagedRepositories']);
    const [login, push] = ecr as [Statement, Statement];
    expect(login).toMatchObject({ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    expect(login.Condition).toBeUndefined();
    expect(actionsOf(push).sort()).toEqual([...PUSH_PULL].sort());
    expect(text(push.Resource)).toMatch(REPOSITORIES);
    expect(push.Condition).toEqual(MANAGED);
    // No repository administration: the host never creates, deletes, tags or re-policies anything.
    expect(ecr.flatMap(actionsOf).filter((a) => /Create|Delete|Tag|Policy|Lifecycle/.test(a))).toEqual([]);
  });
});

describe('function scopes', () => {
  const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'us-east-1' } });
  const targets = (over: Partial<PermissionTargets> = {}): PermissionTargets =>
    ({ stack, ...over }) as PermissionTargets; // only `stack` and `ecrKmsKeyArn` are read by the ECR scopes
  const json = (scope: Parameters<typeof statementsFor>[0], over: Partial<PermissionTargets> = {}) =>
    statementsFor(scope, targets(over)).map((s) => stack.resolve(s.toStatementJson()) as Statement);
  const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('ecr-read: DescribeImages and DescribeRepositories on this account and region, nothing else', () => {
    const [read, ...rest] = json('ecr-read');
    expect(rest).toEqual([]);
    expect(actionsOf(read as Statement).sort()).toEqual(['ecr:DescribeImages', 'ecr:DescribeRepositories']);
    expect(text(read?.Resource)).toMatch(REPOSITORIES);
  });

  it('ecr-digests: DescribeImages only, on Kiln-managed repositories of this account and region', () => {
    const [read, ...rest] = json('ecr-digests');
    expect(rest).toEqual([]);
    expect(read).toMatchObject({ Sid: 'ReadBaseImageDigests', Action: 'ecr:DescribeImages', Condition: MANAGED });
    expect(text(read?.Resource)).toMatch(REPOSITORIES);
  });

  it('ecr-write: creates only with the kiln:managed request tag, sets lifecycle only on managed repositories', () => {
    const statements = json('ecr-write');
    const bySid = new Map(statements.map((s) => [s.Sid, s]));
    expect([...bySid.keys()]).toEqual([
      'ReadRepositories',
      'CreateKilnManagedRepositories',
      'TagKilnManagedRepositoriesOnCreate',
      'LifecycleOfKilnManagedRepositories',
    ]);
    expect(bySid.get('TagKilnManagedRepositoriesOnCreate')).toMatchObject({
      Action: 'ecr:TagResource',
      Condition: { StringEquals: { 'aws:RequestTag/kiln:managed': 'true' } },
    });
    expect(bySid.get('CreateKilnManagedRepositories')).toMatchObject({
      Action: 'ecr:CreateRepository',
      Condition: { StringEquals: { 'aws:RequestTag/kiln:managed': 'true' } },
    });
    expect(bySid.get('LifecycleOfKilnManagedRepositories')).toMatchObject({
      Action: 'ecr:PutLifecyclePolicy',
      Condition: MANAGED,
    });
    for (const s of statements) expect(text(s.Resource)).toMatch(REPOSITORIES);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it('ecr-write with an ECR key: the grant ECR creates at CreateRepository, on that key, through ECR only', () => {
    const kms = json('ecr-write', { ecrKmsKeyArn: KEY }).find((s) => s.Sid === 'GrantEcrKeyToRepositories');
    expect(kms).toMatchObject({
      Action: ['kms:CreateGrant', 'kms:RetireGrant', 'kms:DescribeKey'],
      Resource: KEY,
      Condition: { StringEquals: { 'kms:ViaService': 'ecr.us-east-1.amazonaws.com' } },
    });
  });

  it('ecr-login: the token and push/pull on managed repositories (the password it hands out pushes as this role)', () => {
    const [login, push] = json('ecr-login');
    expect(login).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    expect(actionsOf(push as Statement).sort()).toEqual([...PUSH_PULL].sort());
    expect(push?.Condition).toEqual(MANAGED);
  });

  it('ecr-cleanup: BatchDeleteImage on managed repositories only', () => {
    const [remove, ...rest] = json('ecr-cleanup');
    expect(rest).toEqual([]);
    expect(remove).toMatchObject({ Action: 'ecr:BatchDeleteImage', Condition: MANAGED });
    expect(text(remove?.Resource)).toMatch(REPOSITORIES);
  });

  it('acknowledges exactly these wildcards: the login on "*" and repository/* of this account', () => {
    expect(STAR_ONLY_ACTIONS.has('ecr:GetAuthorizationToken')).toBe(true);
    expect(STAR_ONLY_ACTIONS.has('ecr:PutImage')).toBe(false);
    const matches = (resource: string) => KILN_WILDCARD_JUSTIFICATIONS.some((j) => j.pattern.test(resource));
    expect(matches('arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*')).toBe(true);
    expect(matches('arn:<AWS::Partition>:ecr:*:*:repository/*')).toBe(false);
  });
});

describe('context', () => {
  const read = (values: Record<string, unknown>) => readKilnContext((key) => values[key]);

  it('reads the ECR repository settings', () => {
    expect(read({}).ecr).toBeUndefined();
    expect(
      read({
        'kiln:ecrTagMutability': 'IMMUTABLE',
        'kiln:ecrKms': 'true',
        'kiln:ecrUntaggedExpireDays': '3',
      }).ecr,
    ).toEqual({ tagMutability: 'IMMUTABLE', encryption: 'KMS', untaggedExpireDays: 3 });
  });

  it.each([
    [{ 'kiln:ecrTagMutability': 'sometimes' }, /kiln:ecrTagMutability must be one of MUTABLE, IMMUTABLE/],
    [{ 'kiln:ecrUntaggedExpireDays': '0' }, /kiln:ecrUntaggedExpireDays must be a whole number of 1 or more/],
  ])('refuses %j', (values, message) => {
    expect(() => read(values)).toThrow(message);
  });
});
