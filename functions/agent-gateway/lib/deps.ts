/**
 * The gateway's dependencies from the environment, once per container (module scope of each handler). The
 * lease policy is tunable per deployment (the CDK construct fills these from its props).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { s3Client } from '../../../aws/clients/s3.ts';
import { sfnClient } from '../../../aws/clients/sfn.ts';
import { homeRegion } from '../../../aws/clients.ts';
import { numberEnv, requireEnv } from '../../../aws/env.ts';
import { DEFAULT_LEASE_POLICY, type LeasePolicy } from '../../../core/agents/lease.ts';
import { logger } from '../../lib/wiring.ts';
import { KILN_ENV } from '../../registry.ts';
import type { GatewayDeps, JobLogSink } from './gateway.ts';

/** The registry's variables (KILN_ENV) the gateway reads, plus the harness's poll override. */
export const AGENT_GATEWAY_ENV = {
  table: KILN_ENV.agentTable,
  heartbeatSeconds: KILN_ENV.agentHeartbeatSeconds,
  maxAttempts: KILN_ENV.agentMaxAttempts,
  queueTimeoutSeconds: KILN_ENV.agentQueueTimeoutSeconds,
  artifactsBucket: KILN_ENV.artifactsBucket,
  /** Not deployed: the local harness shortens a held acquire's re-look. */
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
    ...presignersIn(s3Client(region), env[AGENT_GATEWAY_ENV.artifactsBucket]),
  };
}

/** Presigned GETs and PUTs in the artifacts bucket; without the bucket (enqueue, sweep never presign) a call says so. */
function presignersIn(s3: S3Client, bucket: string | undefined): Pick<GatewayDeps, 'presignGet' | 'presignPut'> {
  const bucketOrThrow = () => {
    if (!bucket) throw new Error(`${AGENT_GATEWAY_ENV.artifactsBucket} is not set: this function cannot presign`);
    return bucket;
  };
  return {
    presignGet: (key, expiresIn) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket: bucketOrThrow(), Key: key }), { expiresIn }),
    // Content-Length is signed: the URL takes exactly the size the agent declared, nothing larger.
    presignPut: (key, bytes, expiresIn) =>
      getSignedUrl(s3, new PutObjectCommand({ Bucket: bucketOrThrow(), Key: key, ContentLength: bytes }), {
        expiresIn,
      }),
  };
}
