/**
 * `kiln builds cancel <build id | execution ARN>`: stops the build's execution and reaches its agent jobs. The
 * build id (kb-…) is found in the builds table (its record names the execution); an execution ARN is used as
 * given. Every agent job of the build still open is cancelled in the gateway's table first: a queued one ends at
 * once (it can never be leased after), a leased one is marked, and the agent's next heartbeat answers `cancel`.
 * Then StopExecution. An agent heartbeating a stopped execution's job is told to cancel anyway (the gateway sees
 * the task gone), so the table step makes it immediate rather than possible.
 */
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { listOpenJobsOfBuild, requestCancel } from '../aws/agent-gateway-store.ts';
import { homeRegion } from '../aws/clients.ts';
import { DEFAULT_LEASE_POLICY } from '../core/agents/lease.ts';
import { NotFoundError } from '../core/errors.ts';
import { type AgentsConnect, agentsFromEnvironment, agentTable, NO_AGENT_TABLE, reportError } from './agents.ts';
import { resolveBuildTarget } from './build-target.ts';
import type { CliIO } from './io.ts';

/** The build state machine's ARN for the CLI (the stack output BuildStateMachineArn). */
export { STATE_MACHINE_ENV } from './build-target.ts';

export interface CancelBuildOptions {
  readonly stateMachine?: string;
  readonly buildsTable?: string;
  readonly agentTable?: string;
  readonly reason?: string;
  readonly region?: string;
  readonly json: boolean;
}

/** The StopExecution `error` (what the execution's failure says), named as the agent branch names a cancel. */
export const CANCEL_ERROR = 'Kiln.BuildCancelled';

async function executionStatus(sfn: SFNClient, executionArn: string): Promise<string> {
  try {
    return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status ?? 'UNKNOWN';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) {
      throw new NotFoundError(`no execution ${executionArn}: check the ARN (or --state-machine) and --region`);
    }
    throw error;
  }
}

interface JobCancel {
  readonly jobId: string;
  readonly was: string;
  readonly now: string;
  readonly agentId?: string;
}

export async function runBuildsCancel(
  arg: string,
  options: CancelBuildOptions,
  io: CliIO,
  connect: AgentsConnect = agentsFromEnvironment,
): Promise<number> {
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  try {
    const target = await resolveBuildTarget(
      arg.trim(),
      { record: false, execution: true },
      options,
      io,
      region,
      (r) => connect(r).dynamo,
    );
    const clients = connect(target.region);
    // Checked before anything changes: a wrong ARN cancels no job.
    const status = await executionStatus(clients.sfn, target.executionArn);

    const table = agentTable({ ...(options.agentTable ? { table: options.agentTable } : {}) }, io);
    const jobs: JobCancel[] = [];
    if (table) {
      const store = { dynamo: clients.dynamo, table, policy: DEFAULT_LEASE_POLICY, now: io.now };
      for (const seen of await listOpenJobsOfBuild(store, target.buildId)) {
        const after = await requestCancel(store, seen.jobId);
        jobs.push({
          jobId: seen.jobId,
          was: seen.status ?? '?',
          now: after ? (after.status === 'LEASED' && after.cancelRequested ? 'CANCEL REQUESTED' : after.status) : '?',
          ...(seen.agentId ? { agentId: seen.agentId } : {}),
        });
      }
    }
    const stopped = status === 'RUNNING';
    if (stopped) {
      await clients.sfn.send(
        new StopExecutionCommand({
          executionArn: target.executionArn,
          error: CANCEL_ERROR,
          cause: (options.reason ?? 'cancelled with kiln builds cancel').slice(0, 32_000),
        }),
      );
    }
    if (options.json) {
      io.out(
        `${JSON.stringify({ buildId: target.buildId, executionArn: target.executionArn, executionStatus: stopped ? 'ABORTED' : status, stopped, agentJobs: table ? jobs : null }, null, 2)}\n`,
      );
    } else {
      io.out(
        stopped
          ? `Stopped build ${target.buildId}: execution ${target.executionArn} aborted (${CANCEL_ERROR}).\n`
          : `Build ${target.buildId}: execution ${target.executionArn} already ended (${status}); nothing to stop.\n`,
      );
      for (const j of jobs) {
        io.out(
          j.now === 'CANCEL REQUESTED'
            ? `  agent job ${j.jobId} on ${j.agentId ?? '?'}: cancel requested; the agent stops the build at its next heartbeat\n`
            : `  agent job ${j.jobId}: ${j.was} → ${j.now}${j.was === 'QUEUED' ? ' (never leased now)' : ''}\n`,
        );
      }
      if (!table)
        io.err(
          `Note: agent jobs not checked (${NO_AGENT_TABLE}); an agent still learns of the stop at its next heartbeat.\n`,
        );
    }
    return 0;
  } catch (error) {
    return reportError(error, io, region);
  }
}
