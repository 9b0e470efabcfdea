/**
 * RecordImages: after a docker build's finish step succeeded, read back what ECR holds for each repository the
 * build published (functions/lib/ecr/published.ts: the same plan the finish step rendered) and record it in
 * `state.pushed`: repository URI, region, the tags pushed and the manifest digest. The image is found by the
 * build id tag, the one tag only this build pushes (`latest` and other template tags may have moved on to a
 * later build already). An image missing there means the push did not land: the build fails with
 * Kiln.PublishFailed naming repository and tag.
 *
 * Only repositories of this account's registry in the build's region are read (Kiln's roles reach no other
 * registry); one elsewhere gets a note instead of a record. Idempotent: `pushed` is rebuilt from ECR each time.
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { PublishedRepository } from '../../../core/docker/postprocess.ts';
import { PublishFailedError } from '../../../core/errors.ts';
import { awsCall, awsErrorCode } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type DockerImageRecord,
  type Ec2DockerState,
  type PayloadOf,
  requireDriver,
  type StagePayload,
} from '../../lib/build-state.ts';
import { inRegistry } from '../../lib/ecr/ensure.ts';
import { packerArtifactIdOf, publishedRepositories } from '../../lib/ecr/published.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';

export interface RecordImagesDeps extends Pick<BaseDeps, 's3' | 'artifactsBucket' | 'homeRegion'> {
  readonly ecrFor: (region: string) => ECRClient;
  /** The deployment's account (KILN_ACCOUNT_ID): bare repository names are its ECR repositories. */
  readonly accountId: string;
}

const NOT_THERE = new Set(['ImageNotFoundException', 'RepositoryNotFoundException']);

async function digestOf(ecr: ECRClient, published: PublishedRepository, tag: string): Promise<string> {
  const repository = published.repository;
  const missing = (why: string) =>
    new PublishFailedError(
      `The image ${repository.uri}:${tag} is not in ECR after the push (${why}): the finish step's push did not ` +
        "land; read the finish step's output in the build log",
    );
  const out = await awsCall(
    `reading the pushed image ${repository.uri}:${tag} from ECR`,
    (m, c) => new PublishFailedError(m, { cause: c }),
    async () => {
      try {
        return await ecr.send(
          new DescribeImagesCommand({
            ...(repository.ecr ? { registryId: repository.ecr.account } : {}),
            repositoryName: repository.path,
            imageIds: [{ imageTag: tag }],
          }),
        );
      } catch (err) {
        const code = awsErrorCode(err);
        if (NOT_THERE.has(code)) throw missing(code);
        throw err;
      }
    },
  );
  const digest = out.imageDetails?.[0]?.imageDigest;
  if (!digest) throw missing('DescribeImages found no image with that tag');
  return digest;
}

export async function recordImages(deps: RecordImagesDeps, payload: StagePayload): Promise<PayloadOf<Ec2DockerState>> {
  const state = requireDriver(payload.state, 'ec2-docker');
  const ctx = await loadBuildContext(deps, state);
  const registry = { account: deps.accountId, region: ctx.region };
  const pushed: DockerImageRecord[] = [];
  const notes: string[] = [];
  for (const published of publishedRepositories(ctx, state, deps.accountId)) {
    const repository = published.repository;
    if (!repository.ecr || !inRegistry(repository, registry)) {
      notes.push(
        `${repository.uri}: pushed, but its digest is not recorded (outside this account's ECR in ${registry.region})`,
      );
      continue;
    }
    const digest = await digestOf(deps.ecrFor(repository.ecr.region), published, state.buildId);
    pushed.push({ repository: repository.uri, region: repository.ecr.region, tags: [...published.tags], digest });
  }
  const packerArtifactId = packerArtifactIdOf(ctx, state, deps.accountId);
  const known = new Set(state.notes ?? []);
  const added = notes.filter((n) => !known.has(n));
  return {
    state: {
      ...state,
      pushed,
      ...(packerArtifactId !== undefined ? { packerArtifactId } : {}),
      ...(added.length > 0 ? { notes: [...(state.notes ?? []), ...added] } : {}),
    },
    wait: { done: true, waitSeconds: 0 },
  };
}
