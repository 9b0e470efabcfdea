/**
 * Lease timing. An agent holding a job heartbeats every `heartbeatSeconds`; the lease lasts three windows, so
 * two lost heartbeats do not cost a build. A lease that expires (the agent died, lost its network) offers the
 * job again to any matching agent, up to `maxAttempts` leases in all, then fails it. A job nobody can take fails
 * after `queueTimeoutSeconds` with the reason (matching.ts `explainNoMatch`) rather than waiting forever.
 */

export interface LeasePolicy {
  readonly heartbeatSeconds: number;
  /** Leases a job may be given in all (the first one included). */
  readonly maxAttempts: number;
  /** How long a job may wait with no agent able to take it. */
  readonly queueTimeoutSeconds: number;
  /** An agent that polled within this window counts as online. */
  readonly onlineSeconds: number;
}

export const LEASE_WINDOWS = 3;

export const DEFAULT_LEASE_POLICY: LeasePolicy = {
  heartbeatSeconds: 30,
  maxAttempts: 3,
  queueTimeoutSeconds: 600,
  onlineSeconds: 90,
};

export const leaseSeconds = (policy: LeasePolicy): number => policy.heartbeatSeconds * LEASE_WINDOWS;

export const addSeconds = (at: Date, seconds: number): Date => new Date(at.getTime() + seconds * 1000);

export const leaseExpiry = (now: Date, policy: LeasePolicy): Date => addSeconds(now, leaseSeconds(policy));

export const isExpired = (expiresAt: string, now: Date): boolean => Date.parse(expiresAt) <= now.getTime();

export interface ExpiredLease {
  readonly agentId: string;
  /** Leases given so far, the expired one included. */
  readonly attempt: number;
  readonly lastHeartbeatAt?: string;
}

export type ExpiryOutcome = { readonly action: 'reoffer' } | { readonly action: 'fail'; readonly reason: string };

/** What an expired lease leads to: offered again, or failed once the attempts are spent. */
export function afterExpiry(lease: ExpiredLease, policy: LeasePolicy): ExpiryOutcome {
  if (lease.attempt < policy.maxAttempts) return { action: 'reoffer' };
  const last = lease.lastHeartbeatAt ? `last heartbeat ${lease.lastHeartbeatAt}` : 'no heartbeat received';
  return {
    action: 'fail',
    reason:
      `agent ${lease.agentId} stopped heartbeating (${last}; lease ${leaseSeconds(policy)} s) and the job ` +
      `was leased ${lease.attempt} times, the limit: check the agents' hosts and network, then run the build again`,
  };
}

export const queueTimedOut = (enqueuedAt: string, now: Date, policy: LeasePolicy): boolean =>
  now.getTime() - Date.parse(enqueuedAt) >= policy.queueTimeoutSeconds * 1000;

export const isOnline = (lastSeenAt: string | undefined, now: Date, policy: LeasePolicy): boolean =>
  lastSeenAt !== undefined && now.getTime() - Date.parse(lastSeenAt) <= policy.onlineSeconds * 1000;
