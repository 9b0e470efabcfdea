import { LambdaClient } from '@aws-sdk/client-lambda';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const lambdaClient = cachedPerRegion((region) => new LambdaClient(clientConfig(region)));
