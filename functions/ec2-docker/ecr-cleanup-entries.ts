/**
 * Cleanup of the docker driver's pushes (created kind `ecr-image`, recorded by RunHostStep before finish): a build that
 * fails after its finish step pushed must not leave Kiln's build id tag behind, since that tag claims "this build
 * produced this image" (rollback, lineage). Removal is BatchDeleteImage by that one tag: ECR then drops the tag, and
 * deletes the image only when it was the image's last tag, so an image another build or a template tag still
 * names stays. Template tags the failed build pushed (`latest`, ...) are not touched: removing one would not bring
 * back the image it named before (ECR keeps no tag history); see the report on push order.
 * Removal is idempotent: a tag never pushed is `already-gone`.
 */
import { BatchDeleteImageCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { CreatedOf } from '../lib/build-state.ts';
import type { CleanupHandler } from '../lib/cleanup-table.ts';

/** The `created` entry this handler removes: registry account, repository name (not the URI), the build id tag. */
export type EcrImageResource = CreatedOf<'ecr-image'>;

/** BatchDeleteImage reports per-image failures in its answer instead of throwing. */
class EcrImageFailure extends Error {
  constructor(code: string, reason: string) {
    super(reason);
    // cleanupRun's classification reads the name: ImageNotFound counts as already gone.
    this.name = code === 'ImageNotFound' ? 'ImageNotFoundException' : code;
  }
}

export function ecrImageCleanup(ecrFor: (region: string) => ECRClient): CleanupHandler<EcrImageResource> {
  return {
    remove: (run, image) =>
      run.attempt(
        {
          action: 'remove-image-tag',
          target: `${image.registryId}/${image.repository}:${image.tag}`,
          region: image.region,
        },
        async () => {
          const out = await ecrFor(image.region).send(
            new BatchDeleteImageCommand({
              registryId: image.registryId,
              repositoryName: image.repository,
              imageIds: [{ imageTag: image.tag }],
            }),
          );
          const failure = out.failures?.[0];
          if (failure)
            throw new EcrImageFailure(failure.failureCode ?? 'Error', failure.failureReason ?? 'not removed');
        },
      ),
  };
}
