/** Shared setup of the agent gateway tests on moto: the real store, a recorded Step Functions client, a clock. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type * as z from 'zod/mini';
import type { capabilitiesSchema } from '../../aws/agent-gateway-contract.ts';
import { DEFAULT_LEASE_POLICY, type LeasePolicy } from '../../core/agents/lease.ts';
import type { GatewayDeps, JobLogLine } from '../../functions/agent-gateway/lib/gateway.ts';
import { LOCAL_REGION, localClientConfig } from '../../harness/clients.ts';
import { createAgentTable } from './agent-table.ts';

export const TABLE = 'kiln-agents';

export const capabilities = (
  over: Partial<z.infer<typeof capabilitiesSchema>> = {},
): z.infer<typeof capabilitiesSchema> => ({
  builders: ['null', 'vmware-iso', 'virtualbox-iso'],
  hypervisors: ['vmrun', 'VBoxManage'],
  packerVersion: '1.6.6',
  os: 'linux',
  arch: 'amd64',
  ...over,
});

export interface Harness {
  readonly deps: GatewayDeps;
  readonly sfn: AwsClientStub<SFNClient>;
  readonly logs: { job: string; lines: readonly JobLogLine[] }[];
  /** Moves the store's clock (undefined: real time). */
  setClock(at: Date | undefined): void;
}

export async function gatewayHarness(
  endpoint: string,
  policy: Partial<LeasePolicy> = {},
  options: { pollIntervalMs?: number } = {},
): Promise<Harness> {
  const dynamo = new DynamoDBClient(localClientConfig(endpoint, LOCAL_REGION));
  await createAgentTable(dynamo, TABLE);
  const client = new SFNClient({ region: LOCAL_REGION });
  const sfn = mockClient(client);
  sfn.on(SendTaskHeartbeatCommand).resolves({});
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  let clock: Date | undefined;
  const logs: Harness['logs'] = [];
  const deps: GatewayDeps = {
    store: { dynamo, table: TABLE, policy: { ...DEFAULT_LEASE_POLICY, ...policy }, now: () => clock ?? new Date() },
    sfn: client,
    log: (job, lines) => logs.push({ job: job.jobId, lines }),
    sleep: async (ms) => {
      if (clock) clock = new Date(clock.getTime() + ms);
      else await new Promise((r) => setTimeout(r, ms));
    },
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    presignGet: async (key, expiresIn) => `https://artifacts.example/${key}?expires=${expiresIn}`,
    presignPut: async (key, bytes, expiresIn) =>
      `https://artifacts.example/${key}?put&bytes=${bytes}&expires=${expiresIn}`,
  };
  return {
    deps,
    sfn,
    logs,
    setClock: (at) => {
      clock = at;
    },
  };
}

export const enqueueInput = (n: number | string, over: { builderType?: string; labels?: string[] } = {}) => ({
  taskToken: `task-token-${n}-${'x'.repeat(40)}`,
  buildId: `b-${n}`,
  build: `${over.builderType ?? 'null'}.example`,
  builderType: over.builderType ?? 'null',
  labels: over.labels ?? [],
  payload: {
    version: 1 as const,
    format: 'json' as const,
    templatePath: 'template.json',
    only: `${over.builderType ?? 'null'}.example`,
    bundle: { key: `builds/b-${n}/files/.kiln/agent-template.tar.gz`, sha256: '0'.repeat(64), bytes: 10 },
  },
});
