/**
 * ECR before the push (functions/lib/ecr/): repositories of the build's own registry are created with Kiln's
 * settings when missing, existing Kiln-managed ones are used as is, unmanaged ones stop the build with the fix,
 * other registries are left alone; the login password comes from GetAuthorizationToken.
 */
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ListTagsForResourceCommand,
  PutLifecyclePolicyCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { TAG_BUILD_ID, TAG_MANAGED } from '../../../aws/tags.ts';
import { type PublishedRepository, planDockerPostProcessors } from '../../../core/docker/postprocess.ts';
import { resolveRepository } from '../../../core/schema/docker-names.ts';
import type { EcrAccess } from '../../../functions/ec2-docker/run-host-step/run-host-step.ts';
import { type EnsureOptions, ecrAccess, ensureRepositories } from '../../../functions/lib/ecr/ensure.ts';
import { ecrPassword } from '../../../functions/lib/ecr/password.ts';
import {
  DEFAULT_ECR_SETTINGS,
  ecrSettingsFromEnv,
  ecrTagValue,
  lifecyclePolicy,
} from '../../../functions/lib/ecr/settings.ts';

const REGISTRY = { account: '123456789012', region: 'us-east-1' };
const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const ARN = (name: string) => `arn:aws:ecr:us-east-1:123456789012:repository/${name}`;
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const notFound = (name: string, message = 'not found') => Object.assign(new Error(message), { name });

const published = (written: string, tags = ['latest', 'kb-1']): PublishedRepository => ({
  repository: resolveRepository(written, REGISTRY),
  tags,
});
const options = (over: Partial<EnsureOptions> = {}): EnsureOptions => ({
  settings: DEFAULT_ECR_SETTINGS,
  registry: REGISTRY,
  tagContext: {
    buildId: 'kb-1',
    executionName: 'exec-1',
    template: "s3://templates/templates/app/o'brien,x.json",
    index: 0,
    name: 'docker',
  },
  ...over,
});

const ecr = mockClient(ECRClient);
const client = new ECRClient({ region: 'us-east-1' });
beforeEach(() => {
  ecr.reset();
});

function missingRepository(name: string) {
  ecr
    .on(DescribeRepositoriesCommand, { repositoryNames: [name] })
    .rejects(notFound('RepositoryNotFoundException', `The repository with name '${name}' does not exist`));
  ecr.on(CreateRepositoryCommand, { repositoryName: name }).resolves({
    repository: { repositoryName: name, repositoryArn: ARN(name), repositoryUri: `${HOST}/${name}` },
  });
}

function existingRepository(name: string, tags: { Key: string; Value: string }[]) {
  ecr.on(DescribeRepositoriesCommand, { repositoryNames: [name] }).resolves({
    repositories: [{ repositoryName: name, repositoryArn: ARN(name), repositoryUri: `${HOST}/${name}` }],
  });
  ecr.on(ListTagsForResourceCommand, { resourceArn: ARN(name) }).resolves({ tags });
}

describe('ensureRepositories', () => {
  it('creates a missing repository: scan on push, AES256, MUTABLE, Kiln tags + kiln:managed, then the lifecycle policy', async () => {
    missingRepository('my-python-app');
    const out = await ensureRepositories(client, [published('my-python-app')], options());
    expect(out).toEqual([
      {
        uri: `${HOST}/my-python-app`,
        action: 'created',
        note: `ECR repository ${HOST}/my-python-app created (scan on push, AES256, tags mutable, lifecycle policy)`,
      },
    ]);
    const create = ecr.commandCalls(CreateRepositoryCommand)[0]?.args[0].input;
    expect(create).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'my-python-app',
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'AES256' },
    });
    expect(create?.encryptionConfiguration?.kmsKey).toBeUndefined();
    const tags = new Map((create?.tags ?? []).map((t: { Key?: string; Value?: string }) => [t.Key, t.Value]));
    expect(tags.get(TAG_MANAGED)).toBe('true');
    expect(tags.get(TAG_BUILD_ID)).toBe('kb-1');
    // ECR refuses `'` and `,` in tag values (EC2 does not): replaced, so the create cannot fail on a template name.
    expect(tags.get('kiln:template')).toBe('s3://templates/templates/app/o_brien_x.json');
    expect((create?.tags ?? []).at(-1)).toEqual({ Key: TAG_MANAGED, Value: 'true' });
    expect(ecr).toHaveReceivedCommandWith(PutLifecyclePolicyCommand, {
      registryId: '123456789012',
      repositoryName: 'my-python-app',
      lifecyclePolicyText: lifecyclePolicy(DEFAULT_ECR_SETTINGS),
    });
  });

  it('encrypts with the configured KMS key and applies the configured mutability', async () => {
    missingRepository('svc/api');
    const settings = { ...DEFAULT_ECR_SETTINGS, kmsKeyArn: KEY, tagMutability: 'IMMUTABLE' as const };
    const [out] = await ensureRepositories(client, [published('svc/api')], options({ settings }));
    expect(out?.note).toContain(`KMS key ${KEY}`);
    expect(ecr).toHaveReceivedCommandWith(CreateRepositoryCommand, {
      repositoryName: 'svc/api',
      imageTagMutability: 'IMMUTABLE',
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: KEY },
    });
  });

  it('uses an existing Kiln-managed repository as is: no create, no lifecycle change', async () => {
    existingRepository('my-python-app', [{ Key: TAG_MANAGED, Value: 'true' }]);
    const [out] = await ensureRepositories(client, [published('my-python-app')], options());
    expect(out?.action).toBe('existing');
    expect(out?.note).toMatch(/used as is/);
    expect(ecr).not.toHaveReceivedCommand(CreateRepositoryCommand);
    expect(ecr).not.toHaveReceivedCommand(PutLifecyclePolicyCommand);
  });

  it('finishes its own creation on a retry: a repository this execution created gets the lifecycle policy again', async () => {
    existingRepository('my-python-app', [
      { Key: TAG_MANAGED, Value: 'true' },
      { Key: TAG_BUILD_ID, Value: 'kb-1' },
    ]);
    const [out] = await ensureRepositories(client, [published('my-python-app')], options());
    expect(out?.action).toBe('created');
    expect(out?.note).toMatch(/on an earlier attempt$/);
    expect(ecr).not.toHaveReceivedCommand(CreateRepositoryCommand);
    expect(ecr).toHaveReceivedCommandWith(PutLifecyclePolicyCommand, { repositoryName: 'my-python-app' });
    // Another execution's repository is left alone.
    ecr.reset();
    existingRepository('my-python-app', [
      { Key: TAG_MANAGED, Value: 'true' },
      { Key: TAG_BUILD_ID, Value: 'kb-0' },
    ]);
    await ensureRepositories(client, [published('my-python-app')], options());
    expect(ecr).not.toHaveReceivedCommand(PutLifecyclePolicyCommand);
  });

  it('refuses an existing repository without kiln:managed=true, saying how to opt it in', async () => {
    existingRepository('prod/app', [{ Key: 'team', Value: 'x' }]);
    const failure = ensureRepositories(client, [published('prod/app')], options());
    await expect(failure).rejects.toMatchObject({ name: 'Kiln.PublishFailed' });
    await expect(failure).rejects.toThrow(`ECR repository ${HOST}/prod/app exists but is not tagged kiln:managed=true`);
    await expect(failure).rejects.toThrow(`aws ecr tag-resource --resource-arn ${ARN('prod/app')}`);
    expect(ecr).not.toHaveReceivedCommand(CreateRepositoryCommand);
  });

  it('treats a repository another build created in between as existing', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejectsOnce(notFound('RepositoryNotFoundException'))
      .resolves({ repositories: [{ repositoryName: 'app', repositoryArn: ARN('app') }] });
    ecr.on(CreateRepositoryCommand).rejects(notFound('RepositoryAlreadyExistsException', 'already exists'));
    ecr.on(ListTagsForResourceCommand).resolves({ tags: [{ Key: TAG_MANAGED, Value: 'true' }] });
    const [out] = await ensureRepositories(client, [published('app')], options());
    expect(out?.action).toBe('existing');
    expect(ecr).not.toHaveReceivedCommand(PutLifecyclePolicyCommand);
  });

  it('skips repositories of another account, another region and registries that are not ECR', async () => {
    const others = [
      published('999999999999.dkr.ecr.us-east-1.amazonaws.com/shared'),
      published('123456789012.dkr.ecr.eu-west-1.amazonaws.com/app'),
      published('ghcr.io/org/app'),
    ];
    const out = await ensureRepositories(client, others, options());
    expect(out.map((o) => o.action)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(out[0]?.note).toMatch(/outside this account's ECR registry in us-east-1/);
    expect(ecr.calls()).toHaveLength(0);
  });

  it("ensures exactly the repositories core's publish plan pushes to this registry (full URIs of it included)", async () => {
    const plan = planDockerPostProcessors({
      mode: 'commit',
      buildTag: 'kb-1',
      registry: REGISTRY,
      chains: [
        [{ type: 'docker-tag', config: { repository: 'aa', tag: [] } }],
        [{ type: 'docker-tag', config: { repository: `${HOST}/bb`, tags: ['1'] } }],
        [{ type: 'docker-tag', config: { repository: 'ghcr.io/x/c', tags: ['1'] } }],
      ],
    });
    missingRepository('aa');
    missingRepository('bb');
    const out = await ensureRepositories(client, plan.published, options());
    expect(out.map((o) => [o.uri, o.action])).toEqual([
      [`${HOST}/aa`, 'created'],
      [`${HOST}/bb`, 'created'],
    ]);
    // Another registry is not published by Kiln at all (only an explicit docker-push reaches it).
    expect(plan.published.map((p) => p.repository.uri)).not.toContain('ghcr.io/x/c');
  });

  it('classifies throttling as Kiln.Transient and a denial as Kiln.PublishFailed', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      );
    await expect(ensureRepositories(client, [published('app')], options())).rejects.toMatchObject({
      name: 'Kiln.Transient',
    });
    ecr.on(DescribeRepositoriesCommand).rejects(notFound('AccessDeniedException', 'not authorized'));
    await expect(ensureRepositories(client, [published('app')], options())).rejects.toMatchObject({
      name: 'Kiln.PublishFailed',
      message: expect.stringContaining(`reading ECR repository ${HOST}/app: AccessDeniedException`),
    });
  });
});

describe('lifecyclePolicy', () => {
  it('only expires untagged images, after N days: no count rule could expire an image a channel holds', () => {
    expect(JSON.parse(lifecyclePolicy({ ...DEFAULT_ECR_SETTINGS, untaggedExpireDays: 3 }))).toEqual({
      rules: [
        {
          rulePriority: 1,
          description: 'Kiln: expire untagged images 3 days after their push',
          selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 3 },
          action: { type: 'expire' },
        },
      ],
    });
  });
});

describe('ecrSettingsFromEnv', () => {
  it('defaults to MUTABLE, AES256, 14 days', () => {
    expect(ecrSettingsFromEnv({})).toEqual({ tagMutability: 'MUTABLE', untaggedExpireDays: 14 });
  });

  it('reads every KILN_ECR_* variable', () => {
    expect(
      ecrSettingsFromEnv({
        KILN_ECR_TAG_MUTABILITY: 'IMMUTABLE',
        KILN_ECR_KMS_KEY_ARN: KEY,
        KILN_ECR_UNTAGGED_EXPIRE_DAYS: '3',
      }),
    ).toEqual({ tagMutability: 'IMMUTABLE', kmsKeyArn: KEY, untaggedExpireDays: 3 });
  });

  it.each([
    [{ KILN_ECR_TAG_MUTABILITY: 'mutable' }, /KILN_ECR_TAG_MUTABILITY must be one of MUTABLE, IMMUTABLE/],
    [{ KILN_ECR_KMS_KEY_ARN: 'alias/x' }, /KILN_ECR_KMS_KEY_ARN must be a KMS key ARN/],
    [{ KILN_ECR_UNTAGGED_EXPIRE_DAYS: '0' }, /KILN_ECR_UNTAGGED_EXPIRE_DAYS must be a positive number/],
  ])('refuses %j at cold start', (env, message) => {
    expect(() => ecrSettingsFromEnv(env)).toThrow(message);
  });
});

describe('ecrTagValue', () => {
  it('keeps what ECR allows and cuts at 256 characters', () => {
    expect(ecrTagValue('s3://b/templates/a b+c=d@e:f_g.h-i/j')).toBe('s3://b/templates/a b+c=d@e:f_g.h-i/j');
    expect(ecrTagValue('a'.repeat(300))).toHaveLength(256);
  });
});

describe('ecrPassword', () => {
  it('returns the password part of the decoded token', async () => {
    const token = Buffer.from('AWS:pa:ss=word').toString('base64');
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: token }] });
    await expect(ecrPassword(client)).resolves.toBe('pa:ss=word');
  });

  it('fails with Kiln.PublishFailed on a missing or malformed token', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    await expect(ecrPassword(client)).rejects.toMatchObject({ name: 'Kiln.PublishFailed' });
    ecr
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from('nocolon').toString('base64') }] });
    await expect(ecrPassword(client)).rejects.toThrow(/not "AWS:<password>"/);
  });
});

describe('ecrAccess (RunHostStep’s EcrAccess on the ECR API)', () => {
  it('ensures in the registry’s region and returns the login password', async () => {
    const regions: string[] = [];
    const access: EcrAccess = ecrAccess((region) => {
      regions.push(region);
      return new ECRClient({ region });
    }, DEFAULT_ECR_SETTINGS);
    missingRepository('my-python-app');
    await access.ensure(REGISTRY, [published('my-python-app')]);
    const tags = ecr.commandCalls(CreateRepositoryCommand)[0]?.args[0].input.tags;
    expect(tags).toEqual([{ Key: TAG_MANAGED, Value: 'true' }]);
    ecr
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:secret').toString('base64') }] });
    await expect(access.password(REGISTRY)).resolves.toBe('secret');
    expect(regions).toEqual(['us-east-1', 'us-east-1']);
  });
});
