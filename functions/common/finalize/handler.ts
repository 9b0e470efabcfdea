import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { eventBridgeClient } from '../../../aws/clients/eventbridge.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { optionalEnv } from '../../../aws/env.ts';
import { eventSinkFor } from '../../../aws/events-emitter.ts';
import { failureLimitFrom } from '../../../aws/schedules.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { type KilnHandler, lambdaHandler, logger } from '../../lib/wiring.ts';
import { KILN_ENV } from '../../registry.ts';
import { type FinalizeDeps, finalize, finalizeInputSchema } from './finalize.ts';
import { prepareFailureInputSchema, recordPrepareFailure } from './prepare-failure.ts';

const base = baseDepsFromEnv(noEc2);
const dynamo = dynamoClient(base.homeRegion);
// Without the stack's schedule group (an older stack, a test), scheduled builds are recorded but never disabled.
const scheduleGroup = optionalEnv(KILN_ENV.scheduleGroup);
const deps: FinalizeDeps = {
  ...base,
  dynamo,
  events: eventSinkFor(eventBridgeClient(base.homeRegion)),
  buildsTable: requireKilnEnv('buildsTable'),
  registry: { dynamo, table: requireKilnEnv('registryTable'), ssm: ssmClient, homeRegion: base.homeRegion },
  ...(scheduleGroup
    ? {
        schedules: {
          clients: async () => ({
            scheduler: (await import('../../../aws/clients/scheduler.ts')).schedulerClient(base.homeRegion),
            events: eventBridgeClient(base.homeRegion),
          }),
          group: scheduleGroup,
          limit: failureLimitFrom(optionalEnv(KILN_ENV.scheduleFailureLimit)),
        },
      }
    : {}),
};

const finalizeHandler = lambdaHandler(finalizeInputSchema, async (input) => {
  const result = await finalize(deps, input);
  // A notification never fails the build; a refused one is said here and in the execution's output.
  for (const line of result.undeliveredEvents ?? []) logger.warn('kiln event not delivered', { event: line });
  return result;
});

const prepareFailureHandler = lambdaHandler(prepareFailureInputSchema, (input) => recordPrepareFailure(deps, input));

/**
 * Two tasks of the build state machine: Finalize, and RecordPrepareFailure (input `{ prepareFailed, ... }`) when
 * PrepareBuild failed for good. Chosen by that key, so a wrong input is reported against its own schema.
 */
export const handler: KilnHandler<unknown> = (event, context) =>
  event !== null && typeof event === 'object' && 'prepareFailed' in event
    ? prepareFailureHandler(event, context)
    : finalizeHandler(event, context);
