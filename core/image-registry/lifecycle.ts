/**
 * Lifecycle: which artifacts a run retires. Per template build the newest `keepPerBuild` are kept; older ones are
 * deprecated first (their AMIs deprecated now), then, `graceDays` after their deprecation, deleted (AMIs
 * deregistered with their snapshots in every region, container images deleted by digest) and marked retired.
 * Never touched, whatever their age:
 * - what a channel holds now (any channel of any build: channels pin artifact ids),
 * - each channel's last `rollbackProtection` rollback targets (a rollback must not publish a deleted AMI; older
 *   targets may be retired, and rollback refuses a retired one, channels.ts),
 * - agent artifacts (files under the artifacts bucket's kept prefix: not Kiln's to delete),
 * - a container image whose digest another artifact that is not being deleted still records.
 * A revoked artifact is aged like any other (revoke already deprecated its AMIs). Pure: the lifecycle function
 * (functions/common/lifecycle) reads the registry, applies the plan, and re-running it after a partial failure
 * finishes what is left (each step is idempotent and recorded only once done).
 */
import type { Artifact } from './artifact.ts';
import type { ChannelState } from './channels.ts';
import { RegistryError } from './errors.ts';
import { byNewest } from './lineage.ts';

export interface LifecyclePolicy {
  /** Newest artifacts kept per template build (1 or more). */
  readonly keepPerBuild: number;
  /** Days between deprecation and deletion (0: delete on the run after the one that deprecated). */
  readonly graceDays: number;
  /** Rollback targets per channel (most recent first) kept with the current assignment. */
  readonly rollbackProtection: number;
}

export const DEFAULT_LIFECYCLE_POLICY: LifecyclePolicy = { keepPerBuild: 10, graceDays: 7, rollbackProtection: 3 };

export function assertLifecyclePolicy(p: LifecyclePolicy): LifecyclePolicy {
  const whole = (n: number, min: number) => Number.isInteger(n) && n >= min;
  if (!whole(p.keepPerBuild, 1) || !whole(p.graceDays, 0) || !whole(p.rollbackProtection, 0)) {
    throw new RegistryError(
      'InvalidRequest',
      `lifecycle policy ${JSON.stringify(p)}: keepPerBuild must be a whole number of 1 or more, graceDays and ` +
        'rollbackProtection whole numbers of 0 or more',
    );
  }
  return p;
}

export type KeepReason = 'recent' | 'channel' | 'rollback-target' | 'agent' | 'shared-image' | 'in-grace' | 'retired';

export interface LifecyclePlan {
  /** Deprecate now (AMIs in every region), record the deprecation. */
  readonly deprecate: readonly Artifact[];
  /** Grace period over: delete the images, then record the artifact retired. */
  readonly remove: readonly Artifact[];
  /** Everything else, with why, for the run's report. */
  readonly kept: readonly { readonly artifactId: string; readonly reason: KeepReason }[];
}

const DAY_MS = 86_400_000;

/** Artifact ids no lifecycle run may touch: each channel's current assignment and its nearest rollback targets. */
export function protectedArtifacts(
  channels: readonly ChannelState[],
  rollbackProtection: number,
): Map<string, KeepReason> {
  const held = new Map<string, KeepReason>();
  for (const c of channels) {
    const targets = rollbackProtection > 0 ? c.previous.slice(-rollbackProtection) : [];
    for (const id of targets) if (!held.has(id)) held.set(id, 'rollback-target');
  }
  for (const c of channels) if (c.current !== undefined) held.set(c.current, 'channel');
  return held;
}

function imageKey(a: Artifact): string | undefined {
  if (a.content.kind !== 'container-image') return undefined;
  const at = a.content.imageUri.lastIndexOf(':');
  const slash = a.content.imageUri.lastIndexOf('/');
  const repository = at > slash ? a.content.imageUri.slice(0, at) : a.content.imageUri;
  return `${repository}@${a.content.digest}`;
}

export function planLifecycle(
  artifacts: readonly Artifact[],
  channels: readonly ChannelState[],
  policy: LifecyclePolicy,
  now: Date,
): LifecyclePlan {
  assertLifecyclePolicy(policy);
  const held = protectedArtifacts(channels, policy.rollbackProtection);
  const kept: { artifactId: string; reason: KeepReason }[] = [];
  const deprecate: Artifact[] = [];
  const due: Artifact[] = [];
  const groups = new Map<string, Artifact[]>();
  for (const a of artifacts) {
    const key = JSON.stringify([a.template, a.build]);
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  for (const group of groups.values()) {
    group.sort(byNewest).forEach((a, index) => {
      const keep = (reason: KeepReason) => kept.push({ artifactId: a.artifactId, reason });
      const holder = held.get(a.artifactId);
      if (a.retirement?.retiredAt) keep('retired');
      else if (index < policy.keepPerBuild) keep('recent');
      else if (holder) keep(holder);
      else if (a.content.kind === 'agent') keep('agent');
      else if (!a.retirement) deprecate.push(a);
      else if (Date.parse(a.retirement.deprecatedAt) + policy.graceDays * DAY_MS <= now.getTime()) due.push(a);
      else keep('in-grace');
    });
  }
  // An image (repository and digest) is deleted only when every artifact recording it goes with it.
  const leaving = new Set(due.map((a) => a.artifactId));
  const stillUsed = new Set(
    artifacts.filter((a) => !leaving.has(a.artifactId) && !a.retirement?.retiredAt).map(imageKey),
  );
  const remove: Artifact[] = [];
  for (const a of due) {
    const key = imageKey(a);
    if (key !== undefined && stillUsed.has(key)) kept.push({ artifactId: a.artifactId, reason: 'shared-image' });
    else remove.push(a);
  }
  return { deprecate, remove, kept };
}
