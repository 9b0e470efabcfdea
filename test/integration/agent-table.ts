/** Creates the agent gateway's table in the emulator, keyed and indexed as the CDK construct must (AGENT_TABLE). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AGENT_TABLE, STATE_INDEX_ATTRIBUTES } from '../../aws/agent-gateway-records.ts';
import { createKeyedTable } from './dynamo-table.ts';

export async function createAgentTable(dynamo: DynamoDBClient, name: string): Promise<void> {
  const { partitionKey, sortKey, stateIndex } = AGENT_TABLE;
  // The payload and the task token stay out of the index.
  await createKeyedTable(
    dynamo,
    name,
    { partitionKey, sortKey, index: stateIndex },
    { ProjectionType: 'INCLUDE', NonKeyAttributes: [...STATE_INDEX_ATTRIBUTES] },
  );
}
