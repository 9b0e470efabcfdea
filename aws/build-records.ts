/**
 * The build record: one item per execution in the builds table. PrepareBuild writes it (RUNNING), Finalize adds
 * the outcome, the CDK app keys the table by BUILD_RECORD_KEY and the CLI reads it back: the key, the attribute
 * names and their DynamoDB form are owned here so the writers and the readers cannot drift.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';

/** Partition key of the builds table. */
export const BUILD_RECORD_KEY = 'buildId';

export const BUILD_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'PARTIAL'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export interface BuildRecordStart {
  readonly buildId: string;
  readonly executionName: string;
  readonly template: { readonly bucket: string; readonly key: string; readonly versionId?: string };
  readonly trigger: string;
  readonly createdAt: string;
  readonly builds: readonly { readonly index: number; readonly name: string; readonly driver: string }[];
}

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

export type BuildRecord = BuildRecordStart & {
  readonly status: BuildStatus;
  readonly finishedAt?: string;
  readonly manifestKey?: string;
  readonly outcomes?: readonly BuildOutcomeRecord[];
};

type Item = Record<string, AttributeValue>;
const S = (value: string): AttributeValue => ({ S: value });

/** The item PrepareBuild puts (with `attribute_not_exists(buildId)`, so a retry never resets a later update). */
export function buildStartItem(r: BuildRecordStart): Item {
  return {
    [BUILD_RECORD_KEY]: S(r.buildId),
    executionName: S(r.executionName),
    templateBucket: S(r.template.bucket),
    templateKey: S(r.template.key),
    ...(r.template.versionId ? { templateVersion: S(r.template.versionId) } : {}),
    trigger: S(r.trigger),
    status: S('RUNNING'),
    createdAt: S(r.createdAt),
    builds: {
      L: r.builds.map((b) => ({ M: { index: { N: String(b.index) }, name: S(b.name), driver: S(b.driver) } })),
    },
  };
}

export const BUILD_START_CONDITION = `attribute_not_exists(${BUILD_RECORD_KEY})`;

/** The UpdateItem parts that record an execution's outcome. */
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
  status: z.object({ S: z.enum(BUILD_STATUSES) }),
  createdAt: str,
  builds: z.object({
    L: z.array(z.object({ M: z.object({ index: z.object({ N: z.string() }), name: str, driver: str }) })),
  }),
  finishedAt: optStr,
  manifestKey: optStr,
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
    status: i.status.S,
    createdAt: i.createdAt.S,
    builds: i.builds.L.map(({ M }) => ({ index: Number(M.index.N), name: M.name.S, driver: M.driver.S })),
    ...(i.finishedAt ? { finishedAt: i.finishedAt.S } : {}),
    ...(i.manifestKey ? { manifestKey: i.manifestKey.S } : {}),
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
