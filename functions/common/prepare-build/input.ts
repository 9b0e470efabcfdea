/**
 * PrepareBuild's input, normalized: a direct request (console, API, `kiln submit`: aws/build-input.ts), the raw
 * EventBridge "Object Created" event from the template bucket, or a schedule's event-shaped input
 * (aws/trigger-contract.ts). The ASL wraps either as `{ input, executionName }`.
 */

import * as z from 'zod/mini';
import { buildInputSchema, parseBuildInput, varPairs } from '../../../aws/build-input.ts';
import { SCHEDULER_SOURCE, scheduledBuildSchema } from '../../../aws/trigger-contract.ts';
import { InputInvalidError } from '../../../core/errors.ts';
import type { TemplateLocation } from '../../lib/plan-store.ts';
import { parseEvent } from '../../lib/wiring.ts';

export const objectCreatedSchema = z.object({
  source: z.optional(z.literal('aws.s3')),
  'detail-type': z.literal('Object Created'),
  detail: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), 'version-id': z.optional(z.string()) }),
  }),
});

/** Every start input PrepareBuild accepts (for callers that hold a parsed one; the handler reads `readBuildStart`). */
export const prepareInputSchema = z.object({
  input: z.union([buildInputSchema, objectCreatedSchema, scheduledBuildSchema]),
  executionName: z.string().check(z.minLength(1)),
});

/** What the handler parses first: the input is classified and checked by `readBuildStart`, with field-level errors. */
export const prepareEnvelopeSchema = z.object({
  input: z.unknown(),
  executionName: z.string().check(z.minLength(1)),
});

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The start input checked before anything else runs: an S3 event and a schedule's input by their own contract, any
 * other input as a direct request against the published schema, so a console or API start that is wrong fails
 * with `Kiln.InputInvalid` naming each wrong field (not a union's "Invalid input").
 */
export function readBuildStart(input: unknown): BuildRequest {
  if (isRecord(input) && input['detail-type'] === 'Object Created') {
    return normalizeInput(parseEvent(objectCreatedSchema, input));
  }
  if (isRecord(input) && input.source === SCHEDULER_SOURCE) {
    return normalizeInput(parseEvent(scheduledBuildSchema, input));
  }
  if (isRecord(input) && 'detail' in input && !('template' in input)) {
    throw new InputInvalidError(
      `The build input is an event PrepareBuild does not take (detail-type ${JSON.stringify(input['detail-type'])}): start builds with an S3 "Object Created" event, a schedule's input, or a build request { "template": { "bucket", "key" } }`,
    );
  }
  return normalizeInput(parseBuildInput(input));
}

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
  /** A direct request's trigger metadata (who or what asked), kept for people. */
  readonly requestedVia?: { readonly source: string; readonly requestedBy?: string };
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
  const { versionId } = input.template;
  return {
    template: { bucket: input.template.bucket, key: input.template.key, ...(versionId ? { versionId } : {}) },
    vars: varPairs(input.vars),
    varFiles: input.varFiles ?? [],
    only: input.only ?? [],
    except: input.except ?? [],
    trigger: 'request',
    ...(input.trigger
      ? {
          requestedVia: {
            source: input.trigger.source,
            ...(input.trigger.requestedBy ? { requestedBy: input.trigger.requestedBy } : {}),
          },
        }
      : {}),
  };
}
