/**
 * AcquireSlot: a build asks for one of the fleet's slots before its driver starts (build.asl.json's slot loop).
 * Answers `acquired`, or how long to wait before asking again; fails with Kiln.FleetWaitTimedOut once the build
 * waited longer than the fleet's maxWaitSeconds.
 */
import type { AcquireOutput } from '../../../aws/fleet-contract.ts';
import { slotTaskInputSchema } from '../../../aws/fleet-contract.ts';
import { acquireSlot } from '../../../aws/fleet-store.ts';
import { FleetWaitTimedOutError } from '../../../core/errors.ts';
import { waitedTooLong, waitTimedOutMessage } from '../../../core/fleet/slots.ts';
import { lambdaHandler, logger } from '../../lib/wiring.ts';
import { executionStatusReader, fleetPolicyOrThrow, fleetStoreFromEnv, transientAware } from '../deps.ts';

const store = fleetStoreFromEnv();
const policy = fleetPolicyOrThrow();
const executionStatus = executionStatusReader();

export const handler = lambdaHandler(
  slotTaskInputSchema,
  async (holder): Promise<AcquireOutput> => {
    const result = await transientAware(() => acquireSlot({ store, policy, executionStatus }, holder));
    if (result.reclaimed > 0) logger.info('took back slots of ended executions', { reclaimed: result.reclaimed });
    if (!result.acquired && waitedTooLong(result.since, new Date(), policy)) {
      throw new FleetWaitTimedOutError(waitTimedOutMessage(holder, result.since, policy));
    }
    return result;
  },
  { idempotent: true },
);
