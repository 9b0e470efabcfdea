/**
 * The ECR side of a docker build's publish (core/docker/postprocess.ts `DockerPostPlan.published`): before the
 * finish step pushes, every repository of the build's own registry exists (created with Kiln's settings when
 * missing). The login password is ./password.ts.
 *
 * - A repository in the build's own registry (its account and region) that does not exist is created with scan on
 *   push, encryption (the deployer's KMS key, else AES256), the configured tag mutability, Kiln's tags and
 *   `kiln:managed=true`, then gets Kiln's lifecycle policy.
 * - An existing repository is used as is: never reconfigured (its scanning, encryption, mutability and lifecycle
 *   stay its owner's), unless this execution created it on an earlier attempt (its `kiln:build-id` tag), whose
 *   lifecycle policy is then put again, since the attempt may have died between the two calls. It must carry `kiln:managed=true`, because the builder role pushes only to repositories
 *   carrying that tag (infra/constructs/builder-identity.ts): without it the push would be denied after the whole
 *   build ran, so the build stops here with what to do instead.
 * - A repository in another account or region, or in a registry that is not ECR, is not ensured: the template's
 *   own docker-push login (or that registry's policy) covers it.
 */
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  ListTagsForResourceCommand,
  PutLifecyclePolicyCommand,
  type Repository,
} from '@aws-sdk/client-ecr';
import { type KilnTagContext, kilnTags, TAG_BUILD_ID, TAG_MANAGED, TAG_MANAGED_VALUE } from '../../../aws/tags.ts';
import type { PublishedRepository } from '../../../core/docker/postprocess.ts';
import { PublishFailedError } from '../../../core/errors.ts';
import type { EcrRegistry, ResolvedRepository } from '../../../core/schema/docker-names.ts';
import { awsCall, awsErrorCode } from '../aws-errors.ts';
import { ecrPassword } from './password.ts';
import { createRepositoryRequest, type EcrRepositorySettings, lifecyclePolicy, repositoryTags } from './settings.ts';

export interface EnsureOptions {
  readonly settings: EcrRepositorySettings;
  /** The build's own registry (account and region of the pipeline): only its repositories are ensured. */
  readonly registry: EcrRegistry;
  /** Kiln's standard tags of the build that creates a repository (aws/tags.ts); absent: only `kiln:managed`. */
  readonly tagContext?: KilnTagContext;
}

export type EnsureAction = 'created' | 'existing' | 'skipped';

export interface EnsuredRepository {
  /** Repository URI without a tag. */
  readonly uri: string;
  readonly action: EnsureAction;
  /** What happened, for the build's notes. */
  readonly note: string;
}

const failed = (message: string, cause: unknown) => new PublishFailedError(message, { cause });

/** Whether a resolved repository lives in the given registry (same account and region). */
export function inRegistry(repository: ResolvedRepository, registry: EcrRegistry): boolean {
  return repository.ecr?.account === registry.account && repository.ecr.region === registry.region;
}

async function describe(ecr: ECRClient, repository: ResolvedRepository): Promise<Repository | undefined> {
  return awsCall(`reading ECR repository ${repository.uri}`, failed, async () => {
    try {
      const out = await ecr.send(
        new DescribeRepositoriesCommand({
          ...(repository.ecr ? { registryId: repository.ecr.account } : {}),
          repositoryNames: [repository.path],
        }),
      );
      return out.repositories?.[0];
    } catch (err) {
      if (awsErrorCode(err) === 'RepositoryNotFoundException') return undefined;
      throw err;
    }
  });
}

async function putLifecycle(ecr: ECRClient, repository: ResolvedRepository, settings: EcrRepositorySettings) {
  await awsCall(`setting the lifecycle policy of ECR repository ${repository.uri}`, failed, () =>
    ecr.send(
      new PutLifecyclePolicyCommand({
        ...(repository.ecr ? { registryId: repository.ecr.account } : {}),
        repositoryName: repository.path,
        lifecyclePolicyText: lifecyclePolicy(settings),
      }),
    ),
  );
}

function createdNote(repository: ResolvedRepository, settings: EcrRepositorySettings, extra = ''): string {
  const encryption = settings.kmsKeyArn ? `KMS key ${settings.kmsKeyArn}` : 'AES256';
  return `ECR repository ${repository.uri} created (scan on push, ${encryption}, tags ${settings.tagMutability.toLowerCase()}, lifecycle policy)${extra}`;
}

async function useExisting(
  ecr: ECRClient,
  repository: ResolvedRepository,
  found: Repository,
  opts: EnsureOptions,
): Promise<EnsuredRepository> {
  const arn = found.repositoryArn;
  if (!arn) throw new PublishFailedError(`ECR returned repository ${repository.uri} without its ARN`);
  const out = await awsCall(`reading the tags of ECR repository ${repository.uri}`, failed, () =>
    ecr.send(new ListTagsForResourceCommand({ resourceArn: arn })),
  );
  const managed = (out.tags ?? []).some((t) => t.Key === TAG_MANAGED && t.Value === TAG_MANAGED_VALUE);
  if (!managed) {
    throw new PublishFailedError(
      `ECR repository ${repository.uri} exists but is not tagged ${TAG_MANAGED}=${TAG_MANAGED_VALUE}: Kiln's builder hosts ` +
        `push only to repositories carrying that tag. Tag it to let Kiln push to it as it is (aws ecr tag-resource ` +
        `--resource-arn ${arn} --tags Key=${TAG_MANAGED},Value=${TAG_MANAGED_VALUE}), or name another repository in the ` +
        'template (Kiln creates a missing one)',
    );
  }
  // Created by this very execution on an earlier attempt (a retry after the lifecycle call failed or the function
  // timed out): finishing Kiln's own creation is not reconfiguring someone's repository.
  const buildId = opts.tagContext?.buildId;
  if (buildId && (out.tags ?? []).some((t) => t.Key === TAG_BUILD_ID && t.Value === buildId)) {
    await putLifecycle(ecr, repository, opts.settings);
    return {
      uri: repository.uri,
      action: 'created',
      note: createdNote(repository, opts.settings, ' on an earlier attempt'),
    };
  }
  return {
    uri: repository.uri,
    action: 'existing' as const,
    note: `ECR repository ${repository.uri} exists and is used as is (its scanning, encryption, tag mutability and lifecycle are not changed)`,
  };
}

async function ensureOne(
  ecr: ECRClient,
  repository: ResolvedRepository,
  opts: EnsureOptions,
): Promise<EnsuredRepository> {
  const found = await describe(ecr, repository);
  if (found) return useExisting(ecr, repository, found, opts);
  const request = createRepositoryRequest(
    repository,
    opts.settings,
    repositoryTags(opts.tagContext ? kilnTags(opts.tagContext) : []),
  );
  const created = await awsCall(`creating ECR repository ${repository.uri}`, failed, async () => {
    try {
      return (await ecr.send(new CreateRepositoryCommand(request))).repository;
    } catch (err) {
      // Another build created it between our read and our create: it is an existing repository now.
      if (awsErrorCode(err) === 'RepositoryAlreadyExistsException') return undefined;
      throw err;
    }
  });
  if (!created) {
    const again = await describe(ecr, repository);
    if (!again) throw new PublishFailedError(`ECR repository ${repository.uri} exists and cannot be read`);
    return useExisting(ecr, repository, again, opts);
  }
  await putLifecycle(ecr, repository, opts.settings);
  return { uri: repository.uri, action: 'created', note: createdNote(repository, opts.settings) };
}

/**
 * Ensures the published repositories of the build's own registry, in order; `ecr` is a client of that registry's
 * region. Returns one entry per published repository (skipped ones say why).
 */
export async function ensureRepositories(
  ecr: ECRClient,
  published: readonly PublishedRepository[],
  opts: EnsureOptions,
): Promise<EnsuredRepository[]> {
  const out: EnsuredRepository[] = [];
  for (const { repository } of published) {
    if (!inRegistry(repository, opts.registry)) {
      out.push({
        uri: repository.uri,
        action: 'skipped',
        note: `${repository.uri} is outside this account's ECR registry in ${opts.registry.region}: Kiln does not create or check it`,
      });
      continue;
    }
    out.push(await ensureOne(ecr, repository, opts));
  }
  return out;
}

/**
 * ECR as RunHostStep uses it (its `EcrAccess`): ensure the repositories of a registry, and the login password.
 * One client per registry region; `tagContext` gives new repositories the build's Kiln tags.
 */
export function ecrAccess(ecrFor: (region: string) => ECRClient, settings: EcrRepositorySettings) {
  return {
    ensure: (registry: EcrRegistry, published: readonly PublishedRepository[], tagContext?: KilnTagContext) =>
      ensureRepositories(ecrFor(registry.region), published, {
        settings,
        registry,
        ...(tagContext ? { tagContext } : {}),
      }),
    password: (registry: EcrRegistry) => ecrPassword(ecrFor(registry.region)),
  };
}
