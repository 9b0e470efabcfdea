/**
 * A failed agent build's job must not live on: when the task failed on the Step Functions side (a silent
 * gateway, the task's timeout), the job may still be queued or leased. Cleanup cancels it: a queued job ends
 * CANCELLED and is never leased, a leased one is marked and its agent's next heartbeat answers `cancel: true`
 * (the agent stops packer, which removes its VM). Jobs the gateway already ended are left as they are.
 */
import {
  type AgentStoreContext,
  getJob,
  listOpenJobsOfBuild,
  requestCancel,
} from '../../../aws/agent-gateway-store.ts';
import type { CleanupStep } from '../../lib/cleanup-table.ts';

export type CancelAgentJobs = (buildId: string, build: string) => Promise<CleanupStep[]>;

export function agentJobCanceller(store: AgentStoreContext): CancelAgentJobs {
  return async (buildId, build) => {
    const steps: CleanupStep[] = [];
    for (const open of await listOpenJobsOfBuild(store, buildId)) {
      const job = await getJob(store, open.jobId);
      if (job?.build !== build) continue;
      try {
        const after = await requestCancel(store, open.jobId);
        steps.push({
          action: 'cancel-agent-job',
          target: open.jobId,
          outcome: after?.status === 'CANCELLED' || after?.cancelRequested ? 'removed' : 'already-gone',
        });
      } catch (error) {
        steps.push({
          action: 'cancel-agent-job',
          target: open.jobId,
          outcome: 'failed',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return steps;
  };
}
