/**
 * Reads of past builds: one by its id, and a template's through the builds table's `byTemplate` index (aws/build-records.ts owns its
 * names): the last successful build (only-if-changed compares with its fingerprint) and a schedule's latest
 * builds (auto-disable counts their failures). Newest first; each read is bounded so a template with a long
 * history of other builds costs a few pages, not the table.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BUILD_RECORD_KEY,
  BUILD_TEMPLATE_INDEX,
  type BuildRecord,
  type BuildStatus,
  parseBuildRecord,
  templateRef,
} from './build-records.ts';

/** Pages of 100 records read at most per question (records not matching the filter still cost a read). */
const MAX_PAGES = 5;
const PAGE = 100;

async function* newestFirst(
  dynamo: DynamoDBClient,
  table: string,
  template: { readonly bucket: string; readonly key: string },
  filter: { expression: string; names: Record<string, string>; values: Record<string, AttributeValue> },
): AsyncGenerator<BuildRecord> {
  let start: Record<string, AttributeValue> | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await dynamo.send(
      new QueryCommand({
        TableName: table,
        IndexName: BUILD_TEMPLATE_INDEX.name,
        KeyConditionExpression: '#t = :t',
        FilterExpression: filter.expression,
        ExpressionAttributeNames: { '#t': BUILD_TEMPLATE_INDEX.partitionKey, ...filter.names },
        ExpressionAttributeValues: { ':t': { S: templateRef(template) }, ...filter.values },
        ScanIndexForward: false,
        Limit: PAGE,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of out.Items ?? []) yield parseBuildRecord(item);
    start = out.LastEvaluatedKey;
    if (!start) return;
  }
}

/** The template's newest SUCCEEDED build, or undefined when none is recorded (within the bounded read). */
export async function lastSuccessfulBuild(
  dynamo: DynamoDBClient,
  table: string,
  template: { readonly bucket: string; readonly key: string },
): Promise<BuildRecord | undefined> {
  for await (const record of newestFirst(dynamo, table, template, {
    expression: '#s = :ok',
    names: { '#s': 'status' },
    values: { ':ok': { S: 'SUCCEEDED' } },
  })) {
    return record;
  }
  return undefined;
}

/**
 * The builds a schedule started, newest first, as id and status, read until `enough` says so (given what was read
 * so far) or the bounded read ends.
 */
export async function recentScheduledBuilds(
  dynamo: DynamoDBClient,
  table: string,
  template: { readonly bucket: string; readonly key: string },
  schedule: string,
  enough: (newestFirst: readonly { buildId: string; status: BuildStatus }[]) => boolean,
): Promise<{ buildId: string; status: BuildStatus }[]> {
  const out: { buildId: string; status: BuildStatus }[] = [];
  for await (const record of newestFirst(dynamo, table, template, {
    expression: '#sch = :sch',
    names: { '#sch': 'schedule' },
    values: { ':sch': { S: schedule } },
  })) {
    out.push({ buildId: record.buildId, status: record.status });
    if (enough(out)) break;
  }
  return out;
}

/** One build's record by its id (`kiln builds cancel kb-…`), or undefined when the table has none. */
export async function getBuildRecord(
  dynamo: DynamoDBClient,
  table: string,
  buildId: string,
): Promise<BuildRecord | undefined> {
  const out = await dynamo.send(
    new GetItemCommand({ TableName: table, Key: { [BUILD_RECORD_KEY]: { S: buildId } }, ConsistentRead: true }),
  );
  return out.Item ? parseBuildRecord(out.Item) : undefined;
}

/** Pages a whole-table listing reads at most (each up to 1 MB); past it the answer says it is partial. */
export const LIST_SCAN_PAGES = 20;

export interface BuildListing {
  /** Newest first (by createdAt). */
  readonly records: readonly BuildRecord[];
  /** True when the bounded read stopped before the end of the table (or index): older builds may be missing. */
  readonly partial: boolean;
  /** Items that are not build records this code reads (left out). */
  readonly unreadable: number;
}

/**
 * Builds newest first: a template's through the `byTemplate` index (`template` given: bucket and key), else the
 * whole table by Scan (no index orders every build by time), bounded to LIST_SCAN_PAGES pages. `keep` filters
 * (status, a template matched by name) before `limit` applies.
 */
export async function listBuildRecords(
  dynamo: DynamoDBClient,
  table: string,
  options: {
    readonly template?: { readonly bucket: string; readonly key: string };
    readonly keep?: (record: BuildRecord) => boolean;
    readonly limit: number;
  },
): Promise<BuildListing> {
  const keep = options.keep ?? (() => true);
  const records: BuildRecord[] = [];
  let unreadable = 0;
  let start: Record<string, AttributeValue> | undefined;
  let pages = 0;
  do {
    const out = options.template
      ? await dynamo.send(
          new QueryCommand({
            TableName: table,
            IndexName: BUILD_TEMPLATE_INDEX.name,
            KeyConditionExpression: '#t = :t',
            ExpressionAttributeNames: { '#t': BUILD_TEMPLATE_INDEX.partitionKey },
            ExpressionAttributeValues: { ':t': { S: templateRef(options.template) } },
            ScanIndexForward: false,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        )
      : await dynamo.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of out.Items ?? []) {
      try {
        const record = parseBuildRecord(item);
        if (keep(record)) records.push(record);
      } catch {
        unreadable++;
      }
    }
    start = out.LastEvaluatedKey;
    pages++;
    // The index is in start order: once `limit` records are kept, older pages cannot come first.
    if (options.template && records.length >= options.limit) break;
  } while (start && pages < LIST_SCAN_PAGES);
  records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return {
    records: records.slice(0, options.limit),
    partial: start !== undefined && !(options.template && records.length >= options.limit),
    unreadable,
  };
}
