/**
 * `kiln agents token create | list | revoke` and `kiln agents list | show | revoke`: the self-hosted agent fleet
 * from the command line, through aws/agent-gateway-store.ts on the gateway's table (`--table` or
 * KILN_AGENT_TABLE, the stack output AgentTableName). Tables for people, `--json` for scripts. A registration
 * token's secret is printed once, by `token create`; the table keeps only its hash, and nothing else prints it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { labelsSchema } from '../aws/agent-gateway-contract.ts';
import { AGENT_TABLE_ENV, type AgentRecord, type IndexedJob } from '../aws/agent-gateway-records.ts';
import {
  type AgentStoreContext,
  createRegistrationToken,
  getAgent,
  getJob,
  listAllAgents,
  listLeasedJobs,
  listLeasedJobsOfAgent,
  listRegistrationTokens,
  revokeRegistrationToken,
  setAgentStatus,
  type TokenSummary,
} from '../aws/agent-gateway-store.ts';
import { clientConfig, homeRegion } from '../aws/clients.ts';
import { AgentGatewayError } from '../core/agents/errors.ts';
import type { JobRecord } from '../core/agents/jobs.ts';
import { DEFAULT_LEASE_POLICY, isOnline } from '../core/agents/lease.ts';
import { capabilityGap, formatLabels } from '../core/agents/matching.ts';
import { KilnError } from '../core/errors.ts';
import type { CliIO } from './io.ts';
import { renderTable } from './table.ts';

export interface AgentsOptions {
  readonly table?: string;
  readonly region?: string;
  readonly json: boolean;
}

/** The AWS clients of a region (the agent table's DynamoDB; Step Functions for `kiln builds cancel`). */
export interface AgentsClients {
  readonly dynamo: DynamoDBClient;
  readonly sfn: SFNClient;
}
export type AgentsConnect = (region: string) => AgentsClients;

/** Clients from the environment (credentials, `AWS_ENDPOINT_URL`), with Kiln's retry budget. */
export const agentsFromEnvironment: AgentsConnect = (region) => ({
  dynamo: new DynamoDBClient(clientConfig(region)),
  sfn: new SFNClient(clientConfig(region)),
});

/**
 * The builder types whose hypervisor an agent may lack: `show` says for each whether this agent can run it and,
 * if not, why (matching.ts `capabilityGap`, the sentence a queued job shows).
 */
export const HYPERVISOR_BUILDERS = ['vmware-iso', 'virtualbox-iso'] as const;

/**
 * Online means polled or heartbeated within this window. The CLI uses the default lease policy: the stack's
 * tuning (`KilnStackProps.agents`) lives in the gateway's environment, not in the admin's.
 */
const POLICY = DEFAULT_LEASE_POLICY;

interface Ctx {
  readonly store: AgentStoreContext;
  readonly region: string;
}

/** The table from `--table` or the environment; undefined with the message to print. */
export function agentTable(options: { table?: string }, io: CliIO): string | undefined {
  return options.table ?? io.env[AGENT_TABLE_ENV];
}
export const NO_AGENT_TABLE = `no agent table: pass --table <name> or set ${AGENT_TABLE_ENV} (the stack's AgentTableName output)`;

/** An AWS failure as one line that says what to check; undefined for anything else (a bug: let it throw). */
export function awsErrorLine(error: unknown, region: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ResourceNotFoundException') {
    return `${error.message} (region ${region}): check --table/--region (or ${AGENT_TABLE_ENV}), or the build's tables`;
  }
  if (error.name === 'CredentialsProviderError') {
    return `no AWS credentials: ${error.message} (set AWS_PROFILE or AWS_ACCESS_KEY_ID, as for the AWS CLI)`;
  }
  if (error.name === 'AccessDeniedException' || error.name === 'UnrecognizedClientException') {
    return `AWS refused the call (${error.name}): ${error.message}`;
  }
  if ('$metadata' in error) return `AWS ${error.name}: ${error.message}`;
  return undefined;
}

/** Prints an error we know how to explain (`Error: …`, exit 1); anything else is a bug and propagates. */
export function reportError(error: unknown, io: CliIO, region: string): number {
  if (error instanceof AgentGatewayError || error instanceof KilnError) {
    io.err(`Error: ${error.message}\n`);
    return 1;
  }
  const aws = awsErrorLine(error, region);
  if (aws) {
    io.err(`Error: ${aws}\n`);
    return 1;
  }
  throw error;
}

async function run(
  options: AgentsOptions,
  io: CliIO,
  connect: AgentsConnect,
  body: (ctx: Ctx) => Promise<void>,
): Promise<number> {
  const table = agentTable(options, io);
  if (!table) {
    io.err(`Error: ${NO_AGENT_TABLE}\n`);
    return 1;
  }
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  const store: AgentStoreContext = { dynamo: connect(region).dynamo, table, policy: POLICY, now: io.now };
  try {
    await body({ store, region });
    return 0;
  } catch (error) {
    return reportError(error, io, region);
  }
}

const json = (io: CliIO, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

// --- parsing ---------------------------------------------------------------------------------------------

const invalid = (message: string) => new AgentGatewayError('InvalidRequest', message);

/** `90`, `90s`, `30m`, `1h`, `7d` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m) throw invalid(`--ttl ${text} is not a duration: use seconds or a number with s, m, h or d (1h, 30m, 7d)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** `a,b` (repeatable) → sorted unique labels, each checked as the gateway checks them. */
export function parseLabels(values: readonly string[]): string[] {
  const labels = [...new Set(values.flatMap((v) => v.split(',')).map((l) => l.trim()))].filter(Boolean).sort();
  const parsed = z.safeParse(labelsSchema, labels);
  if (!parsed.success) {
    throw invalid(`--labels ${labels.join(',')}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return labels;
}

// --- time --------------------------------------------------------------------------------------------------

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`; `in 1h` for the future. */
export function relativeTime(at: string | undefined, now: Date): string {
  if (at === undefined) return 'never';
  const seconds = Math.round((now.getTime() - Date.parse(at)) / 1000);
  const abs = Math.abs(seconds);
  const amount =
    abs < 60
      ? `${abs}s`
      : abs < 3600
        ? `${Math.floor(abs / 60)}m`
        : abs < 86_400
          ? `${Math.floor(abs / 3600)}h`
          : `${Math.floor(abs / 86_400)}d`;
  return seconds >= 0 ? `${amount} ago` : `in ${amount}`;
}

// --- tokens ------------------------------------------------------------------------------------------------

export function runAgentsTokenCreate(
  options: AgentsOptions & { readonly labels: readonly string[]; readonly ttl?: string },
  io: CliIO,
  connect: AgentsConnect = agentsFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async ({ store }) => {
    const labels = parseLabels(options.labels);
    const ttlSeconds = options.ttl === undefined ? undefined : parseDuration(options.ttl);
    const issued = await createRegistrationToken(store, {
      labels,
      ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
    });
    if (options.json) {
      json(io, issued);
      return;
    }
    io.out(
      `Registration token (shown this once; the table keeps only its hash):\n\n  ${issued.token}\n\n` +
        `id ${issued.tokenId}, labels ${formatLabels(issued.labels)}, single use, expires ${issued.expiresAt} ` +
        `(${relativeTime(issued.expiresAt, io.now())}).\n` +
        'Register an agent with it: kiln-agent register --url <AgentGatewayUrl> --token <token>\n',
    );
  });
}

type TokenState = 'unused' | 'used' | 'expired' | 'revoked';
export function tokenState(t: TokenSummary, now: Date): TokenState {
  if (t.usedAt !== undefined) return 'used';
  if (t.revokedAt !== undefined) return 'revoked';
  return Date.parse(t.expiresAt) <= now.getTime() ? 'expired' : 'unused';
}

export function runAgentsTokenList(
  options: AgentsOptions & { readonly all: boolean },
  io: CliIO,
  connect: AgentsConnect = agentsFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async ({ store }) => {
    const now = io.now();
    const tokens = (await listRegistrationTokens(store))
      .map((t) => ({ ...t, state: tokenState(t, now) }))
      .filter((t) => options.all || t.state === 'unused');
    if (options.json) {
      json(io, tokens);
      return;
    }
    if (tokens.length === 0) {
      io.out(
        `No ${options.all ? '' : 'unused '}registration tokens; create one with kiln agents token create --labels <a,b>.\n`,
      );
      return;
    }
    io.out(
      renderTable(
        ['TOKEN', 'LABELS', 'CREATED', 'EXPIRES', 'STATE'],
        tokens.map((t) => [
          t.tokenId,
          formatLabels(t.labels),
          t.createdAt,
          `${t.expiresAt} (${relativeTime(t.expiresAt, now)})`,
          t.state === 'used' ? `used by ${t.usedBy ?? '?'}` : t.state,
        ]),
      ),
    );
  });
}

export function runAgentsTokenRevoke(
  tokenId: string,
  options: AgentsOptions,
  io: CliIO,
  connect: AgentsConnect = agentsFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async ({ store }) => {
    const token = await revokeRegistrationToken(store, tokenId.trim().split('.')[0] ?? tokenId);
    if (options.json) {
      json(io, token);
      return;
    }
    io.out(
      `Revoked registration token ${token.tokenId} (${formatLabels(token.labels)}): no agent can register with it.\n`,
    );
  });
}

// --- agents ------------------------------------------------------------------------------------------------

export interface AgentView {
  readonly agentId: string;
  readonly name: string;
  readonly status: AgentRecord['status'];
  readonly online: boolean;
  /** The later of its last poll and its last job heartbeat. */
  readonly lastSeenAt?: string;
  readonly labels: readonly string[];
  readonly capabilities: AgentRecord['capabilities'];
  readonly registeredAt: string;
  readonly statusChangedAt?: string;
  /** Jobs leased to it now (the index's LEASED partition). */
  readonly jobs: readonly string[];
  /** Per hypervisor builder type: why this agent cannot run it, or null when it can. */
  readonly capabilityGap: Readonly<Record<(typeof HYPERVISOR_BUILDERS)[number], string | null>>;
}

const later = (a: string | undefined, b: string | undefined) =>
  a === undefined ? b : b === undefined || a >= b ? a : b;

function agentView(agent: AgentRecord, leased: readonly IndexedJob[], now: Date): AgentView {
  const lastSeenAt = leased.reduce<string | undefined>((at, j) => later(at, j.lastHeartbeatAt), agent.lastSeenAt);
  const { secretHash: _hash, currentJobId: _current, ...rest } = agent;
  return {
    ...rest,
    online: agent.status === 'ACTIVE' && isOnline(lastSeenAt, now, POLICY),
    ...(lastSeenAt ? { lastSeenAt } : {}),
    jobs: leased.map((j) => j.jobId),
    capabilityGap: Object.fromEntries(
      HYPERVISOR_BUILDERS.map((b) => [b, capabilityGap(b, agent.capabilities) ?? null]),
    ) as AgentView['capabilityGap'],
  };
}

const hypervisorsText = (a: AgentView) =>
  a.capabilities.hypervisors.length ? a.capabilities.hypervisors.join(',') : 'none';

export function runAgentsList(
  options: AgentsOptions & { readonly all: boolean },
  io: CliIO,
  connect: AgentsConnect = agentsFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async ({ store }) => {
    const now = io.now();
    const agents = (await listAllAgents(store)).filter((a) => options.all || a.status === 'ACTIVE');
    // One read of the (small) LEASED partition serves every agent's current job and last heartbeat.
    const leased = await listLeasedJobs(store);
    const views = agents
      .map((a) =>
        agentView(
          a,
          leased.filter((j) => j.agentId === a.agentId),
          now,
        ),
      )
      .sort((a, b) => a.name.localeCompare(b.name) || a.agentId.localeCompare(b.agentId));
    if (options.json) {
      json(io, views);
      return;
    }
    if (views.length === 0) {
      io.out(
        `No ${options.all ? '' : 'active '}agents; create a registration token (kiln agents token create --labels <a,b>) and run kiln-agent register with it.\n`,
      );
      return;
    }
    io.out(
      renderTable(
        ['AGENT', 'NAME', 'STATUS', 'ONLINE', 'LABELS', 'HYPERVISORS', 'PACKER', 'OS/ARCH', 'JOB', 'LAST SEEN'],
        views.map((a) => [
          a.agentId,
          a.name,
          a.status,
          a.online ? 'online' : 'offline',
          formatLabels(a.labels),
          hypervisorsText(a),
          a.capabilities.packerVersion,
          `${a.capabilities.os}/${a.capabilities.arch}`,
          a.jobs.join(',') || '-',
          relativeTime(a.lastSeenAt, now),
        ]),
      ),
    );
  });
}

export function runAgentsShow(
  agentId: string,
  options: AgentsOptions,
  io: CliIO,
  connect: AgentsConnect = agentsFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async ({ store }) => {
    const now = io.now();
    const agent = await getAgent(store, agentId);
    if (!agent) throw new AgentGatewayError('NotFound', `no agent ${agentId} (see \`kiln agents list --all\`)`);
    const leased = await listLeasedJobsOfAgent(store, agentId);
    const view = agentView(agent, leased, now);
    // Its finished jobs would take a Scan of the table; the ones it holds are in the index.
    const jobs = (await Promise.all(leased.map((j) => getJob(store, j.jobId)))).filter(
      (j): j is JobRecord => j !== undefined,
    );
    const jobViews = jobs.map(({ taskToken: _token, credentialHash: _hash, payload: _payload, ...j }) => j);
    if (options.json) {
      json(io, { ...view, jobs: jobViews });
      return;
    }
    const c = agent.capabilities;
    const row = (label: string, value: string) => `  ${label.padEnd(16)}${value}`;
    const lines = [
      `Agent ${view.agentId} (${view.name})`,
      row('status', `${view.status}${view.statusChangedAt ? ` since ${view.statusChangedAt}` : ''}`),
      row(
        'online',
        `${view.online ? 'online' : 'offline'} (last seen ${relativeTime(view.lastSeenAt, now)}${view.lastSeenAt ? `, ${view.lastSeenAt}` : ''}; online within ${POLICY.onlineSeconds} s)`,
      ),
      row('registered', view.registeredAt),
      row('labels', formatLabels(view.labels)),
      row('builders', c.builders.join(', ') || 'none'),
      row('hypervisors', hypervisorsText(view)),
      ...HYPERVISOR_BUILDERS.map((b) => {
        const gap = view.capabilityGap[b];
        return row(b, gap === null ? 'can run' : `cannot run: ${gap}`);
      }),
      row('packer', c.packerVersion),
      row('os/arch', `${c.os}/${c.arch}`),
    ];
    if (jobs.length === 0) lines.push(row('jobs', 'none leased now'));
    for (const j of jobs) {
      lines.push(
        row('job', '') +
          `${j.jobId}: build ${j.buildId} ${j.build} (${j.requirements.builderType}), attempt ${j.attempt}, ` +
          `lease until ${j.leaseExpiresAt ?? '?'}${j.cancelRequested ? ', cancel requested' : ''}${j.progress ? `, ${j.progress}` : ''}`,
      );
    }
    io.out(`${lines.join('\n')}\n`);
  });
}

export function runAgentsRevoke(
  agentId: string,
  options: AgentsOptions,
  io: CliIO,
  connect: AgentsConnect = agentsFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async ({ store }) => {
    const agent = await getAgent(store, agentId);
    if (!agent) throw new AgentGatewayError('NotFound', `no agent ${agentId} (see \`kiln agents list --all\`)`);
    const already = agent.status === 'REVOKED';
    const released = already ? [] : await setAgentStatus(store, agentId, 'REVOKED');
    if (options.json) {
      json(io, { agentId, name: agent.name, status: 'REVOKED', changed: !already, releasedJobs: released });
      return;
    }
    if (already) {
      io.out(
        `Agent ${agentId} (${agent.name}) is already revoked (${agent.statusChangedAt ?? '?'}); nothing changed.\n`,
      );
      return;
    }
    io.out(
      `Revoked agent ${agentId} (${agent.name}): the gateway refuses it from its next request; to use the machine ` +
        'again, register it with a new token.\n',
    );
    for (const jobId of released) {
      io.out(
        `  ${jobId}: its lease ended now; the next sweep offers the job to another agent (or fails it once its attempts are spent)\n`,
      );
    }
  });
}
