/**
 * The image registry's table in memory, behind an aws-sdk-client-mock DynamoDB stub: GetItem by key, Query
 * answering nothing, TransactWriteItems applying the store's conditions (`attribute_not_exists(pk)`, `version =
 * :expected`) all or nothing, as DynamoDB does. UpdateItem (the builds table) succeeds.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

export type Item = Record<string, AttributeValue>;
const keyOf = (k: Item) => `${k.pk?.S}|${k.sk?.S}`;

interface TransactInput {
  TransactItems: { Put: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item } }[];
}

// biome-ignore lint/suspicious/noExplicitAny: the stub's input and output types are the client's (any of its commands)
export function serveRegistryTable(ddb: AwsStub<any, any, DynamoDBClient['config']>): Map<string, Item> {
  const table = new Map<string, Item>();
  ddb.on(UpdateItemCommand).resolves({});
  ddb.on(GetItemCommand).callsFake((input: { Key: Item }) => {
    const item = table.get(keyOf(input.Key));
    return item ? { Item: item } : {};
  });
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(TransactWriteItemsCommand).callsFake((input: TransactInput) => {
    const failed = input.TransactItems.map(({ Put }) => {
      const existing = table.get(keyOf(Put.Item));
      if (Put.ConditionExpression === 'attribute_not_exists(pk)') return existing !== undefined;
      if (Put.ConditionExpression === 'version = :expected') {
        return existing?.version?.N !== Put.ExpressionAttributeValues?.[':expected']?.N;
      }
      return false;
    });
    if (failed.some(Boolean)) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: failed.map((f) => ({ Code: f ? 'ConditionalCheckFailed' : 'None' })),
      });
    }
    for (const { Put } of input.TransactItems) table.set(keyOf(Put.Item), Put.Item);
    return {};
  });
  return table;
}
