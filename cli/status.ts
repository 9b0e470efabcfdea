/**
 * `kiln status`: the fleet bound now, from its table (`--table` or KILN_FLEET_TABLE, the stack output
 * FleetTableName): the cap, the slots in use with their holders (build, execution, since when), the builds waiting
 * for a slot, and, given the agent table, how many agents are online. A table for people, `--json` for scripts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AGENT_TABLE_ENV } from '../aws/agent-gateway-records.ts';
import { listAllAgents } from '../aws/agent-gateway-store.ts';
import { clientConfig, homeRegion } from '../aws/clients.ts';
import { FLEET_ENV } from '../aws/fleet-contract.ts';
import { type FleetSnapshot, readFleet } from '../aws/fleet-store.ts';
import { DEFAULT_LEASE_POLICY, isOnline } from '../core/agents/lease.ts';
import { stillWaiting } from '../core/fleet/slots.ts';
import { relativeTime, reportError } from './agents.ts';
import type { CliIO } from './io.ts';
import { renderTable } from './table.ts';

export interface StatusOptions {
  /** The fleet table (default: KILN_FLEET_TABLE). */
  readonly table?: string;
  /** The agent gateway's table, for agents online (default: KILN_AGENT_TABLE; absent: not shown). */
  readonly agentTable?: string;
  readonly region?: string;
  readonly json: boolean;
}

export type StatusConnect = (region: string) => { readonly dynamo: DynamoDBClient };
export const statusFromEnvironment: StatusConnect = (region) => ({ dynamo: new DynamoDBClient(clientConfig(region)) });

export const NO_FLEET_TABLE = `no fleet table: pass --table <name> or set ${FLEET_ENV.table} (the stack's FleetTableName output)`;

/** What `--json` prints (and the text is made from). */
export interface FleetStatus {
  /** The cap the last acquire used; null before any build asked. */
  readonly cap: number | null;
  readonly inUse: number;
  readonly holders: readonly { build: string; executionArn: string; since: string; checkedAt?: string }[];
  readonly waiting: readonly { build: string; executionArn: string; since: string; lastAskedAt: string }[];
  readonly agents?: { readonly online: number; readonly active: number };
}

export function fleetStatus(snapshot: FleetSnapshot, now: Date): FleetStatus {
  return {
    cap: snapshot.cap ?? null,
    inUse: snapshot.held,
    holders: snapshot.slots.map((s) => ({
      build: s.build,
      executionArn: s.executionArn,
      since: s.acquiredAt,
      ...(s.checkedAt ? { checkedAt: s.checkedAt } : {}),
    })),
    // Waiters whose execution ended while waiting stop asking: shown no longer (their items expire by TTL).
    waiting: snapshot.waiters
      .filter((w) => stillWaiting(w, now))
      .map((w) => ({ build: w.build, executionArn: w.executionArn, since: w.since, lastAskedAt: w.lastSeenAt })),
  };
}

/** The execution's name (the ARN's last part): what the console and `kiln builds` show. */
const executionName = (arn: string) => arn.split(':').at(-1) ?? arn;

export function renderStatus(status: FleetStatus, now: Date): string {
  const cap = status.cap === null ? 'cap not known yet (no build has asked for a slot)' : `cap ${status.cap}`;
  const lines = [
    `Fleet: ${status.inUse} slot${status.inUse === 1 ? '' : 's'} in use, ${cap}; ${status.waiting.length} build${
      status.waiting.length === 1 ? '' : 's'
    } waiting for a slot`,
  ];
  if (status.agents) lines.push(`Agents: ${status.agents.online} online of ${status.agents.active} active`);
  let text = `${lines.join('\n')}\n`;
  if (status.holders.length > 0) {
    text += `\nIn use:\n${renderTable(
      ['BUILD', 'EXECUTION', 'SINCE'],
      status.holders.map((h) => [h.build, executionName(h.executionArn), `${h.since} (${relativeTime(h.since, now)})`]),
    )}`;
  }
  if (status.waiting.length > 0) {
    text += `\nWaiting:\n${renderTable(
      ['BUILD', 'EXECUTION', 'WAITING SINCE', 'LAST ASKED'],
      status.waiting.map((w) => [
        w.build,
        executionName(w.executionArn),
        `${w.since} (${relativeTime(w.since, now)})`,
        relativeTime(w.lastAskedAt, now),
      ]),
    )}`;
  }
  return text;
}

export async function runStatus(
  options: StatusOptions,
  io: CliIO,
  connect: StatusConnect = statusFromEnvironment,
): Promise<number> {
  const table = options.table ?? io.env[FLEET_ENV.table];
  if (!table) {
    io.err(`Error: ${NO_FLEET_TABLE}\n`);
    return 1;
  }
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  const { dynamo } = connect(region);
  try {
    const now = io.now();
    let status = fleetStatus(await readFleet({ dynamo, table }), now);
    const agentTable = options.agentTable ?? io.env[AGENT_TABLE_ENV];
    if (agentTable) {
      const agents = (
        await listAllAgents({ dynamo, table: agentTable, policy: DEFAULT_LEASE_POLICY, now: io.now })
      ).filter((a) => a.status === 'ACTIVE');
      const online = agents.filter((a) => isOnline(a.lastSeenAt, now, DEFAULT_LEASE_POLICY)).length;
      status = { ...status, agents: { online, active: agents.length } };
    }
    io.out(options.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status, now));
    return 0;
  } catch (error) {
    return reportError(error, io, region);
  }
}
