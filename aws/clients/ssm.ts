import { SSMClient } from '@aws-sdk/client-ssm';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const ssmClient = cachedPerRegion((region) => new SSMClient(clientConfig(region)));
