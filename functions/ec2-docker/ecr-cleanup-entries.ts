/**
 * Cleanup of the docker driver's pushes (proposed kind `ecr-image`, not in the build-state schema yet): a build that
 * fails after its finish step pushed must not leave Kiln's build id tag behind, since that tag claims "this build
 * produced this image" (rollback, lineage). Removal is BatchDeleteImage by that one tag: ECR then drops the tag, and
 * deletes the image only when it was the image's last tag, so an image another build or a template tag still
 * names stays. Template tags the failed build pushed (`latest`, ...) are not touched: removing one would not bring
 * back the image it named before (ECR keeps no tag history); see the report on push order.
 *
 * To wire it (the build state's owner): add to `createdResourceSchema`
 *   z.object({ kind: z.literal('ecr-image'), region: z.string(), registryId: z.string(), repository: z.string(), tag: z.string() }),
 * record one entry per published repository of this registry (functions/lib/ecr/published.ts) before sending the
 * finish step (removal is idempotent: a tag never pushed is `already-gone`), give the Cleanup function the
 * `ecr-cleanup` scope, and compose `{ 'ecr-image': ecrImageCleanup((r) => ecrClient(r)) }` into the cleanup table.
 */
import { BatchDeleteImageCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { CleanupHandler } from '../lib/cleanup-table.ts';

/** The `created` entry this handler removes (mirror of the proposed schema line above). */
export interface EcrImageResource {
  readonly kind: 'ecr-image';
  readonly region: string;
  /** Account of the registry. */
  readonly registryId: string;
  /** Repository name inside the registry (not the URI). */
  readonly repository: string;
  /** The build id tag. */
  readonly tag: string;
}

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
