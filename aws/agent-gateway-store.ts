/**
 * The agent gateway's reads and writes. Every state change is one conditional write on one item, so a
 * race has exactly one winner: acquire moves a job only from QUEUED (or from a lease that expired unrenewed),
 * heartbeat and complete only while the job is leased to this agent under this lease's credential. Decisions
 * (matching, lease timing, credential checks) are core/agents'; item forms are agent-gateway-records.ts's.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type AgentStatus,
  checkRegistrationToken,
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  type RegistrationTokenRecord,
} from '../core/agents/access.ts';
import { formatCredential, issueCredential, jobIdForTaskToken } from '../core/agents/credentials.ts';
import { AgentGatewayError } from '../core/agents/errors.ts';
import { type FinalJobStatus, isFinal, type JobRecord } from '../core/agents/jobs.ts';
import { addSeconds, type LeasePolicy, leaseExpiry } from '../core/agents/lease.ts';
import { type AgentCapabilities, type AgentProfile, matches, mayDiagnose } from '../core/agents/matching.ts';
import type { EnqueueJobInput } from './agent-gateway-contract.ts';
import {
  AGENT_TABLE,
  type AgentRecord,
  agentItem,
  agentKey,
  INDEX_PARTITION,
  type IndexedJob,
  type Item,
  jobKey,
  leasedSortKey,
  N,
  newJobItem,
  parseAgent,
  parseIndexedJob,
  parseJob,
  parseToken,
  queuedSortKey,
  S,
  tokenItem,
  tokenKey,
} from './agent-gateway-records.ts';

export interface AgentStoreContext {
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  readonly policy: LeasePolicy;
  readonly now: () => Date;
}

/** Queued jobs one acquire looks at; the oldest first, the first few shuffled so agents polling together spread. */
export const ACQUIRE_CANDIDATES = 20;
export const ACQUIRE_SPREAD = 10;
/** Finished jobs stay readable this long (`kiln builds show`), then DynamoDB TTL removes them. */
export const FINISHED_JOB_RETENTION_SECONDS = 30 * 86_400;

const { partitionKey: GSI_PK, sortKey: GSI_SK, name: STATE_INDEX } = AGENT_TABLE.stateIndex;
const iso = (d: Date) => d.toISOString();

const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException;

/** Runs a conditional write; false when its condition did not hold (someone else moved the item first). */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

async function getItem(ctx: AgentStoreContext, key: Item): Promise<Item | undefined> {
  const out = await ctx.dynamo.send(new GetItemCommand({ TableName: ctx.table, Key: key, ConsistentRead: true }));
  return out.Item;
}

/** A filter on one projected attribute (the index partitions are small: a filter costs little). */
interface AttributeFilter {
  readonly attribute: 'agentId' | 'buildId';
  readonly value: string;
}

async function queryIndex(
  ctx: AgentStoreContext,
  partition: string,
  options: { before?: string; limit?: number; filter?: AttributeFilter } = {},
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, AttributeValue> | undefined;
  const { filter } = options;
  do {
    const out = await ctx.dynamo.send(
      new QueryCommand({
        TableName: ctx.table,
        IndexName: STATE_INDEX,
        KeyConditionExpression: options.before ? '#pk = :pk AND #sk < :before' : '#pk = :pk',
        ...(filter ? { FilterExpression: '#f = :f' } : {}),
        ExpressionAttributeNames: {
          '#pk': GSI_PK,
          ...(options.before ? { '#sk': GSI_SK } : {}),
          ...(filter ? { '#f': filter.attribute } : {}),
        },
        ExpressionAttributeValues: {
          ':pk': S(partition),
          ...(options.before ? { ':before': S(options.before) } : {}),
          ...(filter ? { ':f': S(filter.value) } : {}),
        },
        ...(options.limit ? { Limit: options.limit - items.length } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start && (options.limit === undefined || items.length < options.limit));
  return items;
}

// --- registration tokens and agents -----------------------------------------------------------------------

export interface IssuedToken {
  /** `rt-….<secret>`: shown once to the admin, never stored. */
  readonly token: string;
  readonly tokenId: string;
  readonly labels: readonly string[];
  readonly expiresAt: string;
}

export async function createRegistrationToken(
  ctx: AgentStoreContext,
  options: { labels: readonly string[]; ttlSeconds?: number },
): Promise<IssuedToken> {
  const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!(ttl > 0 && ttl <= MAX_TOKEN_TTL_SECONDS)) {
    throw new AgentGatewayError(
      'InvalidRequest',
      `a registration token lives 1 s to ${MAX_TOKEN_TTL_SECONDS} s (7 days), not ${ttl} s`,
    );
  }
  const now = ctx.now();
  const { credential, hash } = issueCredential('registrationToken');
  const record = {
    tokenId: credential.id,
    secretHash: hash,
    labels: [...new Set(options.labels)].sort(),
    createdAt: iso(now),
    expiresAt: iso(addSeconds(now, ttl)),
  };
  await ctx.dynamo.send(
    new PutItemCommand({
      TableName: ctx.table,
      Item: tokenItem(record),
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return {
    token: formatCredential(credential),
    tokenId: record.tokenId,
    labels: record.labels,
    expiresAt: record.expiresAt,
  };
}

/** A registration token as `kiln agents token list` shows it: never its secret or the secret's hash. */
export type TokenSummary = Omit<RegistrationTokenRecord, 'secretHash'>;

/** Every registration token still in the table (used and expired ones stay a day past expiry): a Scan, small. */
export async function listRegistrationTokens(ctx: AgentStoreContext): Promise<TokenSummary[]> {
  const tokens: TokenSummary[] = [];
  for (const item of await scanType(ctx, 'registration-token')) {
    const { secretHash: _hash, ...summary } = parseToken(item);
    tokens.push(summary);
  }
  return tokens.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.tokenId.localeCompare(b.tokenId));
}

/**
 * Revokes an unused token: a registration with it is refused from now on. A used token is the agent's
 * identity now, so it is refused here with the agent to revoke instead.
 */
export async function revokeRegistrationToken(ctx: AgentStoreContext, tokenId: string): Promise<TokenSummary> {
  const now = iso(ctx.now());
  const done = await conditional(() =>
    ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: tokenKey(tokenId),
        UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :now)',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAt)',
        ExpressionAttributeValues: { ':now': S(now) },
      }),
    ),
  );
  const item = await getItem(ctx, tokenKey(tokenId));
  if (!item)
    throw new AgentGatewayError('NotFound', `no registration token ${tokenId} (see \`kiln agents token list\`)`);
  const { secretHash: _hash, ...token } = parseToken(item);
  if (!done) {
    throw new AgentGatewayError(
      'InvalidRequest',
      `registration token ${tokenId} was already used by agent ${token.usedBy ?? '?'} (${token.usedAt ?? '?'}): revoke the agent instead (\`kiln agents revoke ${token.usedBy ?? '<agent id>'}\`)`,
    );
  }
  return token;
}

export interface RegisteredAgent {
  readonly agent: AgentRecord;
  /** `ag-….<secret>`: returned once, stored only as its hash. */
  readonly credential: string;
}

/**
 * Exchanges a registration token for an agent identity. The token is claimed first, by an UpdateItem
 * conditioned on it being unused, unexpired and this secret's, so of concurrent uses exactly one wins; the agent
 * is put after. Not one transaction: a transaction racing another on one item may fail with TransactionConflict
 * rather than the condition (and moto 5.2.1's transactions are not thread-safe: concurrent ones answer HTTP 500),
 * while two single-item writes cannot. If the second write fails, the token is spent with no agent: the
 * registration fails and the admin issues another token, which is the single-use rule anyway.
 */
export async function registerAgent(
  ctx: AgentStoreContext,
  request: { tokenId: string; tokenSecret: string; name: string; capabilities: AgentCapabilities },
): Promise<RegisteredAgent> {
  const now = ctx.now();
  const stored = await getItem(ctx, tokenKey(request.tokenId));
  const token = stored ? parseToken(stored) : undefined;
  checkRegistrationToken(token, request.tokenSecret, now);
  const { credential, hash } = issueCredential('agent');
  const agent: AgentRecord = {
    agentId: credential.id,
    name: request.name,
    labels: token.labels,
    capabilities: request.capabilities,
    secretHash: hash,
    status: 'ACTIVE',
    registeredAt: iso(now),
  };
  const claimed = await conditional(() =>
    ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: tokenKey(token.tokenId),
        UpdateExpression: 'SET usedAt = :now, usedBy = :agent',
        ConditionExpression:
          'attribute_not_exists(usedAt) AND attribute_not_exists(revokedAt) AND expiresAt > :now AND secretHash = :hash',
        ExpressionAttributeValues: { ':now': S(iso(now)), ':agent': S(agent.agentId), ':hash': S(token.secretHash) },
      }),
    ),
  );
  if (!claimed) {
    // Another registration used the token between our read and our write: say so as the read would have.
    const again = await getItem(ctx, tokenKey(token.tokenId));
    checkRegistrationToken(again ? parseToken(again) : undefined, request.tokenSecret, now);
    throw new AgentGatewayError('TokenInvalid', `registration token ${token.tokenId} was just used by another agent`);
  }
  await ctx.dynamo.send(
    new PutItemCommand({
      TableName: ctx.table,
      Item: agentItem(agent),
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return { agent, credential: formatCredential(credential) };
}

export async function getAgent(ctx: AgentStoreContext, agentId: string): Promise<AgentRecord | undefined> {
  const item = await getItem(ctx, agentKey(agentId));
  return item ? parseAgent(item) : undefined;
}

/** Active agents (index projection: no secret hashes). */
export async function listActiveAgents(ctx: AgentStoreContext): Promise<AgentRecord[]> {
  return (await queryIndex(ctx, INDEX_PARTITION.agents)).map(parseAgent);
}

/**
 * Every agent, revoked and deregistered ones included (`kiln agents list --all`): a Scan, since inactive agents
 * leave the index; the table holds agents, tokens and open or recently finished jobs, so it stays small.
 */
export async function listAllAgents(ctx: AgentStoreContext): Promise<AgentRecord[]> {
  return (await scanType(ctx, 'agent')).map(parseAgent);
}

/** Every item of one `type` (agents, tokens): a filtered Scan of a table that stays small. */
async function scanType(ctx: AgentStoreContext, type: 'agent' | 'registration-token'): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await ctx.dynamo.send(
      new ScanCommand({
        TableName: ctx.table,
        FilterExpression: '#type = :type',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':type': S(type) },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Revoke (admin) or deregister (the agent itself): refused from its next request on, out of the agent list. Its
 * leases end now (their expiry set to now), so the next sweep or acquire offers its jobs again, or fails them
 * once their attempts are spent, instead of waiting out a lease nobody can renew. Returns those jobs' ids.
 */
export async function setAgentStatus(
  ctx: AgentStoreContext,
  agentId: string,
  status: Exclude<AgentStatus, 'ACTIVE'>,
): Promise<string[]> {
  const done = await conditional(() =>
    ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: agentKey(agentId),
        UpdateExpression: 'SET #status = :status, statusChangedAt = :now REMOVE #gpk, #gsk, currentJobId',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK, '#gsk': GSI_SK },
        ExpressionAttributeValues: { ':status': S(status), ':now': S(iso(ctx.now())) },
      }),
    ),
  );
  if (!done) throw new AgentGatewayError('NotFound', `no agent ${agentId} (see \`kiln agents list\`)`);
  const ended: string[] = [];
  for (const seen of await listLeasedJobsOfAgent(ctx, agentId)) {
    if (await endLeaseNow(ctx, agentId, seen)) ended.push(seen.jobId);
  }
  return ended;
}

/** Moves a lease's expiry to now: from then on it is an expired lease like any other (sweep, acquire). */
async function endLeaseNow(ctx: AgentStoreContext, agentId: string, seen: IndexedJob): Promise<boolean> {
  const now = iso(ctx.now());
  return conditional(() =>
    ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: jobKey(seen.jobId),
        UpdateExpression: 'SET leaseExpiresAt = :now, #gsk = :sk',
        ConditionExpression: '#status = :leased AND agentId = :agent AND leaseExpiresAt = :seenExpiry',
        ExpressionAttributeNames: { '#status': 'status', '#gsk': GSI_SK },
        ExpressionAttributeValues: {
          ':now': S(now),
          ':sk': S(leasedSortKey(now, seen.jobId)),
          ':leased': S('LEASED'),
          ':agent': S(agentId),
          ':seenExpiry': S(seen.leaseExpiresAt ?? ''),
        },
      }),
    ),
  );
}

/** Records a poll: the agent is online, with what it found on its machine now. Only while it is active. */
export async function touchAgent(
  ctx: AgentStoreContext,
  agentId: string,
  capabilities: AgentCapabilities,
): Promise<void> {
  await conditional(() =>
    ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: agentKey(agentId),
        UpdateExpression: 'SET lastSeenAt = :now, capabilities = :caps',
        ConditionExpression: '#status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':now': S(iso(ctx.now())),
          ':caps': S(JSON.stringify(capabilities)),
          ':active': S('ACTIVE'),
        },
      }),
    ),
  );
}

// --- jobs -------------------------------------------------------------------------------------------------

/** Puts a job in the queue; the same task token again (a retried enqueue) is the same job, written once. */
export async function enqueueJob(ctx: AgentStoreContext, input: EnqueueJobInput): Promise<JobRecord> {
  const now = iso(ctx.now());
  const job: JobRecord = {
    jobId: jobIdForTaskToken(input.taskToken),
    status: 'QUEUED',
    buildId: input.buildId,
    build: input.build,
    requirements: { builderType: input.builderType, labels: [...new Set(input.labels)].sort() },
    payload: JSON.stringify(input.payload),
    taskToken: input.taskToken,
    enqueuedAt: now,
    queuedAt: now,
    attempt: 0,
  };
  const written = await conditional(() =>
    ctx.dynamo.send(
      new PutItemCommand({
        TableName: ctx.table,
        Item: newJobItem(job),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
  if (written) return job;
  const existing = await getJob(ctx, job.jobId);
  if (!existing) throw new Error(`job ${job.jobId} exists and cannot be read`);
  return existing;
}

export async function getJob(ctx: AgentStoreContext, jobId: string): Promise<JobRecord | undefined> {
  const item = await getItem(ctx, jobKey(jobId));
  return item ? parseJob(item) : undefined;
}

export const listQueuedJobs = async (ctx: AgentStoreContext, limit?: number): Promise<IndexedJob[]> =>
  (await queryIndex(ctx, INDEX_PARTITION.queued, limit ? { limit } : {})).map(parseIndexedJob);

/** Every job leased now (`kiln agents list`: each agent's current job and last heartbeat, in one read). */
export const listLeasedJobs = async (ctx: AgentStoreContext): Promise<IndexedJob[]> =>
  (await queryIndex(ctx, INDEX_PARTITION.leased)).map(parseIndexedJob);

/** Jobs leased to this agent now (its lease may have run out unrenewed). */
export const listLeasedJobsOfAgent = async (ctx: AgentStoreContext, agentId: string): Promise<IndexedJob[]> =>
  (await queryIndex(ctx, INDEX_PARTITION.leased, { filter: { attribute: 'agentId', value: agentId } })).map(
    parseIndexedJob,
  );

/** A build's jobs still open (QUEUED or LEASED): the index holds only those, so this reads two small partitions. */
export async function listOpenJobsOfBuild(ctx: AgentStoreContext, buildId: string): Promise<IndexedJob[]> {
  const filter = { attribute: 'buildId', value: buildId } as const;
  const [queued, leased] = await Promise.all([
    queryIndex(ctx, INDEX_PARTITION.queued, { filter }),
    queryIndex(ctx, INDEX_PARTITION.leased, { filter }),
  ]);
  return [...queued, ...leased].map(parseIndexedJob);
}

/** Leased jobs whose lease has run out (index sort key is the expiry). */
export const listExpiredLeases = async (ctx: AgentStoreContext, limit?: number): Promise<IndexedJob[]> =>
  (
    await queryIndex(ctx, INDEX_PARTITION.leased, {
      before: leasedSortKey(iso(ctx.now()), ''),
      ...(limit ? { limit } : {}),
    })
  ).map(parseIndexedJob);

export interface Lease {
  readonly job: JobRecord;
  /** `job-….<secret>` for this lease's heartbeat and complete. */
  readonly credential: string;
}

function shuffledFront<T>(items: readonly T[], front: number, random: () => number): T[] {
  const head = items.slice(0, front);
  for (let i = head.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [head[i], head[j]] = [head[j] as T, head[i] as T];
  }
  return [...head, ...items.slice(front)];
}

/**
 * Gives the agent one job it matches, or none. Candidates: queued jobs (oldest first) and jobs whose lease
 * expired with attempts left. Each try is an UpdateItem conditioned on the state the candidate was seen in
 * (QUEUED at that attempt, or LEASED with that very expiry, now past), so of agents racing for one job exactly
 * one wins; the others go on to the next candidate.
 */
export async function acquireJob(
  ctx: AgentStoreContext,
  agent: AgentProfile,
  random: () => number = Math.random,
): Promise<Lease | undefined> {
  const [queued, expired] = await Promise.all([
    listQueuedJobs(ctx, ACQUIRE_CANDIDATES),
    listExpiredLeases(ctx, ACQUIRE_CANDIDATES),
  ]);
  const fits = (j: IndexedJob) => {
    const job = { builderType: j.builderType, labels: j.labels };
    return matches(job, agent) || (j.diagnose === true && mayDiagnose(job, agent));
  };
  const candidates = [
    // A cancelled job's expired lease is the sweep's to end, never another agent's to take.
    ...expired.filter((j) => j.attempt < ctx.policy.maxAttempts && !j.cancelRequested && fits(j)),
    ...shuffledFront(queued.filter(fits), ACQUIRE_SPREAD, random),
  ];
  for (const candidate of candidates) {
    const lease = await tryLease(ctx, agent.agentId, candidate);
    if (lease) return lease;
  }
  return undefined;
}

async function tryLease(ctx: AgentStoreContext, agentId: string, seen: IndexedJob): Promise<Lease | undefined> {
  const now = ctx.now();
  const expiresAt = iso(leaseExpiry(now, ctx.policy));
  const { credential, hash } = issueCredential('job', seen.jobId);
  const fromExpired = seen.leaseExpiresAt !== undefined;
  try {
    const out = await ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: jobKey(seen.jobId),
        UpdateExpression:
          'SET #status = :leased, agentId = :agent, credentialHash = :hash, attempt = attempt + :one, ' +
          'leasedAt = :now, leaseExpiresAt = :expires, #gpk = :leasedPk, #gsk = :leasedSk ' +
          'REMOVE waitingReason, lastHeartbeatAt, progress',
        ConditionExpression: fromExpired
          ? '#status = :leased AND leaseExpiresAt = :seenExpiry AND leaseExpiresAt <= :now AND attempt = :attempt ' +
            'AND attribute_not_exists(cancelRequested)'
          : '#status = :queued AND attempt = :attempt',
        ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK, '#gsk': GSI_SK },
        ExpressionAttributeValues: {
          ':leased': S('LEASED'),
          ':agent': S(agentId),
          ':hash': S(hash),
          ':one': N(1),
          ':now': S(iso(now)),
          ':expires': S(expiresAt),
          ':leasedPk': S(INDEX_PARTITION.leased),
          ':leasedSk': S(leasedSortKey(expiresAt, seen.jobId)),
          ':attempt': N(seen.attempt),
          ...(fromExpired ? { ':seenExpiry': S(seen.leaseExpiresAt as string) } : { ':queued': S('QUEUED') }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (!out.Attributes) throw new Error(`UpdateItem of ${seen.jobId} returned no attributes`);
    await recordCurrentJob(ctx, agentId, seen.jobId);
    return { job: parseJob(out.Attributes), credential: formatCredential(credential) };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** The agent's current job, for `kiln agents list` (informational: the job item is what decides). */
async function recordCurrentJob(ctx: AgentStoreContext, agentId: string, jobId: string | undefined): Promise<void> {
  await ctx.dynamo.send(
    new UpdateItemCommand({
      TableName: ctx.table,
      Key: agentKey(agentId),
      UpdateExpression: jobId ? 'SET currentJobId = :job' : 'REMOVE currentJobId',
      ...(jobId ? { ExpressionAttributeValues: { ':job': S(jobId) } } : {}),
    }),
  );
}

/** The condition every write by a lease holder carries: still leased, to this agent, under this credential. */
const HOLDER_CONDITION = '#status = :leased AND agentId = :agent AND credentialHash = :hash';
const holderValues = (agentId: string, credentialHash: string) => ({
  ':leased': S('LEASED'),
  ':agent': S(agentId),
  ':hash': S(credentialHash),
});

const leaseLost = (jobId: string) =>
  new AgentGatewayError(
    'LeaseLost',
    `the lease on ${jobId} is no longer this agent's (it expired and the job was offered again, or it ended): stop the build and acquire again`,
  );

/**
 * Extends the lease of the holder. A heartbeat that arrives after expiry still renews it as long as no other
 * agent has taken the job (taking it changes the credential, so the condition cannot hold for the old one).
 */
export async function heartbeatJob(
  ctx: AgentStoreContext,
  holder: { jobId: string; agentId: string; credentialHash: string },
  progress: string | undefined,
): Promise<JobRecord> {
  const now = ctx.now();
  const expiresAt = iso(leaseExpiry(now, ctx.policy));
  try {
    const out = await ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: jobKey(holder.jobId),
        UpdateExpression: `SET leaseExpiresAt = :expires, lastHeartbeatAt = :now, #gsk = :sk${progress === undefined ? '' : ', progress = :progress'}`,
        ConditionExpression: HOLDER_CONDITION,
        ExpressionAttributeNames: { '#status': 'status', '#gsk': GSI_SK },
        ExpressionAttributeValues: {
          ...holderValues(holder.agentId, holder.credentialHash),
          ':expires': S(expiresAt),
          ':now': S(iso(now)),
          ':sk': S(leasedSortKey(expiresAt, holder.jobId)),
          ...(progress === undefined ? {} : { ':progress': S(progress) }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (!out.Attributes) throw new Error(`UpdateItem of ${holder.jobId} returned no attributes`);
    return parseJob(out.Attributes);
  } catch (error) {
    if (isConditionFailure(error)) throw leaseLost(holder.jobId);
    throw error;
  }
}

export interface Completion {
  readonly job: JobRecord;
  /** The same lease had already completed the job (a retried request): nothing was written. */
  readonly repeated: boolean;
}

/** Ends the job with the holder's outcome. A repeat by the same lease returns the recorded end. */
export async function completeJob(
  ctx: AgentStoreContext,
  holder: { jobId: string; agentId: string; credentialHash: string },
  status: FinalJobStatus,
  outcome: unknown,
): Promise<Completion> {
  const now = iso(ctx.now());
  try {
    const out = await ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: jobKey(holder.jobId),
        UpdateExpression: 'SET #status = :final, finishedAt = :now, outcome = :outcome, #ttl = :ttl REMOVE #gpk, #gsk',
        ConditionExpression: HOLDER_CONDITION,
        ExpressionAttributeNames: {
          '#status': 'status',
          '#gpk': GSI_PK,
          '#gsk': GSI_SK,
          '#ttl': AGENT_TABLE.ttlAttribute,
        },
        ExpressionAttributeValues: {
          ...holderValues(holder.agentId, holder.credentialHash),
          ':final': S(status),
          ':now': S(now),
          ':outcome': S(JSON.stringify(outcome)),
          ':ttl': N(Math.floor(Date.parse(now) / 1000) + FINISHED_JOB_RETENTION_SECONDS),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (!out.Attributes) throw new Error(`UpdateItem of ${holder.jobId} returned no attributes`);
    await recordCurrentJob(ctx, holder.agentId, undefined);
    return { job: parseJob(out.Attributes), repeated: false };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const job = await getJob(ctx, holder.jobId);
    const sameLease = job?.agentId === holder.agentId && job.credentialHash === holder.credentialHash;
    if (job && sameLease && isFinal(job.status)) return { job, repeated: true };
    throw leaseLost(holder.jobId);
  }
}

/**
 * Ends a job the gateway decides on (agent lost with no attempts left, no agent within the queue time, the
 * execution gone): only from the state it was seen in, so a job an agent took or renewed meanwhile is left alone.
 * Returns the ended job (for its task token), or undefined when it had moved.
 */
export async function endJobAsGateway(
  ctx: AgentStoreContext,
  seen: IndexedJob,
  from: 'QUEUED' | 'LEASED',
  status: Exclude<FinalJobStatus, 'SUCCEEDED'>,
  reason: string,
): Promise<JobRecord | undefined> {
  const now = iso(ctx.now());
  try {
    const out = await ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: jobKey(seen.jobId),
        UpdateExpression: 'SET #status = :final, finishedAt = :now, outcome = :outcome, #ttl = :ttl REMOVE #gpk, #gsk',
        ConditionExpression:
          from === 'QUEUED'
            ? '#status = :from AND attempt = :attempt'
            : '#status = :from AND attempt = :attempt AND leaseExpiresAt = :seenExpiry',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#gpk': GSI_PK,
          '#gsk': GSI_SK,
          '#ttl': AGENT_TABLE.ttlAttribute,
        },
        ExpressionAttributeValues: {
          ':final': S(status),
          ':from': S(from),
          ':attempt': N(seen.attempt),
          ':now': S(now),
          ':outcome': S(JSON.stringify({ outcome: 'failed', decidedBy: 'gateway', reason })),
          ':ttl': N(Math.floor(Date.parse(now) / 1000) + FINISHED_JOB_RETENTION_SECONDS),
          ...(from === 'LEASED' ? { ':seenExpiry': S(seen.leaseExpiresAt ?? '') } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes ? parseJob(out.Attributes) : undefined;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Puts a job whose lease expired back at the front of the queue (its first queue time kept); never a cancelled one. */
export async function requeueExpired(ctx: AgentStoreContext, seen: IndexedJob): Promise<boolean> {
  const now = iso(ctx.now());
  return conditional(() =>
    ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: jobKey(seen.jobId),
        UpdateExpression:
          'SET #status = :queued, queuedAt = :now, #gpk = :queuedPk, #gsk = :queuedSk ' +
          'REMOVE credentialHash, leaseExpiresAt, leasedAt',
        ConditionExpression:
          '#status = :leased AND attempt = :attempt AND leaseExpiresAt = :seenExpiry AND attribute_not_exists(cancelRequested)',
        ExpressionAttributeNames: { '#status': 'status', '#gpk': GSI_PK, '#gsk': GSI_SK },
        ExpressionAttributeValues: {
          ':queued': S('QUEUED'),
          ':leased': S('LEASED'),
          ':now': S(now),
          ':queuedPk': S(INDEX_PARTITION.queued),
          // Sorted by the first queue time: a re-offered job goes before jobs queued after it.
          ':queuedSk': S(queuedSortKey(seen.queuedAt, seen.jobId)),
          ':attempt': N(seen.attempt),
          ':seenExpiry': S(seen.leaseExpiresAt ?? ''),
        },
      }),
    ),
  );
}

/** Records why a queued job waits (shown by `kiln builds show`); unchanged reasons are not rewritten. */
/**
 * Why a queued job waits (undefined: an online agent fits, it is only busy), and whether an agent lacking just the
 * hypervisor may take it to refuse it with its own diagnosis (see core/agents/matching.ts `mayDiagnose`).
 */
export async function setWaitingReason(
  ctx: AgentStoreContext,
  seen: IndexedJob,
  reason: string | undefined,
  diagnose = false,
): Promise<void> {
  if (reason === seen.waitingReason && diagnose === (seen.diagnose === true)) return;
  const set = [
    ...(reason === undefined ? [] : ['waitingReason = :reason']),
    ...(diagnose ? ['diagnose = :diagnose'] : []),
  ];
  const remove = [...(reason === undefined ? ['waitingReason'] : []), ...(diagnose ? [] : ['diagnose'])];
  await conditional(() =>
    ctx.dynamo.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: jobKey(seen.jobId),
        UpdateExpression: [
          set.length > 0 ? `SET ${set.join(', ')}` : '',
          remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join(' '),
        ConditionExpression: '#status = :queued AND attempt = :attempt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':queued': S('QUEUED'),
          ':attempt': N(seen.attempt),
          ...(reason === undefined ? {} : { ':reason': S(reason) }),
          ...(diagnose ? { ':diagnose': { BOOL: true } } : {}),
        },
      }),
    ),
  );
}

/**
 * Asks the holder to stop (its next heartbeat answers `cancel`); a queued job ends at once. Each step is
 * conditioned on the state just read; when the job moved in between (leased, or re-queued), the other step is
 * tried, so a cancel racing an acquire or the sweep is not lost.
 */
export async function requestCancel(ctx: AgentStoreContext, jobId: string): Promise<JobRecord | undefined> {
  for (let tries = 0; tries < 3; tries++) {
    const job = await getJob(ctx, jobId);
    if (!job || isFinal(job.status)) return job;
    if (job.status === 'QUEUED') {
      const seen = { jobId, builderType: '', labels: [], attempt: job.attempt, queuedAt: job.queuedAt };
      const ended = await endJobAsGateway(ctx, seen, 'QUEUED', 'CANCELLED', 'cancelled while queued');
      if (ended) return ended;
      continue;
    }
    const marked = await conditional(() =>
      ctx.dynamo.send(
        new UpdateItemCommand({
          TableName: ctx.table,
          Key: jobKey(jobId),
          UpdateExpression: 'SET cancelRequested = :yes',
          ConditionExpression: '#status = :leased',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':yes': { BOOL: true }, ':leased': S('LEASED') },
        }),
      ),
    );
    if (marked) return getJob(ctx, jobId);
  }
  return getJob(ctx, jobId);
}
