/** Creates a table in the emulator keyed as its one owner (an aws/ *_TABLE constant) says the CDK construct keys it. */
import { CreateTableCommand, type DynamoDBClient, type Projection } from '@aws-sdk/client-dynamodb';

export interface KeyedTable {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly index: { readonly name: string; readonly partitionKey: string; readonly sortKey: string };
}

export async function createKeyedTable(
  dynamo: DynamoDBClient,
  name: string,
  table: KeyedTable,
  projection: Projection = { ProjectionType: 'ALL' },
): Promise<void> {
  const { partitionKey, sortKey, index } = table;
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [partitionKey, sortKey, index.partitionKey, index.sortKey].map((n) => ({
        AttributeName: n,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: projection,
        },
      ],
    }),
  );
}
