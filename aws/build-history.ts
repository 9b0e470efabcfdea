/**
 * Reads of past builds: one by its id, and a template's through the builds table's `byTemplate` index (aws/build-records.ts owns its
 * names): the last successful build (only-if-changed compares with its fingerprint) and a schedule's latest
 * builds (auto-disable counts their failures). Newest first; each read is bounded so a template with a long
 * history of other builds costs a few pages, not the table.
 */
import { type AttributeValue, type DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
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
