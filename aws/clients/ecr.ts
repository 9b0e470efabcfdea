import { ECRClient } from '@aws-sdk/client-ecr';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const ecrClient = cachedPerRegion((region) => new ECRClient(clientConfig(region)));
