/**
 * Tags on everything Kiln creates. IAM conditions and the orphan sweeper key on `kiln:build-id`.
 */
import type { Tag } from '@aws-sdk/client-ec2';
import { known } from '../core/schema/decoded.ts';
import type { Decoded, Scalar } from '../core/schema/fields.ts';

export const TAG_BUILD_ID = 'kiln:build-id';
export const TAG_EXECUTION = 'kiln:execution';
export const TAG_TEMPLATE = 'kiln:template';
export const TAG_BUILD_INDEX = 'kiln:build-index';
export const TAG_BUILD_NAME = 'kiln:build-name';
/**
 * Marks an ECR repository as Kiln's (value `true`): Kiln creates repositories with it, and builder hosts may push
 * only to repositories carrying it (infra/constructs/ecr-permissions.ts). Unlike the tags above it names no build:
 * a repository outlives the build that created it and is never a per-build resource to clean up or sweep.
 */
export const TAG_MANAGED = 'kiln:managed';
export const TAG_MANAGED_VALUE = 'true';

export interface KilnTagContext {
  readonly buildId: string;
  readonly executionName: string;
  readonly template: string;
  readonly index: number;
  readonly name: string;
}

export function kilnTags(ctx: KilnTagContext): Tag[] {
  return [
    { Key: TAG_BUILD_ID, Value: ctx.buildId },
    { Key: TAG_EXECUTION, Value: ctx.executionName },
    { Key: TAG_TEMPLATE, Value: ctx.template },
    { Key: TAG_BUILD_INDEX, Value: String(ctx.index) },
    { Key: TAG_BUILD_NAME, Value: ctx.name },
  ];
}

/** A template tag map (`tags`, `run_tags`, ..., decoded: a map, or a value left for run time) → EC2 tags. */
export function toTags(value: Decoded<Readonly<Record<string, Scalar | null>>> | undefined): Tag[] {
  return Object.entries(known(value) ?? {}).map(([Key, v]) => ({ Key, Value: String(v) }));
}

/** Later lists win on the same key (Kiln's own tags go last so a template cannot forge them). */
export function mergeTags(...lists: Tag[][]): Tag[] {
  const map = new Map<string, string>();
  for (const list of lists) for (const t of list) if (t.Key) map.set(t.Key, t.Value ?? '');
  return [...map.entries()].map(([Key, Value]) => ({ Key, Value }));
}
