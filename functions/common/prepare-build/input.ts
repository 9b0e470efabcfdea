/**
 * PrepareBuild's input, normalized: a direct request (console, CLI, schedule) or the raw EventBridge
 * "Object Created" event from the template bucket. The ASL wraps either as `{ input, executionName }`.
 */

import * as z from 'zod/mini';
import { scheduledBuildSchema } from '../../../aws/trigger-contract.ts';
import type { TemplateLocation } from '../../lib/plan-store.ts';

const varsSchema = z.union([
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  z.array(z.tuple([z.string(), z.string()])),
]);

export const directRequestSchema = z.object({
  template: z.object({
    bucket: z.string().check(z.minLength(1)),
    key: z.string().check(z.minLength(1)),
    versionId: z.optional(z.string()),
  }),
  vars: z.optional(varsSchema),
  /** Keys in the template bucket, relative to the bucket root. */
  varFiles: z.optional(z.array(z.string())),
  only: z.optional(z.array(z.string())),
  except: z.optional(z.array(z.string())),
});

export const objectCreatedSchema = z.object({
  source: z.optional(z.literal('aws.s3')),
  'detail-type': z.literal('Object Created'),
  detail: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), 'version-id': z.optional(z.string()) }),
  }),
});

export const prepareInputSchema = z.object({
  input: z.union([directRequestSchema, objectCreatedSchema, scheduledBuildSchema]),
  executionName: z.string().check(z.minLength(1)),
});

export interface BuildRequest {
  readonly template: TemplateLocation;
  readonly vars: readonly (readonly [string, string])[];
  readonly varFiles: readonly string[];
  readonly only: readonly string[];
  readonly except: readonly string[];
  readonly trigger: 'request' | 's3-upload' | 'schedule';
  /** The schedule's name when a schedule started the build. */
  readonly schedule?: string;
  /** Build only when an input moved since the template's last successful build (schedules only). */
  readonly onlyIfChanged?: boolean;
  /**
   * The key exactly as the event carried it, when decoding changed it: AWS URL-encodes keys in S3 events
   * (space → `+`), moto does not, and a key may really contain `+` or `%`; PrepareBuild tries this one when the
   * decoded key does not exist.
   */
  readonly rawKey?: string;
}

function safeDecode(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key; // not valid percent-encoding: it is the raw key
  }
}

export function normalizeInput(input: z.infer<typeof prepareInputSchema>['input']): BuildRequest {
  if ('detail' in input && 'schedule' in input.detail) {
    // Scheduled rebuilds read the template's latest version (a schedule names a key, not a version).
    const { bucket, object, schedule, onlyIfChanged } = input.detail;
    const versionId = object['version-id'];
    return {
      template: { bucket: bucket.name, key: object.key, ...(versionId ? { versionId } : {}) },
      vars: [],
      varFiles: [],
      only: [],
      except: [],
      trigger: 'schedule',
      schedule,
      ...(onlyIfChanged ? { onlyIfChanged: true } : {}),
    };
  }
  if ('detail' in input) {
    const { bucket, object } = input.detail;
    // EventBridge URL-encodes keys ("a+b%2Fc"); S3 wants them decoded.
    const key = safeDecode(object.key);
    const versionId = object['version-id'];
    return {
      template: { bucket: bucket.name, key, ...(versionId ? { versionId } : {}) },
      vars: [],
      varFiles: [],
      only: [],
      except: [],
      trigger: 's3-upload',
      ...(key !== object.key ? { rawKey: object.key } : {}),
    };
  }
  const vars = Array.isArray(input.vars)
    ? input.vars.map(([k, v]) => [k, v] as const)
    : Object.entries(input.vars ?? {}).map(([k, v]) => [k, String(v)] as const);
  return {
    template: input.template,
    vars,
    varFiles: input.varFiles ?? [],
    only: input.only ?? [],
    except: input.except ?? [],
    trigger: 'request',
  };
}
