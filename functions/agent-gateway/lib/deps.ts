/**
 * The gateway's dependencies from the environment, once per container (module scope of each handler). The
 * lease policy is tunable per deployment (the CDK construct fills these from its props).
 */
import { AGENT_TABLE_ENV } from '../../../aws/agent-gateway-records.ts';
import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { sfnClient } from '../../../aws/clients/sfn.ts';
import { homeRegion } from '../../../aws/clients.ts';
import { numberEnv, requireEnv } from '../../../aws/env.ts';
import { DEFAULT_LEASE_POLICY, type LeasePolicy } from '../../../core/agents/lease.ts';
import { logger } from '../../lib/wiring.ts';
import type { GatewayDeps, JobLogSink } from './gateway.ts';

export const AGENT_GATEWAY_ENV = {
  table: AGENT_TABLE_ENV,
  heartbeatSeconds: 'KILN_AGENT_HEARTBEAT_SECONDS',
  maxAttempts: 'KILN_AGENT_MAX_ATTEMPTS',
  queueTimeoutSeconds: 'KILN_AGENT_QUEUE_TIMEOUT_SECONDS',
  pollIntervalMs: 'KILN_AGENT_POLL_INTERVAL_MS',
} as const;

export function leasePolicyFromEnv(env: NodeJS.ProcessEnv = process.env): LeasePolicy {
  const d = DEFAULT_LEASE_POLICY;
  const heartbeatSeconds = numberEnv(AGENT_GATEWAY_ENV.heartbeatSeconds, d.heartbeatSeconds, env);
  return {
    heartbeatSeconds,
    maxAttempts: numberEnv(AGENT_GATEWAY_ENV.maxAttempts, d.maxAttempts, env),
    queueTimeoutSeconds: numberEnv(AGENT_GATEWAY_ENV.queueTimeoutSeconds, d.queueTimeoutSeconds, env),
    // Online = polled within a lease's length: an agent busy on a job heartbeats instead of polling.
    onlineSeconds: Math.max(d.onlineSeconds, heartbeatSeconds * 3),
  };
}

/** Build output to the function's log group, one record per line, queryable by job and build. */
export const cloudWatchLogSink: JobLogSink = (job, lines) => {
  for (const { time, line } of lines) logger.info(line, { agentLog: true, ...job, time });
};

export function gatewayDepsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayDeps {
  const region = homeRegion(env);
  return {
    store: {
      dynamo: dynamoClient(region),
      table: requireEnv(AGENT_GATEWAY_ENV.table, env),
      policy: leasePolicyFromEnv(env),
      now: () => new Date(),
    },
    sfn: sfnClient(region),
    log: cloudWatchLogSink,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    pollIntervalMs: numberEnv(AGENT_GATEWAY_ENV.pollIntervalMs, 1000, env),
  };
}
