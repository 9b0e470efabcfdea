/**
 * The contract between what starts a build (the S3 upload rule, EventBridge Scheduler, a direct request) and
 * PrepareBuild, which reads the input. Infra builds the rule pattern and the schedule input from these; PrepareBuild
 * parses with these; tests cross the boundary by feeding one to the other.
 */
import * as z from 'zod/mini';
import { isSidecarKey, SIDECAR_SUFFIX } from './build-input.ts';

/** Uploads with these suffixes under the templates prefix start a build: templates, and bundles holding one. */
export const TEMPLATE_SUFFIXES = ['.pkr.hcl', '.pkr.json', '.json', '.zip', '.tar.gz', '.tgz'] as const;

/**
 * Variable files match `.json` too; they are inputs of a template, never a build of their own. So are sidecars
 * (`<template key>.kiln.json`, aws/build-input.ts).
 */
export const VAR_FILE_SUFFIXES = ['.pkrvars.json', '.pkrvars.hcl'] as const;

/** Top-level keys of a JSON file that is a Packer template (legacy `builders`, or HCL2 in JSON syntax). */
const TEMPLATE_JSON_KEYS = [
  'builders',
  'variables',
  'provisioners',
  'post-processors',
  'min_packer_version',
  'sensitive-variables',
  'source',
  'build',
  'variable',
  'packer',
  'locals',
  'local',
  'data',
];

export const SCHEDULER_SOURCE = 'kiln.scheduler';
export const SCHEDULED_DETAIL_TYPE = 'Scheduled Build';

/**
 * What an EventBridge Scheduler schedule sends: event-shaped, so one path reads the template location.
 * `onlyIfChanged`: build only when an input moved since the template's last successful build (the template's
 * content, a resolved source AMI, a base image); otherwise the execution ends without building
 * (functions/common/prepare-build/only-if-changed.ts). Absent means false: schedules made before it existed build.
 */
export const scheduledBuildSchema = z.object({
  version: z.optional(z.string()),
  source: z.literal(SCHEDULER_SOURCE),
  'detail-type': z.literal(SCHEDULED_DETAIL_TYPE),
  detail: z.object({
    schedule: z.string().check(z.minLength(1)),
    bucket: z.object({ name: z.string().check(z.minLength(1)) }),
    object: z.object({ key: z.string().check(z.minLength(1)), 'version-id': z.optional(z.string()) }),
    onlyIfChanged: z.optional(z.boolean()),
  }),
});
export type ScheduledBuildInput = z.infer<typeof scheduledBuildSchema>;

export interface ScheduledBuildRequest {
  /** The schedule's name (PrepareBuild records it on the build; Finalize counts its failures by it). */
  readonly schedule: string;
  readonly bucket: string;
  readonly key: string;
  readonly onlyIfChanged?: boolean;
}

/** The input a schedule's target carries: the CDK app's schedules and `kiln schedules add` both build it here. */
export function scheduledBuildInput(r: ScheduledBuildRequest): ScheduledBuildInput {
  return {
    version: '0',
    source: SCHEDULER_SOURCE,
    'detail-type': SCHEDULED_DETAIL_TYPE,
    detail: {
      schedule: r.schedule,
      bucket: { name: r.bucket },
      object: { key: r.key },
      ...(r.onlyIfChanged ? { onlyIfChanged: true } : {}),
    },
  };
}

/**
 * Why an uploaded object that matched the rule is not a template (so its execution ends at once, successfully,
 * instead of failing), or undefined when it is one. `.json` is ambiguous: app files and var files share it.
 */
export function notATemplate(key: string, content?: string): string | undefined {
  const lower = key.toLowerCase();
  // Its template reads it when it builds (functions/common/prepare-build/sidecar.ts); uploading it builds nothing.
  if (isSidecarKey(key)) {
    return `${key} is a Kiln sidecar (the inputs of ${key.slice(0, -SIDECAR_SUFFIX.length)}), not a template: it is read when that template builds`;
  }
  if (VAR_FILE_SUFFIXES.some((s) => lower.endsWith(s))) return `${key} is a variable file, not a template`;
  if (!TEMPLATE_SUFFIXES.some((s) => lower.endsWith(s)))
    return `${key} does not end in ${TEMPLATE_SUFFIXES.join(', ')}`;
  if (!lower.endsWith('.json') || lower.endsWith('.pkr.json') || content === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return undefined; // malformed JSON: the template engine reports it with line and column
  }
  const isTemplate =
    parsed !== null &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    TEMPLATE_JSON_KEYS.some((k) => Object.hasOwn(parsed as object, k));
  return isTemplate ? undefined : `${key} is JSON without builders or HCL2 blocks: not a Packer template`;
}
