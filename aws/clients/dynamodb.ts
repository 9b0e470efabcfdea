import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const dynamoClient = cachedPerRegion((region) => new DynamoDBClient(clientConfig(region)));
