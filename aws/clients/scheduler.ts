import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { cachedPerRegion, clientConfig } from '../clients.ts';

export const schedulerClient = cachedPerRegion((region) => new SchedulerClient(clientConfig(region)));
