/**
 * The agent gateway's DynamoDB form: one table, generic keys `pk`/`sk`, one sparse index `byState`. The CDK
 * construct keys the table from AGENT_TABLE; the store (agent-gateway-store.ts) reads and writes only through
 * the keys, builders and parsers here.
 *
 * | item               | pk             | sk      | byState (gsi1pk / gsi1sk), only while…               |
 * |--------------------|----------------|---------|------------------------------------------------------|
 * | registration token | `TOKEN#<id>`   | `TOKEN` | -                                                    |
 * | agent              | `AGENT#<id>`   | `AGENT` | `AGENTS` / `<agent id>` while ACTIVE                 |
 * | job                | `JOB#<id>`     | `JOB`   | `QUEUED` / `<queuedAt>#<id>` while queued, oldest first |
 * |                    |                |         | `LEASED` / `<leaseExpiresAt>#<id>` while leased      |
 *
 * One table rather than three: the one sparse index serves all three lists the gateway needs (the queue in
 * order, leases by expiry, active agents), registration writes the token and the agent in one transaction, and
 * the construct, its encryption, backups and IAM grants are one resource. A job leaves the index when it ends,
 * an agent when revoked, so neither list grows with history. The queue partition is one key: fine for the tens
 * of agents and hundreds of waiting jobs an on-prem fleet has (a GSI partition takes 1,000 writes a second).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { AgentStatus, RegistrationTokenRecord } from '../core/agents/access.ts';
import { JOB_STATUSES, type JobRecord, type JobStatus } from '../core/agents/jobs.ts';
import type { AgentCapabilities, AgentProfile } from '../core/agents/matching.ts';
import { capabilitiesSchema } from './agent-gateway-contract.ts';

export const AGENT_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  stateIndex: { name: 'byState', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** DynamoDB TTL attribute (epoch seconds): used tokens and finished jobs go after a while. */
  ttlAttribute: 'ttl',
} as const;

/** Attributes the index carries besides keys: what matching and the sweep read, not the payload or token. */
export const STATE_INDEX_ATTRIBUTES = [
  'jobId',
  'status',
  'builderType',
  'labels',
  'attempt',
  'agentId',
  'queuedAt',
  'leaseExpiresAt',
  'lastHeartbeatAt',
  'waitingReason',
  'name',
  'capabilities',
  'lastSeenAt',
  'currentJobId',
  // `kiln builds cancel` finds a build's open jobs, and the sweep a cancelled one's expired lease, in the index.
  'buildId',
  'cancelRequested',
  'diagnose',
] as const;

export const INDEX_PARTITION = { agents: 'AGENTS', queued: 'QUEUED', leased: 'LEASED' } as const;

/** The environment variable the handlers and the CLI read the table name from. */
export const AGENT_TABLE_ENV = 'KILN_AGENT_TABLE';

export type Item = Record<string, AttributeValue>;
export type Key = { pk: AttributeValue; sk: AttributeValue };
export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });

export const tokenKey = (tokenId: string): Key => ({ pk: S(`TOKEN#${tokenId}`), sk: S('TOKEN') });
export const agentKey = (agentId: string): Key => ({ pk: S(`AGENT#${agentId}`), sk: S('AGENT') });
export const jobKey = (jobId: string): Key => ({ pk: S(`JOB#${jobId}`), sk: S('JOB') });
export const queuedSortKey = (queuedAt: string, jobId: string): string => `${queuedAt}#${jobId}`;
export const leasedSortKey = (leaseExpiresAt: string, jobId: string): string => `${leaseExpiresAt}#${jobId}`;
export const epochSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

const str = z.object({ S: z.string() });
const num = z.object({ N: z.string() });
const bool = z.object({ BOOL: z.boolean() });
const json = <T>(schema: z.core.$ZodType<T>, value: { S: string }): T => z.parse(schema, JSON.parse(value.S));
const labelList = z.array(z.string());

export function tokenItem(t: RegistrationTokenRecord): Item {
  return {
    ...tokenKey(t.tokenId),
    type: S('registration-token'),
    tokenId: S(t.tokenId),
    secretHash: S(t.secretHash),
    labels: S(JSON.stringify(t.labels)),
    createdAt: S(t.createdAt),
    expiresAt: S(t.expiresAt),
    // Kept a day past expiry so a late use still says "expired" rather than "not valid".
    [AGENT_TABLE.ttlAttribute]: N(epochSeconds(t.expiresAt) + 86_400),
  };
}

const tokenSchema = z.object({
  tokenId: str,
  secretHash: str,
  labels: str,
  createdAt: str,
  expiresAt: str,
  usedAt: z.optional(str),
  usedBy: z.optional(str),
  revokedAt: z.optional(str),
});
export function parseToken(item: Item): RegistrationTokenRecord {
  const i = z.parse(tokenSchema, item);
  return {
    tokenId: i.tokenId.S,
    secretHash: i.secretHash.S,
    labels: json(labelList, i.labels),
    createdAt: i.createdAt.S,
    expiresAt: i.expiresAt.S,
    ...(i.usedAt ? { usedAt: i.usedAt.S } : {}),
    ...(i.usedBy ? { usedBy: i.usedBy.S } : {}),
    ...(i.revokedAt ? { revokedAt: i.revokedAt.S } : {}),
  };
}

export interface AgentRecord extends AgentProfile {
  readonly secretHash: string;
  readonly status: AgentStatus;
  readonly registeredAt: string;
  readonly statusChangedAt?: string;
  readonly lastSeenAt?: string;
  readonly currentJobId?: string;
}

export function agentItem(a: AgentRecord): Item {
  return {
    ...agentKey(a.agentId),
    type: S('agent'),
    agentId: S(a.agentId),
    name: S(a.name),
    labels: S(JSON.stringify(a.labels)),
    capabilities: S(JSON.stringify(a.capabilities)),
    secretHash: S(a.secretHash),
    status: S(a.status),
    registeredAt: S(a.registeredAt),
    ...(a.status === 'ACTIVE'
      ? {
          [AGENT_TABLE.stateIndex.partitionKey]: S(INDEX_PARTITION.agents),
          [AGENT_TABLE.stateIndex.sortKey]: S(a.agentId),
        }
      : {}),
  };
}

const agentSchema = z.object({
  agentId: str,
  name: str,
  labels: str,
  capabilities: str,
  secretHash: z.optional(str),
  status: z.optional(z.object({ S: z.enum(['ACTIVE', 'REVOKED', 'DEREGISTERED']) })),
  registeredAt: z.optional(str),
  statusChangedAt: z.optional(str),
  lastSeenAt: z.optional(str),
  currentJobId: z.optional(str),
});
/** An agent item, or its projection in the index (no secret hash there: it reads as ''). */
export function parseAgent(item: Item): AgentRecord {
  const i = z.parse(agentSchema, item);
  const capabilities: AgentCapabilities = json(capabilitiesSchema, i.capabilities);
  return {
    agentId: i.agentId.S,
    name: i.name.S,
    labels: json(labelList, i.labels),
    capabilities,
    secretHash: i.secretHash?.S ?? '',
    status: i.status?.S ?? 'ACTIVE',
    registeredAt: i.registeredAt?.S ?? '',
    ...(i.statusChangedAt ? { statusChangedAt: i.statusChangedAt.S } : {}),
    ...(i.lastSeenAt ? { lastSeenAt: i.lastSeenAt.S } : {}),
    ...(i.currentJobId ? { currentJobId: i.currentJobId.S } : {}),
  };
}

export function newJobItem(j: JobRecord): Item {
  return {
    ...jobKey(j.jobId),
    type: S('job'),
    jobId: S(j.jobId),
    status: S(j.status),
    buildId: S(j.buildId),
    build: S(j.build),
    builderType: S(j.requirements.builderType),
    labels: S(JSON.stringify(j.requirements.labels)),
    payload: S(j.payload),
    taskToken: S(j.taskToken),
    enqueuedAt: S(j.enqueuedAt),
    queuedAt: S(j.queuedAt),
    attempt: N(j.attempt),
    [AGENT_TABLE.stateIndex.partitionKey]: S(INDEX_PARTITION.queued),
    [AGENT_TABLE.stateIndex.sortKey]: S(queuedSortKey(j.queuedAt, j.jobId)),
  };
}

const optionalStrings = [
  'agentId',
  'credentialHash',
  'leasedAt',
  'leaseExpiresAt',
  'lastHeartbeatAt',
  'progress',
  'waitingReason',
  'finishedAt',
  'outcome',
] as const;
const jobSchema = z.object({
  jobId: str,
  status: z.object({ S: z.enum(JOB_STATUSES) }),
  buildId: str,
  build: str,
  builderType: str,
  labels: str,
  payload: str,
  taskToken: str,
  enqueuedAt: str,
  queuedAt: str,
  attempt: num,
  cancelRequested: z.optional(bool),
});

/** A full job item (GetItem, UpdateItem ALL_NEW) back as a JobRecord. */
export function parseJob(item: Item): JobRecord {
  const i = z.parse(jobSchema, item);
  const optional: Partial<Record<(typeof optionalStrings)[number], string>> = {};
  for (const k of optionalStrings) {
    const v = item[k]?.S;
    if (v !== undefined) optional[k] = v;
  }
  return {
    jobId: i.jobId.S,
    status: i.status.S,
    buildId: i.buildId.S,
    build: i.build.S,
    requirements: { builderType: i.builderType.S, labels: json(labelList, i.labels) },
    payload: i.payload.S,
    taskToken: i.taskToken.S,
    enqueuedAt: i.enqueuedAt.S,
    queuedAt: i.queuedAt.S,
    attempt: Number(i.attempt.N),
    ...(i.cancelRequested ? { cancelRequested: i.cancelRequested.BOOL } : {}),
    ...optional,
  };
}

/** A job as the index shows it: enough to match and to decide on an expired lease. */
export interface IndexedJob {
  readonly jobId: string;
  /** QUEUED or LEASED (the index holds open jobs only); absent in the minimal form requestCancel builds. */
  readonly status?: JobStatus;
  readonly buildId?: string;
  readonly cancelRequested?: boolean;
  readonly builderType: string;
  readonly labels: readonly string[];
  readonly attempt: number;
  readonly queuedAt: string;
  readonly agentId?: string;
  readonly leaseExpiresAt?: string;
  readonly lastHeartbeatAt?: string;
  readonly waitingReason?: string;
  /** No online agent can run it for want of a hypervisor only: one that lacks it may take it to refuse it. */
  readonly diagnose?: boolean;
}
const indexedJobSchema = z.object({
  jobId: str,
  status: z.optional(z.object({ S: z.enum(JOB_STATUSES) })),
  buildId: z.optional(str),
  cancelRequested: z.optional(bool),
  builderType: str,
  labels: str,
  attempt: num,
  queuedAt: str,
  agentId: z.optional(str),
  leaseExpiresAt: z.optional(str),
  lastHeartbeatAt: z.optional(str),
  waitingReason: z.optional(str),
  diagnose: z.optional(bool),
});
export function parseIndexedJob(item: Item): IndexedJob {
  const i = z.parse(indexedJobSchema, item);
  return {
    jobId: i.jobId.S,
    ...(i.status ? { status: i.status.S } : {}),
    ...(i.buildId ? { buildId: i.buildId.S } : {}),
    ...(i.cancelRequested ? { cancelRequested: i.cancelRequested.BOOL } : {}),
    builderType: i.builderType.S,
    labels: json(labelList, i.labels),
    attempt: Number(i.attempt.N),
    queuedAt: i.queuedAt.S,
    ...(i.agentId ? { agentId: i.agentId.S } : {}),
    ...(i.leaseExpiresAt ? { leaseExpiresAt: i.leaseExpiresAt.S } : {}),
    ...(i.lastHeartbeatAt ? { lastHeartbeatAt: i.lastHeartbeatAt.S } : {}),
    ...(i.waitingReason ? { waitingReason: i.waitingReason.S } : {}),
    ...(i.diagnose?.BOOL ? { diagnose: true } : {}),
  };
}
