/**
 * CheckCommand: one poll of the SSM command at the build's cursor (a provisioner; on a docker host, a host step:
 * functions/lib/host-command.ts). Success (or an exit code listed in
 * valid_exit_codes) advances to the next provisioner; a failure with `max_retries` left asks the ASL to send
 * it again; otherwise Kiln.ProvisionerFailed with the exit code and the tail of stderr (secrets redacted).
 */
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ProvisionerFailedError, TimeoutError } from '../../../core/errors.ts';
import { redactText as redact } from '../../../core/template/sensitive.ts';
import { awsCall, awsErrorCode } from '../../lib/aws-errors.ts';
import { loadBuildContext } from '../../lib/build-context.ts';
import {
  type Ec2HostState,
  type PayloadOf,
  requireEc2Host,
  requireInstance,
  type StagePayload,
} from '../../lib/build-state.ts';
import { oneShotName, removeOneShot } from '../../lib/commands/one-shot.ts';
import { MAX_EXECUTION_TIMEOUT_SECONDS } from '../../lib/commands/send-command.ts';
import { type CursorCommand, cursorCommand } from '../../lib/host-command.ts';
import { waitOrTimeout } from '../../lib/polling.ts';
import { advance } from '../../lib/provision-cursor.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { outputForTail, SSM_INLINE_LIMITS } from './full-output.ts';

export interface CheckCommandDeps extends BaseDeps {
  readonly ssmFor: (region: string) => SSMClient;
}

const RUNNING = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);
/** Grace after executionTimeout before Kiln gives up on an answer from SSM. */
const DEADLINE_GRACE_SECONDS = 600;
export const STDERR_TAIL_LINES = 20;

export function tail(text: string, lines = STDERR_TAIL_LINES): string {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

export type Outcome = { kind: 'running' } | { kind: 'success' } | { kind: 'failed'; exitCode: number; status: string };

export function classifyInvocation(
  out: Pick<GetCommandInvocationCommandOutput, 'Status' | 'ResponseCode'>,
  validExitCodes: readonly number[],
  expectDisconnect: boolean,
): Outcome {
  const status = out.Status ?? 'Pending';
  if (RUNNING.has(status)) return { kind: 'running' };
  if (status === 'Success') return { kind: 'success' };
  const exitCode = out.ResponseCode ?? -1;
  if (exitCode !== -1 && validExitCodes.includes(exitCode)) return { kind: 'success' };
  // A reboot drops the agent's session: the command ends without an exit code of its own.
  if (expectDisconnect && exitCode === -1) return { kind: 'success' };
  return { kind: 'failed', exitCode, status };
}

export async function checkCommand(deps: CheckCommandDeps, payload: StagePayload): Promise<PayloadOf<Ec2HostState>> {
  const state = requireEc2Host(payload.state);
  const prov = state.provision;
  if (!prov?.commandId) throw new ProvisionerFailedError(`build ${state.name}: no command to check`);
  const instanceId = requireInstance(state);
  const ctx = await loadBuildContext(deps, state, { withSecrets: true });
  let command: CursorCommand;
  try {
    command = cursorCommand(ctx.build, state, prov.index);
  } catch (err) {
    throw new ProvisionerFailedError(err instanceof Error ? err.message : String(err));
  }
  const commandId = prov.commandId;

  let out: GetCommandInvocationCommandOutput | undefined;
  try {
    out = await deps
      .ssmFor(ctx.region)
      .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
  } catch (err) {
    // Right after SendCommand the invocation may not exist yet (eventual consistency): poll again.
    if (awsErrorCode(err) !== 'InvocationDoesNotExist') {
      await awsCall(
        'reading the command result',
        (m, c) => new ProvisionerFailedError(m, { cause: c }),
        () => Promise.reject(err),
      );
    }
  }
  const outcome: Outcome = out
    ? classifyInvocation(out, command.validExitCodes, command.expectDisconnect)
    : { kind: 'running' };
  const label = command.label;
  // The command ended: its one-shot script (if it carried a secret) must not outlive it, in any version. A docker
  // host step may have carried one the plan does not know of (finish's ECR password from RunHostStep).
  if (outcome.kind !== 'running' && (ctx.secrets.length > 0 || state.driver === 'ec2-docker')) {
    await removeOneShot(deps, state.buildId, oneShotName(state.index, prov.index, prov.attempt));
  }

  if (outcome.kind === 'success') return { state: advance(state), wait: { done: true, waitSeconds: 0 } };
  if (outcome.kind === 'failed') {
    if (prov.attempt < command.maxRetries) {
      return {
        state: {
          ...state,
          provision: { index: prov.index, count: prov.count, attempt: prov.attempt + 1, paused: true },
        },
        wait: { done: false, waitSeconds: 0, retry: true },
      };
    }
    const inlineErr = out?.StandardErrorContent ?? '';
    const stream = inlineErr.trim() ? 'stderr' : 'stdout';
    const source = await outputForTail(
      deps.s3,
      stream === 'stderr' ? inlineErr : (out?.StandardOutputContent ?? ''),
      stream === 'stderr' ? out?.StandardErrorUrl : out?.StandardOutputUrl,
      SSM_INLINE_LIMITS[stream],
    );
    const shown = tail(redact(source.text, ctx.secrets));
    const note = source.from === 'inline-truncated' ? ' (of the first part SSM returned; the output was cut)' : '';
    throw new ProvisionerFailedError(
      `${label} failed on ${instanceId}: ${outcome.status}, exit code ${outcome.exitCode}` +
        (prov.attempt > 0 ? ` after ${prov.attempt + 1} attempts` : '') +
        (shown ? `\n--- last ${STDERR_TAIL_LINES} lines of ${stream}${note} ---\n${shown}` : '') +
        `\nFull output: s3://${deps.artifactsBucket}/builds/${state.buildId}/logs/${state.index}/${prov.index}-${prov.attempt}/`,
    );
  }
  const deadline = (command.timeoutSeconds ?? MAX_EXECUTION_TIMEOUT_SECONDS) + DEADLINE_GRACE_SECONDS;
  const wait = waitOrTimeout({
    since: prov.sentAt,
    now: deps.now(),
    deadlineSeconds: deadline,
    minSeconds: deps.minPollSeconds,
    timeoutError: () =>
      new TimeoutError(`${label} got no result from Systems Manager within ${Math.round(deadline / 60)} minutes`),
  });
  return { state, wait };
}
