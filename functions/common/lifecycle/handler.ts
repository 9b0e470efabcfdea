/** Lifecycle: once a day (EventBridge schedule), retire old artifacts per template build (./lifecycle.ts). */
import * as z from 'zod/mini';
import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { ec2Client } from '../../../aws/clients/ec2.ts';
import { ecrClient } from '../../../aws/clients/ecr.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { homeRegion } from '../../../aws/clients.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { lifecyclePolicyFromEnv } from '../../lib/lifecycle-settings.ts';
import { lambdaHandler, logger } from '../../lib/wiring.ts';
import { assertComplete, type LifecycleDeps, runLifecycle } from './lifecycle.ts';

const region = homeRegion();
const deps: LifecycleDeps = {
  registry: {
    dynamo: dynamoClient(region),
    table: requireKilnEnv('registryTable'),
    ssm: ssmClient,
    homeRegion: region,
  },
  images: { ec2: ec2Client, ecr: ecrClient },
  policy: lifecyclePolicyFromEnv(),
  now: () => new Date(),
};

// The rule's scheduled event carries nothing the run needs; anything else invoking it is a wiring mistake.
const scheduledEventSchema = z.object({ 'detail-type': z.literal('Scheduled Event'), source: z.literal('aws.events') });
export const handler = lambdaHandler(scheduledEventSchema, async () => {
  const report = await runLifecycle(deps);
  logger.info('lifecycle run', { report });
  return assertComplete(report);
});
