/**
 * The ECR calls Kiln makes, as IAM would judge them: the requests the ECR code sends (captured from the SDK, as the
 * router parses them off the wire) go through the harness's ECR model (harness/aws-calls.ts: repository ARN,
 * the repository's tags, CreateRepository's request tags) and are evaluated by iam-simulate against the deployed
 * statements of each scope (infra/constructs/ecr-permissions.ts). Kiln-managed repositories are reachable,
 * anything else of the account is not.
 */
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
} from '@aws-sdk/client-ecr';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { planDockerPostProcessors } from '../../core/docker/postprocess.ts';
import { ensureRepositories } from '../../functions/lib/ecr/ensure.ts';
import { ecrPassword } from '../../functions/lib/ecr/password.ts';
import { DEFAULT_ECR_SETTINGS } from '../../functions/lib/ecr/settings.ts';
import { registryDigestResolver } from '../../functions/lib/registry-digest.ts';
import type { PermissionScope } from '../../functions/registry.ts';
import { authorizationRequests, type ResourceFacts, type Tags } from '../../harness/aws-calls.ts';
import { evaluate } from '../../harness/iam-evaluate.ts';
import { ecrPushStatements } from '../../infra/constructs/ecr-permissions.ts';
import { statementsFor } from '../../infra/constructs/function-permissions.ts';
import type { PermissionTargets } from '../../infra/constructs/permission-basics.ts';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/kiln-test`;
const MANAGED: Tags = { 'kiln:managed': 'true', 'kiln:build-id': 'kb-1' };

/** The statements as deployed, with the stack's pseudo parameters filled in. */
function policyOf(statements: iam.PolicyStatement[]) {
  const stack = new Stack(new App(), 'S', { env: { account: ACCOUNT, region: REGION } });
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT };
  const concrete = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(concrete);
    if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.Ref === 'string' && pseudo[o.Ref]) return pseudo[o.Ref];
      const join = o['Fn::Join'] as [string, unknown[]] | undefined;
      if (join) return join[1].map(concrete).join(join[0]);
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, concrete(v)]));
    }
    return value;
  };
  return concrete(stack.resolve(new iam.PolicyDocument({ statements }).toJSON()));
}
const stack = new Stack(new App(), 'T', { env: { account: ACCOUNT, region: REGION } });
const scope = (name: PermissionScope) => policyOf(statementsFor(name, { stack } as PermissionTargets));

/** Repositories as moto would report their tags at call time. */
const repositories = new Map<string, Tags>();
const facts = {
  ecrRepositoryTags: async (_region: string, registryId: string, name: string) =>
    registryId === ACCOUNT ? repositories.get(name) : undefined,
} as unknown as ResourceFacts;

/** What the router would record for an SDK command, and whether the policy allows every request of it. */
async function allowed(policy: unknown, command: { constructor: { name: string }; input: object }) {
  const call = {
    service: 'ecr',
    region: REGION,
    action: command.constructor.name.replace(/Command$/, ''),
    params: command.input as Record<string, unknown>,
  };
  const requests = await authorizationRequests(call, ACCOUNT, facts);
  if (!requests) throw new Error(`the harness does not model ecr:${call.action}`);
  const decisions = await Promise.all(
    requests.map((r) => evaluate(PRINCIPAL, [{ name: 'p', policy }], r).then((d) => d.allowed)),
  );
  return decisions.every(Boolean);
}

const ecr = mockClient(ECRClient);
beforeEach(() => {
  ecr.reset();
  repositories.clear();
});

const published = (repository: string) =>
  planDockerPostProcessors({
    mode: 'commit',
    buildTag: 'kb-1',
    registry: { account: ACCOUNT, region: REGION },
    chains: [[{ type: 'docker-tag', config: { repository, tag: [] } }]],
  }).published;
const tagContext = { buildId: 'kb-1', executionName: 'e', template: 's3://t/a.json', index: 0, name: 'docker' };

describe('ecr-write: the calls ensureRepositories makes', () => {
  it('are allowed for a new repository (created with kiln:managed) and an existing managed one', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejectsOnce(Object.assign(new Error('x'), { name: 'RepositoryNotFoundException' }));
    ecr.on(CreateRepositoryCommand).callsFake(async (input: { repositoryName: string }) => {
      repositories.set(input.repositoryName, MANAGED);
      return { repository: { repositoryArn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${input.repositoryName}` } };
    });
    const client = new ECRClient({ region: REGION });
    const opts = { settings: DEFAULT_ECR_SETTINGS, registry: { account: ACCOUNT, region: REGION }, tagContext };
    await ensureRepositories(client, published('app'), opts);
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryArn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/app` }],
    });
    ecr.on(ListTagsForResourceCommand).resolves({ tags: [{ Key: 'kiln:managed', Value: 'true' }] });
    await ensureRepositories(client, published('app'), opts);
    const commands = ecr.calls().map((c) => c.args[0] as unknown as { constructor: { name: string }; input: object });
    expect(commands.map((c) => c.constructor.name)).toEqual([
      'DescribeRepositoriesCommand',
      'CreateRepositoryCommand',
      'PutLifecyclePolicyCommand',
      'DescribeRepositoriesCommand',
      'ListTagsForResourceCommand',
    ]);
    const policy = scope('ecr-write');
    for (const command of commands) expect(await allowed(policy, command), command.constructor.name).toBe(true);
  });

  it('denies creating a repository without the kiln:managed request tag, and lifecycle on an unmanaged one', async () => {
    const policy = scope('ecr-write');
    expect(await allowed(policy, new CreateRepositoryCommand({ repositoryName: 'x', tags: [] }))).toBe(false);
    repositories.set('theirs', { team: 'x' });
    const lifecycle = { repositoryName: 'theirs', lifecyclePolicyText: '{}' };
    expect(await allowed(policy, new PutLifecyclePolicyCommand(lifecycle))).toBe(false);
    repositories.set('theirs', MANAGED);
    expect(await allowed(policy, new PutLifecyclePolicyCommand(lifecycle))).toBe(true);
  });
});

describe("ecr-digests: PrepareBuild's base image digest lookup", () => {
  it('is allowed on a Kiln-managed repository of the account, denied on any other', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: `sha256:${'d'.repeat(64)}` }] });
    const resolve = registryDigestResolver({
      registries: [],
      mirrors: {},
      ownEcr: { account: ACCOUNT, region: REGION, client: new ECRClient({ region: REGION }) },
    });
    const host = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
    await resolve(`${host}/base/python:3.12`);
    await resolve(`${host}/prod:latest`);
    const [base, prod] = ecr
      .calls()
      .map((c) => c.args[0] as unknown as { constructor: { name: string }; input: object });
    const policy = scope('ecr-digests');
    repositories.set('base/python', MANAGED);
    repositories.set('prod', { team: 'x' });
    expect(await allowed(policy, base as never)).toBe(true);
    expect(await allowed(policy, prod as never)).toBe(false);
    // Nothing but DescribeImages: not the repository list, not an image's content.
    expect(await allowed(policy, new DescribeRepositoriesCommand({}))).toBe(false);
    expect(await allowed(policy, new PutImageCommand({ repositoryName: 'base/python', imageManifest: '{}' }))).toBe(
      false,
    );
  });
});

describe('ecr-read, ecr-login, ecr-cleanup and the builder role', () => {
  it('RecordImages reads any repository of the account, not another account', async () => {
    const read = new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'kb-1' }] });
    expect(await allowed(scope('ecr-read'), read)).toBe(true);
    const other = new DescribeImagesCommand({ registryId: '999999999999', repositoryName: 'app' });
    expect(await allowed(scope('ecr-read'), other)).toBe(false);
  });

  it('the login token needs no repository; pushing needs a managed repository of this account', async () => {
    ecr
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:p').toString('base64') }] });
    await ecrPassword(new ECRClient({ region: REGION }));
    const [token] = ecr.calls().map((c) => c.args[0] as unknown as { constructor: { name: string }; input: object });
    const builder = policyOf(ecrPushStatements(stack));
    expect(await allowed(builder, token as never)).toBe(true);
    repositories.set('app', MANAGED);
    repositories.set('prod', { team: 'x' });
    const put = (repositoryName: string, registryId = ACCOUNT) =>
      new PutImageCommand({ registryId, repositoryName, imageManifest: '{}', imageTag: 'kb-1' });
    expect(await allowed(builder, put('app'))).toBe(true);
    expect(await allowed(builder, put('prod'))).toBe(false);
    expect(await allowed(builder, put('app', '999999999999'))).toBe(false);
    expect(await allowed(scope('ecr-login'), put('app'))).toBe(true);
  });

  it('cleanup removes build tags of managed repositories only', async () => {
    repositories.set('app', MANAGED);
    repositories.set('prod', { team: 'x' });
    const remove = (repositoryName: string) =>
      new BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageTag: 'kb-1' }] });
    expect(await allowed(scope('ecr-cleanup'), remove('app'))).toBe(true);
    expect(await allowed(scope('ecr-cleanup'), remove('prod'))).toBe(false);
  });
});
