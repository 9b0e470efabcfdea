/**
 * RecordImages: after the finish step, each repository the build published (the same plan the finish step
 * renders) is read back from ECR by the build id tag, and its digest recorded in `state.pushed`.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderFinish } from '../../../core/docker/host.ts';
import { dockerBuild } from '../../../core/plan/typed.ts';
import { recordImages } from '../../../functions/ec2-docker/record-images/record-images.ts';
import type { Ec2DockerState } from '../../../functions/lib/build-state.ts';
import type { StoredPlan } from '../../../functions/lib/plan-store.ts';
import { dockerState as stateAt, storedDockerPlan } from './docker-plan.ts';
import { BUCKET, baseState, mocks, PLAN_KEY } from './fakes.ts';

const ACCOUNT = '123456789012';
const HOST = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const OTHER = '999999999999.dkr.ecr.us-east-1.amazonaws.com/shared';
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

/** The reference template's docker-tag, plus a tagged and pushed repository and one in another account. */
const TEMPLATE = {
  builders: [{ type: 'docker', image: 'python:3.9-slim', commit: true }],
  provisioners: [{ type: 'shell', inline: ['true'] }],
  'post-processors': [
    { type: 'docker-tag', repository: 'my-python-app', tag: '' },
    [{ type: 'docker-tag', repository: 'svc/api', tags: ['1.0', 'stable'] }, { type: 'docker-push' }],
    { type: 'docker-tag', repository: OTHER, tags: ['x'] },
  ],
};

let stored: StoredPlan;
beforeAll(async () => {
  stored = await storedDockerPlan(TEMPLATE);
});

const ecr = mockClient(ECRClient);
beforeEach(() => {
  ecr.reset();
});

function setup() {
  const t = mocks(JSON.stringify(stored));
  const regions: string[] = [];
  const deps = {
    s3: t.deps.s3,
    artifactsBucket: BUCKET,
    homeRegion: 'us-east-1',
    accountId: ACCOUNT,
    ecrFor: (region: string) => {
      regions.push(region);
      return new ECRClient({ region });
    },
  };
  return { deps, regions };
}

const dockerState = (over: Partial<Ec2DockerState> = {}) => stateAt(PLAN_KEY, over);

const image = (digest: string, tags: string[]) => ({ imageDetails: [{ imageDigest: digest, imageTags: tags }] });

describe('recordImages', () => {
  it('reads each pushed image back by the build id tag and records repository, region, tags and digest', async () => {
    const { deps, regions } = setup();
    ecr.on(DescribeImagesCommand, { repositoryName: 'my-python-app' }).resolves(image(DIGEST_A, ['latest', 'kb-test']));
    ecr.on(DescribeImagesCommand, { repositoryName: 'svc/api' }).resolves(image(DIGEST_B, ['1.0', 'kb-test']));
    const out = await recordImages(deps, { state: dockerState() });
    // Packer's id for the reference template's artifact (docker-tag with an empty tag): the repository as written.
    expect(out.state.packerArtifactId).toBe('my-python-app');
    expect(out.state.pushed).toEqual([
      { repository: `${HOST}/my-python-app`, region: 'us-east-1', tags: ['latest', 'kb-test'], digest: DIGEST_A },
      { repository: `${HOST}/svc/api`, region: 'us-east-1', tags: ['1.0', 'stable', 'kb-test'], digest: DIGEST_B },
    ]);
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, {
      registryId: ACCOUNT,
      repositoryName: 'my-python-app',
      imageIds: [{ imageTag: 'kb-test' }],
    });
    // The other account's repository is pushed by the host but not read (no Kiln role reaches it): a note says so.
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 2);
    expect(out.state.notes).toEqual([
      `${OTHER}: pushed, but its digest is not recorded (outside this account's ECR in us-east-1)`,
    ]);
    expect(regions).toEqual(['us-east-1', 'us-east-1']);
    expect(out.wait).toEqual({ done: true, waitSeconds: 0 });
  });

  it('records exactly the repositories and tags the finish step pushes (same plan, same context)', async () => {
    const { deps } = setup();
    ecr.on(DescribeImagesCommand).resolves(image(DIGEST_A, []));
    const out = await recordImages(deps, { state: dockerState() });
    const [planned] = stored.plan.builds;
    if (!planned) throw new Error('the plan has no build');
    const build = dockerBuild(planned);
    const { script } = renderFinish(build, {
      buildId: 'kb-test',
      buildName: 'docker',
      registry: { account: ACCOUNT, region: 'us-east-1' },
    });
    const pushes = [...script.matchAll(/^docker push -- (\S+)$/gm)].map((m) => m[1]);
    const recorded = out.state.pushed.flatMap((p) => p.tags.map((t) => `${p.repository}:${t}`));
    // The same set (the build id tag is pushed first; the record lists the template's tags first).
    expect(pushes.filter((name) => !name?.startsWith(OTHER)).sort()).toEqual(recorded.sort());
  });

  it('fails with Kiln.PublishFailed naming repository and tag when the image is not there', async () => {
    const { deps } = setup();
    ecr.on(DescribeImagesCommand, { repositoryName: 'my-python-app' }).resolves(image(DIGEST_A, ['kb-test']));
    ecr.on(DescribeImagesCommand, { repositoryName: 'svc/api' }).rejects(
      Object.assign(new Error("The image with imageId {imageTag:'kb-test'} does not exist"), {
        name: 'ImageNotFoundException',
      }),
    );
    const failure = recordImages(deps, { state: dockerState() });
    await expect(failure).rejects.toMatchObject({ name: 'Kiln.PublishFailed' });
    await expect(failure).rejects.toThrow(`The image ${HOST}/svc/api:kb-test is not in ECR after the push`);
  });

  it('fails the same way when ECR answers with no image', async () => {
    const { deps } = setup();
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] });
    await expect(recordImages(deps, { state: dockerState() })).rejects.toThrow(
      `The image ${HOST}/my-python-app:kb-test is not in ECR after the push (DescribeImages found no image with that tag)`,
    );
  });

  it('is idempotent: a retry rebuilds pushed and adds no note twice', async () => {
    const { deps } = setup();
    ecr.on(DescribeImagesCommand).resolves(image(DIGEST_A, []));
    const first = await recordImages(deps, { state: dockerState() });
    const second = await recordImages(deps, first);
    expect(second.state.pushed).toEqual(first.state.pushed);
    expect(second.state.notes).toEqual(first.state.notes);
  });

  it('runs for the docker driver only', async () => {
    const { deps } = setup();
    await expect(recordImages(deps, { state: baseState() })).rejects.toThrow(/for the ec2-docker driver, not ec2-ami/);
  });
});
