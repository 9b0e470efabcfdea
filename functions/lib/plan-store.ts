/**
 * Where a build's plan lives: PrepareBuild writes `builds/<buildId>/plan.json` once (SSE), every later stage
 * reads it by key and picks its build by index. The plan is immutable per buildId, so a warm container caches it.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { InputFingerprint } from '../../aws/build-fingerprint.ts';
import { NotFoundError } from '../../core/errors.ts';
import { isDockerBuild } from '../../core/plan/typed.ts';
import type { BuildPlan, PlannedBuild } from '../../core/plan/types.ts';
import { awsCall } from './aws-errors.ts';

export interface TemplateLocation {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface StoredPlan {
  readonly version: 1;
  readonly buildId: string;
  readonly executionName: string;
  readonly template: TemplateLocation;
  readonly plan: BuildPlan;
  /**
   * True when the build has sensitive values: they live in the sealed object (functions/lib/sealed-values.ts),
   * and the plan holds placeholders (provisioners) or `<sensitive>` (everything else) instead.
   */
  readonly sealed?: boolean;
  /**
   * Docker builds' base images with the digest PrepareBuild resolved (its fingerprint), by build name: Finalize
   * records it as the artifact's source, so lineage finds the Kiln artifact that built the base image.
   */
  readonly baseImages?: Readonly<Record<string, { readonly reference: string; readonly digest: string }>>;
  readonly createdAt: string;
}

/** The resolved base images of a fingerprint (docker builds whose image has a digest), by build name. */
export function baseImagesOf(fp: InputFingerprint): Record<string, { reference: string; digest: string }> {
  const out: Record<string, { reference: string; digest: string }> = {};
  for (const b of fp.builds) {
    if (b.source.kind === 'image' && b.source.digest) {
      out[b.name] = { reference: b.source.reference, digest: b.source.digest };
    }
  }
  return out;
}

/**
 * The docker builder's `image` of a planned build, with the digest PrepareBuild resolved for it (`baseImages`) when
 * it is the same reference: what the host pulls and runs (RunHostStep's prepare) and what Finalize records as the
 * artifact's source, so the two are the same image. None for a build that is not docker or has no image.
 */
export function baseImageOf(
  stored: StoredPlan,
  index: number,
): { readonly reference: string; readonly digest?: string } | undefined {
  const build = stored.plan.builds[index];
  const reference = build && isDockerBuild(build) ? build.config.image || undefined : undefined;
  if (!reference || !build) return undefined;
  const resolved = stored.baseImages?.[build.name];
  return resolved?.reference === reference ? { reference, digest: resolved.digest } : { reference };
}

export { buildPrefix, filesPrefix, manifestKeyFor, planKeyFor, stagedFileKey } from '../../aws/store-layout.ts';

const cache = new Map<string, StoredPlan>();

export async function loadStoredPlan(s3: S3Client, bucket: string, key: string): Promise<StoredPlan> {
  const cacheKey = `${bucket}/${key}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const out = await awsCall(
    `reading the build plan s3://${bucket}/${key}`,
    (m, cause) => new NotFoundError(m, { cause }),
    () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
  );
  const text = await out.Body?.transformToString('utf8');
  if (!text) throw new NotFoundError(`The build plan s3://${bucket}/${key} is empty`);
  const stored = JSON.parse(text) as StoredPlan;
  cache.set(cacheKey, stored);
  return stored;
}

export function plannedBuild(stored: StoredPlan, index: number): PlannedBuild {
  const build = stored.plan.builds[index];
  if (!build) throw new NotFoundError(`The plan has no build #${index} (it has ${stored.plan.builds.length})`);
  return build;
}

/** For tests: forget cached plans. */
export function clearPlanCache(): void {
  cache.clear();
}
