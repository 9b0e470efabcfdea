/**
 * Tags on everything Kiln creates. IAM conditions and the orphan sweeper key on `kiln:build-id`.
 */
import type { Tag } from '@aws-sdk/client-ec2';

export const TAG_BUILD_ID = 'kiln:build-id';
export const TAG_EXECUTION = 'kiln:execution';
export const TAG_TEMPLATE = 'kiln:template';
export const TAG_BUILD_INDEX = 'kiln:build-index';
export const TAG_BUILD_NAME = 'kiln:build-name';

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

/** Template tag maps (`tags`, `run_tags`, ...) → EC2 tags; HCL may also give a list of {key, value}. */
export function toTags(value: unknown): Tag[] {
  if (Array.isArray(value)) {
    return value
      .filter((t): t is Record<string, unknown> => !!t && typeof t === 'object')
      .map((t) => ({ Key: String(t.key ?? t.Key ?? ''), Value: String(t.value ?? t.Value ?? '') }))
      .filter((t) => t.Key !== '');
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([Key, v]) => ({ Key, Value: String(v) }));
  }
  return [];
}

/** Later lists win on the same key (Kiln's own tags go last so a template cannot forge them). */
export function mergeTags(...lists: Tag[][]): Tag[] {
  const map = new Map<string, string>();
  for (const list of lists) for (const t of list) if (t.Key) map.set(t.Key, t.Value ?? '');
  return [...map.entries()].map(([Key, Value]) => ({ Key, Value }));
}
