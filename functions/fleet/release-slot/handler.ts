/** ReleaseSlot: every build result of the build state machine passes here; gives the build's slot back (idempotent). */
import { type ReleaseOutput, slotTaskInputSchema } from '../../../aws/fleet-contract.ts';
import { releaseSlot } from '../../../aws/fleet-store.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { fleetStoreFromEnv, transientAware } from '../deps.ts';

const store = fleetStoreFromEnv();

export const handler = lambdaHandler(
  slotTaskInputSchema,
  async (holder): Promise<ReleaseOutput> => ({ released: await transientAware(() => releaseSlot(store, holder)) }),
  { idempotent: true },
);
