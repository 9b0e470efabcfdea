import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const eventBridgeClient = cachedPerRegion((region) => new EventBridgeClient(clientConfig(region)));
