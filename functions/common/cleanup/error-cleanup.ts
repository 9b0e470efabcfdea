/**
 * Packer's `error-cleanup-provisioner`: when a build fails after its builder came online, run that provisioner
 * on the instance before anything is removed (e.g. to collect logs). Best-effort and bounded: Cleanup waits
 * for it at most `waitSeconds`, and its outcome is one step of the cleanup report.
 */
import { GetCommandInvocationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { BuildContext } from '../../lib/build-context.ts';
import { type BuildState, isEc2Host } from '../../lib/build-state.ts';
import { oneShotName, removeOneShot } from '../../lib/commands/one-shot.ts';
import type { Presign } from '../../lib/commands/presign-files.ts';
import { renderForSend } from '../../lib/commands/remote-render.ts';
import { sendOnce } from '../../lib/commands/send-command.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';

export interface ErrorCleanupDeps extends BaseDeps {
  readonly ssmFor: (region: string) => SSMClient;
  readonly presign: Presign;
  readonly waitSeconds: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface ErrorCleanupOutcome {
  readonly outcome: 'ran' | 'failed';
  readonly target: string;
  readonly message?: string;
}

const FINISHED = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

export async function runErrorCleanupProvisioner(
  deps: ErrorCleanupDeps,
  ctx: BuildContext,
  state: BuildState,
): Promise<ErrorCleanupOutcome | undefined> {
  const p = ctx.build.errorCleanupProvisioner;
  // Only a builder that came online (provisioning started) can run it.
  if (!p || !isEc2Host(state) || !state.instanceId || !state.provision) return undefined;
  const instanceId = state.instanceId;
  const name = oneShotName(state.index, 'error-cleanup', 0);
  try {
    const { document, commands } = await renderForSend(deps, ctx, state, p, name);
    const ssm = deps.ssmFor(ctx.region);
    const commandId = await sendOnce(ssm, {
      instanceId,
      document,
      commands,
      timeoutSeconds: Math.min(p.timeoutSeconds ?? deps.waitSeconds, deps.waitSeconds),
      comment: `kiln ${state.buildId} b${state.index} error-cleanup`,
      outputBucket: deps.artifactsBucket,
      outputKeyPrefix: `builds/${state.buildId}/logs/${state.index}/error-cleanup`,
    });
    const deadline = Date.now() + deps.waitSeconds * 1000;
    while (Date.now() < deadline) {
      const out = await ssm
        .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
        .catch(() => undefined);
      if (out?.Status && FINISHED.has(out.Status)) {
        return out.Status === 'Success'
          ? { outcome: 'ran', target: commandId }
          : { outcome: 'failed', target: commandId, message: `${out.Status}, exit code ${out.ResponseCode ?? -1}` };
      }
      await deps.sleep(2000);
    }
    return { outcome: 'failed', target: commandId, message: `no result within ${deps.waitSeconds}s` };
  } catch (err) {
    return { outcome: 'failed', target: p.type, message: err instanceof Error ? err.message : String(err) };
  } finally {
    await removeOneShot(deps, state.buildId, name);
  }
}
