/** Creates the agent gateway's table in the emulator, keyed and indexed as the CDK construct must (AGENT_TABLE). */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AGENT_TABLE, STATE_INDEX_ATTRIBUTES } from '../../aws/agent-gateway-records.ts';

export async function createAgentTable(dynamo: DynamoDBClient, name: string): Promise<void> {
  const { partitionKey, sortKey, stateIndex } = AGENT_TABLE;
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [partitionKey, sortKey, stateIndex.partitionKey, stateIndex.sortKey].map((n) => ({
        AttributeName: n,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: stateIndex.name,
          KeySchema: [
            { AttributeName: stateIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: stateIndex.sortKey, KeyType: 'RANGE' },
          ],
          // The payload and the task token stay out of the index.
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...STATE_INDEX_ATTRIBUTES] },
        },
      ],
    }),
  );
}
