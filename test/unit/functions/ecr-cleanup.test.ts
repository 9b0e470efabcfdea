/** The docker driver's cleanup of a failed build's build id tag in ECR (functions/ec2-docker/ecr-cleanup-entries.ts). */
import { BatchDeleteImageCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { type EcrImageResource, ecrImageCleanup } from '../../../functions/ec2-docker/ecr-cleanup-entries.ts';
import { type CleanupStep, cleanupRun } from '../../../functions/lib/cleanup-table.ts';
import { dockerState } from './docker-plan.ts';
import { mocks } from './fakes.ts';

const ecr = mockClient(ECRClient);
beforeEach(() => ecr.reset());

const image: EcrImageResource = {
  kind: 'ecr-image',
  region: 'us-east-1',
  registryId: '123456789012',
  repository: 'my-python-app',
  tag: 'kb-test',
};

async function remove(): Promise<CleanupStep[]> {
  const steps: CleanupStep[] = [];
  const regions: string[] = [];
  const handler = ecrImageCleanup((region) => {
    regions.push(region);
    return new ECRClient({ region });
  });
  await handler.remove(cleanupRun(mocks().deps, dockerState('builds/kb-test/plan.json'), steps), image);
  expect(regions).toEqual(['us-east-1']);
  return steps;
}

const step = { action: 'remove-image-tag', target: '123456789012/my-python-app:kb-test', region: 'us-east-1' };

describe('ecr-image cleanup', () => {
  it('removes exactly the build id tag (BatchDeleteImage by tag)', async () => {
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageTag: 'kb-test' }], failures: [] });
    expect(await remove()).toEqual([{ ...step, outcome: 'removed' }]);
    expect(ecr).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
      registryId: '123456789012',
      repositoryName: 'my-python-app',
      imageIds: [{ imageTag: 'kb-test' }],
    });
  });

  it('counts a tag that was never pushed, or a repository that is gone, as already gone', async () => {
    ecr.on(BatchDeleteImageCommand).resolves({
      failures: [{ imageId: { imageTag: 'kb-test' }, failureCode: 'ImageNotFound', failureReason: 'not found' }],
    });
    expect(await remove()).toEqual([{ ...step, outcome: 'already-gone' }]);
    ecr
      .on(BatchDeleteImageCommand)
      .rejects(Object.assign(new Error('no repository'), { name: 'RepositoryNotFoundException' }));
    expect(await remove()).toEqual([{ ...step, outcome: 'already-gone' }]);
  });

  it('reports any other failure without throwing (the other removals still run)', async () => {
    ecr.on(BatchDeleteImageCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    expect(await remove()).toEqual([{ ...step, outcome: 'failed', message: 'AccessDeniedException: denied' }]);
  });
});
