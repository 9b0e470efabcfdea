/**
 * `kiln-agent run`: acquire (long poll) → run the job → complete, until told to stop; `--once` takes one job
 * and exits (an ephemeral agent, as GitHub's `--ephemeral`). Network failures back off exponentially (1 s to
 * 60 s); a refused identity (401/403: revoked, deregistered) ends the loop with AgentRefusedExit.
 */
import { ACQUIRE_MAX_WAIT_SECONDS } from '../aws/agent-gateway-contract.ts';
import { capabilitiesOf, findPacker } from './capabilities.ts';
import type { AgentConfig } from './config.ts';
import { GatewayResponseError, isRetryable } from './errors.ts';
import { GatewayClient } from './gateway-client.ts';
import { runJob } from './job.ts';

export interface RunOptions {
  readonly once: boolean;
  readonly labels?: readonly string[];
  readonly path: string;
  readonly graceMs: number;
  readonly allowLocalExec: boolean;
  readonly uploadArtifacts: boolean;
  readonly stop: AbortSignal;
  readonly log: (line: string) => void;
}

export type RunEnd = { readonly code: 0 } | { readonly code: 3; readonly message: string };

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

const refused = (error: GatewayResponseError): RunEnd => ({
  code: 3,
  message: `the gateway refused this agent (${error.code}): ${error.message}`,
});

export async function runAgent(config: AgentConfig, options: RunOptions): Promise<RunEnd> {
  const client = new GatewayClient(config.url);
  const packer = await findPacker(options.path);
  const { stop, log } = options;
  let backoffMs = 1000;
  let announced = false;
  while (!stop.aborted) {
    // Found again before each poll: a hypervisor installed or removed since start counts at once.
    const capabilities = capabilitiesOf(packer, options.path);
    if (!announced) {
      log(
        `kiln-agent ${config.name} (${config.agentId}): waiting for jobs at ${config.url} (labels [${(options.labels ?? config.labels).join(', ')}]; packer ${packer.version}; hypervisors [${capabilities.hypervisors.join(', ')}])`,
      );
      announced = true;
    }
    let answer: Awaited<ReturnType<GatewayClient['acquire']>>;
    try {
      // Stopping while idle aborts the poll; a job leased in that instant is re-offered after its lease.
      answer = await client.acquire(
        config.credential,
        {
          capabilities,
          waitSeconds: ACQUIRE_MAX_WAIT_SECONDS,
          ...(options.labels ? { labels: [...options.labels] } : {}),
        },
        stop,
      );
      backoffMs = 1000;
    } catch (error) {
      if (stop.aborted) break;
      if (error instanceof GatewayResponseError && error.agentRefused) return refused(error);
      if (!isRetryable(error)) throw error;
      log(`acquire failed, retrying in ${Math.round(backoffMs / 1000)} s: ${(error as Error).message}`);
      await sleep(backoffMs, stop);
      backoffMs = Math.min(backoffMs * 2, 60_000);
      continue;
    }
    if (!answer.job) {
      if (answer.retryAfterSeconds > 0) await sleep(answer.retryAfterSeconds * 1000, stop);
      continue;
    }
    const end = await runJob(
      answer.job,
      {
        client,
        workDir: config.workDir,
        allowLocalExec: options.allowLocalExec,
        uploadArtifacts: options.uploadArtifacts,
        path: options.path,
        packer,
        stop,
        graceMs: options.graceMs,
        log,
      },
      Date.now(),
    );
    // On a job route only AgentRevoked speaks of the agent; the rest is about that one lease.
    if (end.status === 'lost' && end.error.code === 'AgentRevoked') return refused(end.error);
    if (options.once) break;
  }
  log('kiln-agent: stopped');
  return { code: 0 };
}
