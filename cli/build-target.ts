/**
 * A build named on the command line (`kiln builds show|logs|cancel`): a build id (`kb-…`) or an execution ARN, and
 * how to get from one to the other (the builds table's record names the execution; the stack's state machine ARN
 * makes it an ARN). One resolver for every command that takes a build.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getBuildRecord } from '../aws/build-history.ts';
import type { BuildRecord } from '../aws/build-records.ts';
import { STACK_OUTPUTS } from '../aws/stack-outputs.ts';
import { InputInvalidError, NotFoundError } from '../core/errors.ts';
import { buildIdFor } from '../functions/common/prepare-build/prepare-build.ts';
import { KILN_ENV } from '../functions/registry.ts';
import type { CliIO } from './io.ts';

export const STATE_MACHINE_ENV = STACK_OUTPUTS.buildStateMachine.env;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([^:]+):([^:]+)$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const BUILD_ID = /^kb-[0-9a-z]+$/;

export interface BuildTargetOptions {
  readonly buildsTable?: string;
  readonly stateMachine?: string;
}

export interface BuildTarget {
  readonly buildId: string;
  /** Given, or made from the state machine ARN and the record; absent when neither was at hand. */
  readonly executionArn?: string;
  /** The region of a given execution ARN, else the command's region: where to reach the build's services. */
  readonly region: string;
  /** The build record, when it was read. */
  readonly record?: BuildRecord;
}

export interface BuildTargetNeeds {
  /** The build record must exist (show, logs); otherwise it is read only to find the execution. */
  readonly record: boolean;
  /** The execution ARN must be found (cancel). */
  readonly execution: boolean;
}

/** The builds table from --builds-table or the stack output's variable. */
export function buildsTableOf(options: BuildTargetOptions, io: CliIO, purpose = ''): string {
  const table = options.buildsTable ?? io.env[KILN_ENV.buildsTable];
  if (!table) {
    throw new InputInvalidError(
      `no builds table${purpose}: pass --builds-table <name> or set ${KILN_ENV.buildsTable} (the stack's BuildsTableName output)`,
    );
  }
  return table;
}

function stateMachineOf(options: BuildTargetOptions, io: CliIO, required: boolean): string | undefined {
  const machine = options.stateMachine ?? io.env[STATE_MACHINE_ENV];
  if ((machine && !STATE_MACHINE_ARN.test(machine)) || (!machine && required)) {
    throw new InputInvalidError(
      `${machine ? `"${machine}" is not a state machine ARN; ` : ''}pass --state-machine <arn> or set ${STATE_MACHINE_ENV} (the stack's BuildStateMachineArn output), or pass the execution ARN`,
    );
  }
  return machine;
}

/** What resolveBuildTarget guarantees for the needs given: the record, the execution ARN. */
export type ResolvedBuild<N extends BuildTargetNeeds> = BuildTarget &
  (N['record'] extends true ? { readonly record: BuildRecord } : unknown) &
  (N['execution'] extends true ? { readonly executionArn: string } : unknown);

/** The build a command was given, with what it needs of it (or a usage error saying what to pass). */
export async function resolveBuildTarget<const N extends BuildTargetNeeds>(
  arg: string,
  needs: N,
  options: BuildTargetOptions,
  io: CliIO,
  homeRegion: string,
  dynamoFor: (region: string) => DynamoDBClient,
): Promise<ResolvedBuild<N>> {
  // The checks below return only what `needs` asks for, or throw: the type states that.
  return (await resolve(arg, needs, options, io, homeRegion, dynamoFor)) as ResolvedBuild<N>;
}

async function resolve(
  arg: string,
  needs: BuildTargetNeeds,
  options: BuildTargetOptions,
  io: CliIO,
  homeRegion: string,
  dynamoFor: (region: string) => DynamoDBClient,
): Promise<BuildTarget> {
  const arn = EXECUTION_ARN.exec(arg);
  if (!arn && !BUILD_ID.test(arg)) {
    throw new InputInvalidError(
      `"${arg}" is neither a build id (kb-…, from \`kiln builds list\`) nor an execution ARN (arn:aws:states:…:execution:…)`,
    );
  }
  const given = arn ? { executionArn: arg } : undefined;
  const region = arn ? (arn[1] as string) : homeRegion;
  const buildId = arn ? buildIdFor(arn[4] as string) : arg;
  if (given && !needs.record) return { buildId, region, ...given };
  const table = buildsTableOf(options, io, given ? '' : ` to find build ${buildId}'s execution`);
  // Checked before the read: a wrong --state-machine is a usage error whatever the table holds.
  const machine = given ? undefined : stateMachineOf(options, io, needs.execution);
  const record = await getBuildRecord(dynamoFor(region), table, buildId);
  if (!record) {
    throw new NotFoundError(
      `no build ${buildId} in table ${table} (${region}): check the id and --region (\`kiln builds list\` shows the recorded ones; a start whose input was not a build request has no record, its execution's error says why)`,
    );
  }
  if (given) return { buildId, region, ...given, record };
  return {
    buildId,
    region,
    record,
    ...(machine ? { executionArn: `${machine.replace(':stateMachine:', ':execution:')}:${record.executionName}` } : {}),
  };
}
