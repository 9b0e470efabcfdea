/**
 * A real `kiln-agent` for the local stack, set up as an admin and an on-prem operator would: a one-time
 * registration token written to the deployed agent table with the harness's admin credentials (what
 * `kiln agents token create` does), then the agent bundle (dist/kiln-agent.mjs, built by setup) registers over
 * the API front and runs its loop as its own process, with a config and work folder of its own and this
 * machine's packer on its PATH. Used by the agent pipeline test and `npm start`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createRegistrationToken } from '../aws/agent-gateway-store.ts';
import { DEFAULT_LEASE_POLICY } from '../core/agents/lease.ts';
import { localClientConfig } from './clients.ts';
import type { KilnLocal } from './kiln-local.ts';
import { PROJECT_ROOT } from './lambda-sandbox.ts';

export const AGENT_BUNDLE = join(PROJECT_ROOT, 'dist', 'kiln-agent.mjs');

export interface LocalAgent {
  readonly name: string;
  readonly agentId: string;
  /** Everything the agent printed, stdout and stderr interleaved. */
  output(): string;
  readonly process: ChildProcess;
  /** SIGTERM (the agent finishes or releases its job), then removes its folder. */
  stop(): Promise<void>;
}

export interface LocalAgentOptions {
  readonly name: string;
  readonly labels?: readonly string[];
  /** PATH the agent sees (where it looks for packer, vmrun, VBoxManage); default this process's. */
  readonly path?: string;
}

export async function startLocalAgent(kiln: KilnLocal, options: LocalAgentOptions): Promise<LocalAgent> {
  if (!kiln.agentGatewayUrl || !kiln.agentTable) throw new Error('the local stack serves no agent gateway');
  if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} is missing: run the setup (npm run setup)`);
  const store = {
    dynamo: new DynamoDBClient(localClientConfig(kiln.aws.endpoint, kiln.deployment.region)),
    table: kiln.agentTable,
    policy: DEFAULT_LEASE_POLICY,
    now: () => new Date(),
  };
  const { token } = await createRegistrationToken(store, { labels: [...(options.labels ?? [])] });
  const home = mkdtempSync(join(tmpdir(), `kiln-agent-${options.name}-`));
  // Only what an agent host would have: no AWS credentials, no harness variables.
  const env = {
    PATH: options.path ?? process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    KILN_AGENT_CONFIG: join(home, 'config.json'),
  };
  const registered = spawnSync(
    process.execPath,
    [AGENT_BUNDLE, 'register', '--url', kiln.agentGatewayUrl, '--token', token, '--name', options.name],
    { env, encoding: 'utf8' },
  );
  if (registered.status !== 0) {
    rmSync(home, { recursive: true, force: true });
    throw new Error(`kiln-agent register failed (${registered.status}): ${registered.stderr}${registered.stdout}`);
  }
  const agentId = /\b(ag-[A-Za-z0-9_-]+)/.exec(registered.stdout)?.[1] ?? '';
  const child = spawn(process.execPath, [AGENT_BUNDLE, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name: options.name,
    agentId,
    output: () => output,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
