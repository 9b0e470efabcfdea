/** Creates the registry table in the emulator, keyed as the CDK construct keys it (both read REGISTRY_TABLE). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { REGISTRY_TABLE } from '../../aws/image-registry-records.ts';
import { createKeyedTable } from './dynamo-table.ts';

/** The table as the CDK construct keys it (REGISTRY_TABLE is the one owner of both). */
export async function createRegistryTable(dynamo: DynamoDBClient, name: string): Promise<void> {
  const { partitionKey, sortKey, templateIndex } = REGISTRY_TABLE;
  await createKeyedTable(dynamo, name, { partitionKey, sortKey, index: templateIndex });
}
