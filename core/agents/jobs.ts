/**
 * A job's life: QUEUED → LEASED (an agent holds it) → SUCCEEDED | FAILED | CANCELLED, and LEASED → QUEUED again
 * when the lease expires with attempts left (lease.ts). Every arrow is one conditional write in the store, so two
 * writers can never both move a job from the same state.
 */
import type { JobRequirements } from './matching.ts';

export const JOB_STATUSES = ['QUEUED', 'LEASED', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type FinalJobStatus = Extract<JobStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>;
export const isFinal = (status: JobStatus): status is FinalJobStatus =>
  status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';

/** The job as the gateway stores it. `taskToken` never leaves the gateway. */
export interface JobRecord {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly buildId: string;
  readonly build: string;
  readonly requirements: JobRequirements;
  /** The job document as JSON text, handed to the agent unchanged. */
  readonly payload: string;
  readonly taskToken: string;
  readonly enqueuedAt: string;
  /** When it last entered the queue (enqueue, or re-offer after a lost lease): the queue time counts from here. */
  readonly queuedAt: string;
  /** Leases given so far. */
  readonly attempt: number;
  readonly agentId?: string;
  readonly credentialHash?: string;
  readonly leasedAt?: string;
  readonly leaseExpiresAt?: string;
  readonly lastHeartbeatAt?: string;
  readonly progress?: string;
  /** Why nobody has taken it yet (matching.ts `explainNoMatch`), for `kiln builds show`. */
  readonly waitingReason?: string;
  readonly cancelRequested?: boolean;
  readonly finishedAt?: string;
  /** The outcome reported (or decided, for a lost agent or no agent), as JSON text. */
  readonly outcome?: string;
}
