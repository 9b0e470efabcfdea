import { SFNClient } from '@aws-sdk/client-sfn';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const sfnClient = cachedPerRegion((region) => new SFNClient(clientConfig(region)));
