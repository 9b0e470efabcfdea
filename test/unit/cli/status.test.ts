/**
 * `kiln status` through the real CLI program with a mocked DynamoDB: the cap, the slots in use with their holders,
 * the builds waiting (a waiter that stopped asking is left out), agents online from the agent table, `--json`,
 * and the error without a table. (On moto: test/integration/fleet-status.test.ts.)
 */
import { DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AgentRecord, agentItem } from '../../../aws/agent-gateway-records.ts';
import { bufferedIO } from '../../../cli/io.ts';
import { commandHandlers, runCli } from '../../../cli/program.ts';

const ddb = mockClient(DynamoDBClient);
const NOW = new Date('2026-12-02T12:00:00.000Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const ARN = 'arn:aws:states:us-east-1:123456789012:execution:kiln-build:';
const S = (value: string) => ({ S: value });
/** An agent item as the gateway writes it at registration (the real builder), then seen `seen` seconds ago. */
const agent = (agentId: string, status: AgentRecord['status'], seen: number) => ({
  ...agentItem({
    agentId,
    name: agentId,
    labels: [],
    capabilities: { builders: ['null'], hypervisors: [], packerVersion: '1.6.6', os: 'linux', arch: 'amd64' },
    secretHash: 'h',
    status,
    registeredAt: ago(86_400),
  }),
  lastSeenAt: S(ago(seen)),
});

async function kiln(argv: string[], env: Record<string, string> = { KILN_FLEET_TABLE: 'fleet' }) {
  const io = bufferedIO({ env: { AWS_REGION: 'us-east-1', ...env }, now: () => NOW });
  const dynamo = new DynamoDBClient({ region: 'us-east-1' });
  const code = await runCli(
    argv,
    io,
    commandHandlers(io, undefined, undefined, () => ({ dynamo, sfn: new SFNClient({ region: 'us-east-1' }) })),
  );
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

beforeEach(() => {
  ddb.reset();
  ddb.on(QueryCommand, { TableName: 'fleet' }).resolves({
    Items: [
      { pk: S('FLEET'), sk: S('COUNTER'), held: { N: '2' }, cap: { N: '2' } },
      {
        pk: S('FLEET'),
        sk: S(`SLOT#${ARN}web-1#amazon-ebs.base`),
        executionArn: S(`${ARN}web-1`),
        build: S('amazon-ebs.base'),
        acquiredAt: S(ago(300)),
      },
      {
        pk: S('FLEET'),
        sk: S(`SLOT#${ARN}api-7#docker.app`),
        executionArn: S(`${ARN}api-7`),
        build: S('docker.app'),
        acquiredAt: S(ago(90)),
        checkedAt: S(ago(10)),
      },
      {
        pk: S('FLEET'),
        sk: S(`WAIT#${ARN}db-2#amazon-ebs.db`),
        executionArn: S(`${ARN}db-2`),
        build: S('amazon-ebs.db'),
        since: S(ago(240)),
        lastSeenAt: S(ago(20)),
        waitSeconds: { N: '45' },
      },
      {
        // Its execution ended while it waited: it stopped asking an hour ago.
        pk: S('FLEET'),
        sk: S(`WAIT#${ARN}old-1#amazon-ebs.old`),
        executionArn: S(`${ARN}old-1`),
        build: S('amazon-ebs.old'),
        since: S(ago(7200)),
        lastSeenAt: S(ago(3600)),
        waitSeconds: { N: '45' },
      },
    ],
  });
});

describe('kiln status', () => {
  it('prints the cap, the holders and the builds waiting for a slot', async () => {
    const { code, stdout, stderr } = await kiln(['status']);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toBe(
      [
        'Fleet: 2 slots in use, cap 2; 1 build waiting for a slot',
        '',
        'In use:',
        'BUILD            EXECUTION  SINCE',
        '---------------  ---------  ---------------------------------',
        'amazon-ebs.base  web-1      2026-12-02T11:55:00.000Z (5m ago)',
        'docker.app       api-7      2026-12-02T11:58:30.000Z (1m ago)',
        '',
        'Waiting:',
        'BUILD          EXECUTION  WAITING SINCE                      LAST ASKED',
        '-------------  ---------  ---------------------------------  ----------',
        'amazon-ebs.db  db-2       2026-12-02T11:56:00.000Z (4m ago)  20s ago',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON for scripts, with full execution ARNs, and agents online from the agent table', async () => {
    ddb.on(ScanCommand, { TableName: 'agents' }).resolves({
      Items: [agent('ag-1', 'ACTIVE', 30), agent('ag-2', 'ACTIVE', 900), agent('ag-3', 'REVOKED', 5)],
    });
    const { code, stdout, stderr } = await kiln(['status', '--json', '--agent-table', 'agents']);
    expect([code, stderr]).toEqual([0, '']);
    expect(JSON.parse(stdout)).toEqual({
      cap: 2,
      inUse: 2,
      holders: [
        { build: 'amazon-ebs.base', executionArn: `${ARN}web-1`, since: ago(300) },
        { build: 'docker.app', executionArn: `${ARN}api-7`, since: ago(90), checkedAt: ago(10) },
      ],
      waiting: [{ build: 'amazon-ebs.db', executionArn: `${ARN}db-2`, since: ago(240), lastAskedAt: ago(20) }],
      agents: { online: 1, active: 2 },
    });
  });

  it('says the cap is not known before any build asked, and what to pass without a table', async () => {
    ddb.on(QueryCommand, { TableName: 'fleet' }).resolves({ Items: [] });
    expect((await kiln(['status'])).stdout).toBe(
      'Fleet: 0 slots in use, cap not known yet (no build has asked for a slot); 0 builds waiting for a slot\n',
    );
    const missing = await kiln(['status'], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "Error: no fleet table: pass --table <name> or set KILN_FLEET_TABLE (the stack's FleetTableName output)\n",
    );
  });
});
