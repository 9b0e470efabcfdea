/**
 * Packer's `error-cleanup-provisioner`: when a build fails after its builder came online, run that provisioner
 * on the instance before anything is removed (e.g. to collect logs). Best-effort and bounded: Cleanup waits
 * for it at most `waitSeconds`, and its outcome is one step of the cleanup report.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { renderProvisioner } from '../../../core/docker/host.ts';
import { dockerBuild } from '../../../core/plan/typed.ts';
import type { PlannedProvisioner } from '../../../core/plan/types.ts';
import { unsealValue } from '../../../core/template/sensitive.ts';
import { type BuildContext, unsealedProvisioner } from '../../lib/build-context.ts';
import { type BuildState, isEc2Host } from '../../lib/build-state.ts';
import { awaitCommand } from '../../lib/commands/await-command.ts';
import { type Delivery, deliver, oneShotName, removeOneShot } from '../../lib/commands/one-shot.ts';
import { type Presign, presignFiles } from '../../lib/commands/presign-files.ts';
import { renderForSend } from '../../lib/commands/remote-render.ts';
import { type DocumentName, sendOnce } from '../../lib/commands/send-command.ts';
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

/**
 * A docker build's error-cleanup-provisioner runs where its provisioners ran: inside the build's container (which
 * a failed provisioner leaves running for it), rendered as RunHostStep renders a provisioner.
 */
async function renderInContainer(
  deps: ErrorCleanupDeps,
  ctx: BuildContext,
  state: BuildState,
  p: PlannedProvisioner,
  name: string,
): Promise<Delivery & { document: DocumentName }> {
  if (p.type !== 'shell' && p.type !== 'file') {
    throw new Error(`error-cleanup-provisioner: a ${p.type} provisioner cannot run in the docker container`);
  }
  const build = unsealValue(dockerBuild(ctx.build), ctx.table);
  const real = unsealedProvisioner(ctx, p);
  const files = await presignFiles(deps.s3, deps.presign, deps.artifactsBucket, state.buildId, real.files);
  const script = renderProvisioner(
    build.config,
    { index: real.index, type: real.type, config: real.config },
    { buildId: state.buildId, buildName: build.name, files },
  );
  const document = 'AWS-RunShellScript';
  const delivery = await deliver(deps, {
    buildId: state.buildId,
    name,
    document,
    commands: script.replace(/\n$/, '').split('\n'),
    secrets: ctx.secrets,
    // A docker host script is bash (core/docker/host.ts), whatever the host's sh is.
    shell: 'bash',
  });
  return { document, ...delivery };
}

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
    const { document, commands } =
      state.driver === 'ec2-docker'
        ? await renderInContainer(deps, ctx, state, p, name)
        : await renderForSend(deps, ctx, state, p, name);
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
    const end = await awaitCommand(
      ssm,
      { commandId, instanceId },
      { seconds: deps.waitSeconds, pollMs: 2000, sleep: deps.sleep },
    );
    if (!end.finished)
      return { outcome: 'failed', target: commandId, message: `no result within ${deps.waitSeconds}s` };
    return end.status === 'Success'
      ? { outcome: 'ran', target: commandId }
      : { outcome: 'failed', target: commandId, message: `${end.status}, exit code ${end.exitCode}` };
  } catch (err) {
    return { outcome: 'failed', target: p.type, message: err instanceof Error ? err.message : String(err) };
  } finally {
    await removeOneShot(deps, state.buildId, name);
  }
}
