/**
 * The build record: one item per execution in the builds table. PrepareBuild writes it (RUNNING), Finalize adds
 * the outcome, the CDK app keys the table by BUILD_RECORD_KEY and the CLI reads it back: the key, the attribute
 * names and their DynamoDB form are owned here so the writers and the readers cannot drift.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { type ChangeVerdict, fingerprintJson, type InputFingerprint, parseFingerprint } from './build-fingerprint.ts';

/** Partition key of the builds table. */
export const BUILD_RECORD_KEY = 'buildId';

/**
 * The builds table's index of a template's builds in start order: only-if-changed finds the template's last
 * successful build with it, and auto-disable a schedule's latest builds. The CDK app creates it from these names.
 */
export const BUILD_TEMPLATE_INDEX = { name: 'byTemplate', partitionKey: 'templateRef', sortKey: 'createdAt' } as const;

/** The index's partition value: one per template location (bucket and key). */
export const templateRef = (t: { readonly bucket: string; readonly key: string }): string => `${t.bucket}/${t.key}`;

/** SKIPPED: a scheduled build with only-if-changed whose inputs had not moved; nothing was built. */
export const BUILD_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'PARTIAL', 'SKIPPED'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export interface BuildRecordStart {
  readonly buildId: string;
  readonly executionName: string;
  readonly template: { readonly bucket: string; readonly key: string; readonly versionId?: string };
  readonly trigger: string;
  readonly createdAt: string;
  readonly builds: readonly { readonly index: number; readonly name: string; readonly driver: string }[];
  /** The schedule that started it (trigger `schedule`). */
  readonly schedule?: string;
  /** A direct start's trigger metadata (aws/build-input.ts `trigger`): what and who asked, for people. */
  readonly requestedVia?: { readonly source: string; readonly requestedBy?: string };
  /** Its inputs (aws/build-fingerprint.ts), when PrepareBuild could compute them. */
  readonly fingerprint?: InputFingerprint;
  /** The only-if-changed verdict, when the trigger asked for one. */
  readonly changeCheck?: ChangeVerdict;
  /** The template's variables as the build used them, sensitive values redacted (`kiln builds show`). */
  readonly variables?: readonly RecordedVariable[];
}

/** One variable on the record: its final value as text (`<sensitive>` when sensitive) and what set it. */
export interface RecordedVariable {
  readonly name: string;
  readonly value?: string;
  readonly source?: string;
}

/** Bounds of the recorded variables (the item stays far below DynamoDB's 400 KB). */
export const MAX_RECORDED_VARIABLES = 100;
export const MAX_RECORDED_VALUE = 256;

export interface BuildOutcomeRecord {
  readonly name: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly artifactId?: string;
  readonly error?: string;
}

export interface BuildRecordOutcome {
  readonly status: Exclude<BuildStatus, 'RUNNING'>;
  readonly finishedAt: string;
  readonly manifestKey: string;
  readonly outcomes: readonly BuildOutcomeRecord[];
}

/** Why the build never started: PrepareBuild failed (an invalid template, a missing object), as its error said. */
export interface PrepareFailure {
  readonly error: string;
  readonly cause: string;
}

/** The longest cause a record keeps (a Packer-style diagnostic list can be long). */
export const PREPARE_FAILURE_CAUSE_MAX = 4_000;

export type BuildRecord = Omit<BuildRecordStart, 'fingerprint'> & {
  /** Undefined also when the stored form is one this code cannot read (compare as changed). */
  readonly fingerprint?: InputFingerprint;
  readonly status: BuildStatus;
  readonly finishedAt?: string;
  readonly manifestKey?: string;
  readonly outcomes?: readonly BuildOutcomeRecord[];
  readonly prepareFailure?: PrepareFailure;
};

type Item = Record<string, AttributeValue>;
const S = (value: string): AttributeValue => ({ S: value });

function changeCheckItem(c: ChangeVerdict): AttributeValue {
  return {
    M: {
      changed: { BOOL: c.changed },
      reason: S(c.reason),
      ...(c.comparedWith ? { comparedWith: S(c.comparedWith) } : {}),
    },
  };
}

/**
 * The item PrepareBuild puts (with `attribute_not_exists(buildId)`, so a retry never resets a later update):
 * RUNNING, or SKIPPED with `finishedAt` when only-if-changed found nothing to build.
 */
export function buildStartItem(r: BuildRecordStart, skippedAt?: string): Item {
  return {
    [BUILD_RECORD_KEY]: S(r.buildId),
    executionName: S(r.executionName),
    templateBucket: S(r.template.bucket),
    templateKey: S(r.template.key),
    ...(r.template.versionId ? { templateVersion: S(r.template.versionId) } : {}),
    [BUILD_TEMPLATE_INDEX.partitionKey]: S(templateRef(r.template)),
    trigger: S(r.trigger),
    status: S(skippedAt ? 'SKIPPED' : 'RUNNING'),
    ...(skippedAt ? { finishedAt: S(skippedAt) } : {}),
    createdAt: S(r.createdAt),
    builds: {
      L: r.builds.map((b) => ({ M: { index: { N: String(b.index) }, name: S(b.name), driver: S(b.driver) } })),
    },
    ...(r.schedule ? { schedule: S(r.schedule) } : {}),
    ...(r.requestedVia
      ? {
          requestedVia: {
            M: {
              source: S(r.requestedVia.source),
              ...(r.requestedVia.requestedBy ? { requestedBy: S(r.requestedVia.requestedBy) } : {}),
            },
          },
        }
      : {}),
    ...(r.fingerprint ? { fingerprint: S(fingerprintJson(r.fingerprint)) } : {}),
    ...(r.changeCheck ? { changeCheck: changeCheckItem(r.changeCheck) } : {}),
    ...(r.variables?.length ? { variables: S(JSON.stringify(r.variables.slice(0, MAX_RECORDED_VARIABLES))) } : {}),
  };
}

export const BUILD_START_CONDITION = `attribute_not_exists(${BUILD_RECORD_KEY})`;

/** The UpdateItem parts that record an execution's outcome. */
/**
 * The item of a build whose PrepareBuild failed (the state machine's RecordPrepareFailure): FAILED from the start,
 * with the error and cause, so `kiln builds` lists it and a schedule's run of failures counts it.
 */
export function prepareFailedItem(r: BuildRecordStart, failure: PrepareFailure, at: string): Item {
  return {
    ...buildStartItem(r),
    status: S('FAILED'),
    finishedAt: S(at),
    prepareFailure: {
      M: { error: S(failure.error), cause: S(failure.cause.slice(0, PREPARE_FAILURE_CAUSE_MAX)) },
    },
  };
}

/** PrepareBuild wrote the record, then failed: the same record, now FAILED with the error. */
export function prepareFailedUpdate(buildId: string, failure: PrepareFailure, at: string) {
  return {
    Key: { [BUILD_RECORD_KEY]: S(buildId) },
    UpdateExpression: 'SET #s = :s, finishedAt = :f, prepareFailure = :p',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: {
      ':s': S('FAILED'),
      ':f': S(at),
      ':p': { M: { error: S(failure.error), cause: S(failure.cause.slice(0, PREPARE_FAILURE_CAUSE_MAX)) } },
    } satisfies Item,
  };
}

export function buildOutcomeUpdate(buildId: string, o: BuildRecordOutcome) {
  return {
    Key: { [BUILD_RECORD_KEY]: S(buildId) },
    UpdateExpression: 'SET #s = :s, finishedAt = :f, outcomes = :o, manifestKey = :m',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: {
      ':s': S(o.status),
      ':f': S(o.finishedAt),
      ':m': S(o.manifestKey),
      ':o': {
        L: o.outcomes.map((b) => ({
          M: {
            name: S(b.name),
            status: S(b.status),
            ...(b.artifactId ? { artifactId: S(b.artifactId) } : {}),
            ...(b.error ? { error: S(b.error) } : {}),
          },
        })),
      },
    } satisfies Item,
  };
}

const str = z.object({ S: z.string() });
const optStr = z.optional(str);
const itemSchema = z.object({
  [BUILD_RECORD_KEY]: str,
  executionName: str,
  templateBucket: str,
  templateKey: str,
  templateVersion: optStr,
  trigger: str,
  schedule: optStr,
  requestedVia: z.optional(z.object({ M: z.object({ source: str, requestedBy: optStr }) })),
  fingerprint: optStr,
  changeCheck: z.optional(
    z.object({ M: z.object({ changed: z.object({ BOOL: z.boolean() }), reason: str, comparedWith: optStr }) }),
  ),
  variables: optStr,
  status: z.object({ S: z.enum(BUILD_STATUSES) }),
  createdAt: str,
  builds: z.object({
    L: z.array(z.object({ M: z.object({ index: z.object({ N: z.string() }), name: str, driver: str }) })),
  }),
  finishedAt: optStr,
  manifestKey: optStr,
  prepareFailure: z.optional(z.object({ M: z.object({ error: str, cause: str }) })),
  outcomes: z.optional(
    z.object({
      L: z.array(
        z.object({
          M: z.object({
            name: str,
            status: z.object({ S: z.enum(['SUCCEEDED', 'FAILED']) }),
            artifactId: optStr,
            error: optStr,
          }),
        }),
      ),
    }),
  ),
});

/** A stored item back as a BuildRecord; an item that is not one throws with the zod issue. */
export function parseBuildRecord(item: Item): BuildRecord {
  const i = itemSchema.parse(item);
  return {
    buildId: i[BUILD_RECORD_KEY].S,
    executionName: i.executionName.S,
    template: {
      bucket: i.templateBucket.S,
      key: i.templateKey.S,
      ...(i.templateVersion ? { versionId: i.templateVersion.S } : {}),
    },
    trigger: i.trigger.S,
    ...(i.schedule ? { schedule: i.schedule.S } : {}),
    ...(i.requestedVia
      ? {
          requestedVia: {
            source: i.requestedVia.M.source.S,
            ...(i.requestedVia.M.requestedBy ? { requestedBy: i.requestedVia.M.requestedBy.S } : {}),
          },
        }
      : {}),
    ...(i.fingerprint ? fingerprintField(i.fingerprint.S) : {}),
    ...(i.changeCheck
      ? {
          changeCheck: {
            changed: i.changeCheck.M.changed.BOOL,
            reason: i.changeCheck.M.reason.S,
            ...(i.changeCheck.M.comparedWith ? { comparedWith: i.changeCheck.M.comparedWith.S } : {}),
          },
        }
      : {}),
    ...(i.variables ? variablesField(i.variables.S) : {}),
    status: i.status.S,
    createdAt: i.createdAt.S,
    builds: i.builds.L.map(({ M }) => ({ index: Number(M.index.N), name: M.name.S, driver: M.driver.S })),
    ...(i.finishedAt ? { finishedAt: i.finishedAt.S } : {}),
    ...(i.manifestKey ? { manifestKey: i.manifestKey.S } : {}),
    ...(i.prepareFailure
      ? { prepareFailure: { error: i.prepareFailure.M.error.S, cause: i.prepareFailure.M.cause.S } }
      : {}),
    ...(i.outcomes
      ? {
          outcomes: i.outcomes.L.map(({ M }) => ({
            name: M.name.S,
            status: M.status.S,
            ...(M.artifactId ? { artifactId: M.artifactId.S } : {}),
            ...(M.error ? { error: M.error.S } : {}),
          })),
        }
      : {}),
  };
}

function fingerprintField(json: string): { fingerprint?: InputFingerprint } {
  const fingerprint = parseFingerprint(json);
  return fingerprint ? { fingerprint } : {};
}

const variablesSchema = z.array(
  z.object({ name: z.string(), value: z.optional(z.string()), source: z.optional(z.string()) }),
);

/** Stored variables that do not read as such are left out (the record stays readable). */
function variablesField(json: string): { variables?: RecordedVariable[] } {
  try {
    const parsed = variablesSchema.safeParse(JSON.parse(json));
    return parsed.success ? { variables: parsed.data } : {};
  } catch {
    return {};
  }
}
