/**
 * RecordPrepareFailure (the build state machine's Catch on PrepareBuild, served by the Finalize function): a start
 * whose PrepareBuild failed for good (an invalid template, a missing object, a wrong input) still leaves a FAILED
 * build record with the error, so `kiln builds` lists it and, for a scheduled start, the schedule's run of failures
 * counts it: a schedule whose template became invalid disables itself after the limit instead of failing forever.
 * The execution then fails with PrepareBuild's own error and cause (the ASL's PrepareFailed state).
 */
import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import {
  BUILD_RECORD_KEY,
  type BuildRecord,
  prepareFailedItem,
  prepareFailedUpdate,
} from '../../../aws/build-records.ts';
import { KilnError, TransientError } from '../../../core/errors.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { buildIdFor } from '../../lib/tokens.ts';
import { readBuildStart } from '../prepare-build/input.ts';
import { type ExecutionResult, type FinalizeDeps, scheduleAfter } from './finalize.ts';

export const prepareFailureInputSchema = z.object({
  prepareFailed: z.object({
    /** The execution's input as started ($$.Execution.Input). */
    start: z.unknown(),
    error: z.string(),
    cause: z.optional(z.nullable(z.string())),
  }),
  executionName: z.string().check(z.minLength(1)),
});
export type PrepareFailureInput = z.infer<typeof prepareFailureInputSchema>;

export interface PrepareFailureResult {
  readonly buildId: string;
  /** Whether a record was written (false: the start itself was not one PrepareBuild takes; nothing to record). */
  readonly recorded: boolean;
  readonly reason?: string;
  readonly schedule?: ExecutionResult['schedule'];
}

const transient = (m: string, cause: unknown) => new TransientError(m, { cause });

/**
 * A Lambda task's failure reaches the Catch with the function's error document as its cause
 * (`{"errorType","errorMessage","trace"}`): the record keeps the message people read; any other cause as given.
 */
export function lambdaErrorMessage(cause: string): string {
  try {
    const parsed: unknown = JSON.parse(cause);
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as { errorMessage?: unknown }).errorMessage === 'string'
    ) {
      return (parsed as { errorMessage: string }).errorMessage;
    }
  } catch {
    // Not JSON: a cause written by Step Functions itself (States.Timeout, ...).
  }
  return cause;
}

export async function recordPrepareFailure(
  deps: FinalizeDeps,
  input: PrepareFailureInput,
): Promise<PrepareFailureResult> {
  const buildId = buildIdFor(input.executionName);
  let request: ReturnType<typeof readBuildStart>;
  try {
    request = readBuildStart(input.prepareFailed.start);
  } catch (err) {
    // The start itself was wrong (Kiln.InputInvalid): no template to file a record under.
    if (err instanceof KilnError) return { buildId, recorded: false, reason: err.message };
    throw err;
  }
  const at = deps.now().toISOString();
  const failure = { error: input.prepareFailed.error, cause: lambdaErrorMessage(input.prepareFailed.cause ?? '') };
  const start = {
    buildId,
    executionName: input.executionName,
    template: request.template,
    trigger: request.trigger,
    createdAt: at,
    builds: [],
    ...(request.schedule ? { schedule: request.schedule } : {}),
    ...(request.requestedVia ? { requestedVia: request.requestedVia } : {}),
  };
  const put = () =>
    deps.dynamo
      .send(
        new PutItemCommand({
          TableName: deps.buildsTable,
          Item: prepareFailedItem(start, failure, at),
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': BUILD_RECORD_KEY },
        }),
      )
      .then(
        () => 'put' as const,
        (err: unknown) => {
          // PrepareBuild recorded the build before it failed (or this is a retry): that record is marked instead.
          if (err instanceof ConditionalCheckFailedException) return 'exists' as const;
          throw err;
        },
      );
  if ((await awsCall('recording the failed build', transient, put)) === 'exists') {
    await awsCall('recording the failed build', transient, () =>
      deps.dynamo.send(
        new UpdateItemCommand({ TableName: deps.buildsTable, ...prepareFailedUpdate(buildId, failure, at) }),
      ),
    );
  }
  const record: BuildRecord = { ...start, status: 'FAILED', finishedAt: at, prepareFailure: failure };
  const schedule = await scheduleAfter(deps, record, 'FAILED', at);
  return { buildId, recorded: true, ...(schedule ? { schedule } : {}) };
}
