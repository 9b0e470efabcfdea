/**
 * The daily lifecycle run (registry entry `Lifecycle`, an EventBridge schedule): reads every artifact and channel
 * of the registry, plans with core/image-registry/lifecycle.ts, then per artifact deprecates (AMIs in every
 * region, then the deprecation recorded: its time starts the grace period) or deletes (AMIs deregistered with
 * their snapshots in every region, or the container image by digest in a Kiln-managed repository, then the
 * artifact recorded retired). Each artifact is done on its own: a failure is reported and the others go on; the
 * registry records a step only after AWS did it, so the next run redoes (idempotently) what a failed one left.
 */

import { type RegistryContext, recordRetirement, scanRegistry } from '../../../aws/image-registry-store.ts';
import { deleteImages, deprecateImages, type ImageAction, type ImageClients } from '../../../aws/image-retirement.ts';
import type { Artifact } from '../../../core/image-registry/artifact.ts';
import { RegistryError } from '../../../core/image-registry/errors.ts';
import { type KeepReason, type LifecyclePolicy, planLifecycle } from '../../../core/image-registry/lifecycle.ts';

export interface LifecycleDeps {
  readonly registry: RegistryContext;
  readonly images: ImageClients;
  readonly policy: LifecyclePolicy;
  readonly now: () => Date;
}

export interface LifecycleReport {
  readonly deprecated: readonly string[];
  readonly retired: readonly string[];
  readonly kept: Partial<Record<KeepReason, number>>;
  /** Each image and snapshot touched, per artifact. */
  readonly actions: Readonly<Record<string, readonly ImageAction[]>>;
  readonly failures: readonly { readonly artifactId: string; readonly error: string }[];
}

/** Artifacts handled at once: a few, so a large backlog neither runs serially nor floods EC2's API limits. */
const PARALLEL = 4;

async function eachLimited<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

export async function runLifecycle(deps: LifecycleDeps): Promise<LifecycleReport> {
  const now = deps.now();
  const { artifacts, channels } = await scanRegistry(deps.registry);
  const plan = planLifecycle(artifacts, channels, deps.policy, now);
  const deprecated: string[] = [];
  const retired: string[] = [];
  const actions: Record<string, ImageAction[]> = {};
  const failures: { artifactId: string; error: string }[] = [];
  const guarded = (step: (a: Artifact) => Promise<void>) => async (a: Artifact) => {
    try {
      await step(a);
    } catch (error) {
      failures.push({
        artifactId: a.artifactId,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  };
  await eachLimited(
    plan.deprecate,
    guarded(async (a) => {
      actions[a.artifactId] = await deprecateImages(deps.images, a, now);
      await recordRetirement(deps.registry, a.artifactId, { deprecatedAt: now.toISOString() });
      deprecated.push(a.artifactId);
    }),
  );
  await eachLimited(
    plan.remove,
    guarded(async (a) => {
      const done = await deleteImages(deps.images, a);
      actions[a.artifactId] = done;
      const left = done.filter((d) => d.outcome === 'left').map((d) => `${d.id} left: ${d.note ?? ''}`);
      await recordRetirement(deps.registry, a.artifactId, {
        deprecatedAt: a.retirement?.deprecatedAt ?? now.toISOString(),
        retiredAt: now.toISOString(),
        ...(left.length > 0 ? { note: left.join('; ') } : {}),
      });
      retired.push(a.artifactId);
    }),
  );
  const kept: Partial<Record<KeepReason, number>> = {};
  for (const k of plan.kept) kept[k.reason] = (kept[k.reason] ?? 0) + 1;
  return { deprecated: deprecated.sort(), retired: retired.sort(), kept, actions, failures };
}

/** The run as the Lambda answers it: the report, or, when an artifact failed, an error naming each (after logging). */
export function assertComplete(report: LifecycleReport): LifecycleReport {
  if (report.failures.length === 0) return report;
  throw new RegistryError(
    'LifecycleIncomplete',
    `lifecycle could not finish ${report.failures.length} artifact(s), the next run tries again: ${report.failures
      .map((f) => `${f.artifactId}: ${f.error}`)
      .join('; ')}`,
  );
}
