/** Creates the registry table in the emulator, keyed as the CDK construct keys it (both read REGISTRY_TABLE). */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { REGISTRY_TABLE } from '../../aws/image-registry-records.ts';

/** The table as the CDK construct keys it (REGISTRY_TABLE is the one owner of both). */
export async function createRegistryTable(dynamo: DynamoDBClient, name: string): Promise<void> {
  const { partitionKey, sortKey, templateIndex } = REGISTRY_TABLE;
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [partitionKey, sortKey, templateIndex.partitionKey, templateIndex.sortKey].map((n) => ({
        AttributeName: n,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: templateIndex.name,
          KeySchema: [
            { AttributeName: templateIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: templateIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}
