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
import { getBuildRecord } from '../aws/build-history.ts';
import { homeRegion } from '../aws/clients.ts';
import { STACK_OUTPUTS } from '../aws/stack-outputs.ts';
import { DEFAULT_LEASE_POLICY } from '../core/agents/lease.ts';
import { InputInvalidError, NotFoundError } from '../core/errors.ts';
import { buildIdFor } from '../functions/common/prepare-build/prepare-build.ts';
import { KILN_ENV } from '../functions/registry.ts';
import { type AgentsConnect, agentsFromEnvironment, agentTable, NO_AGENT_TABLE, reportError } from './agents.ts';
import type { CliIO } from './io.ts';

/** The build state machine's ARN for the CLI (the stack output BuildStateMachineArn). */
export const STATE_MACHINE_ENV = STACK_OUTPUTS.buildStateMachine.env;

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

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([^:]+):([^:]+)$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;

interface Target {
  readonly buildId: string;
  readonly executionArn: string;
  readonly region?: string;
}

/** An execution ARN as given, or a build id's execution through the builds table and the state machine's ARN. */
async function resolveTarget(
  arg: string,
  options: CancelBuildOptions,
  io: CliIO,
  connect: AgentsConnect,
  region: string,
): Promise<Target> {
  const arn = EXECUTION_ARN.exec(arg);
  if (arn) return { buildId: buildIdFor(arn[4] as string), executionArn: arg, region: arn[1] as string };
  if (!/^kb-[0-9a-z]+$/.test(arg)) {
    throw new InputInvalidError(
      `"${arg}" is neither a build id (kb-…, as npm start and the build record show) nor an execution ARN (arn:aws:states:…:execution:…)`,
    );
  }
  const table = options.buildsTable ?? io.env[KILN_ENV.buildsTable];
  if (!table) {
    throw new InputInvalidError(
      `to find build ${arg}'s execution: pass --builds-table <name> or set ${KILN_ENV.buildsTable} (the stack's BuildsTableName output), or pass the execution ARN`,
    );
  }
  const machine = options.stateMachine ?? io.env[STATE_MACHINE_ENV];
  if (!machine || !STATE_MACHINE_ARN.test(machine)) {
    throw new InputInvalidError(
      `${machine ? `"${machine}" is not a state machine ARN; ` : ''}pass --state-machine <arn> or set ${STATE_MACHINE_ENV} (the stack's BuildStateMachineArn output), or pass the execution ARN`,
    );
  }
  const record = await getBuildRecord(connect(region).dynamo, table, arg);
  if (!record) throw new NotFoundError(`no build ${arg} in table ${table} (${region}): check the id and --region`);
  return {
    buildId: arg,
    executionArn: `${machine.replace(':stateMachine:', ':execution:')}:${record.executionName}`,
  };
}

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
    const target = await resolveTarget(arg.trim(), options, io, connect, region);
    const clients = connect(target.region ?? region);
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
