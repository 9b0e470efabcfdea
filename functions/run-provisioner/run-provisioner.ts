/**
 * RunProvisioner: starts provisioner `state.provision.index` of the build. Remote provisioners become one
 * SSM command (the ASL then polls check-command); shell-local and breakpoint finish here. `pause_before`
 * returns a wait first, so the pause costs two state transitions instead of a sleeping Lambda.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ProvisionerFailedError } from '../../core/errors.ts';
import { redactText, unsealValue } from '../../core/plan/sensitive.ts';
import type { PlannedProvisioner } from '../../core/plan/types.ts';
import { renderPowerShell, renderWindowsRestart } from '../../core/provisioners/render/powershell.ts';
import { renderFile, renderShell, type ShellRenderContext } from '../../core/provisioners/render/shell.ts';
import { type BuildContext, loadBuildContext, unsealedProvisioner } from '../lib/build-context.ts';
import { type BuildState, requireInstance, type StagePayload } from '../lib/build-state.ts';
import { str, strList } from '../lib/config.ts';
import { buildPrefix } from '../lib/plan-store.ts';
import type { BaseDeps } from '../lib/stage-deps.ts';
import { findFileRef, readStagedText, stagedKeyFor } from '../lib/staged-files.ts';
import type { ShellLocalRequest, ShellLocalResult } from '../shell-local/run-shell-local.ts';
import { type Delivery, deliver, oneShotName } from './one-shot.ts';
import { commandComment, type DocumentName, sendOnce } from './send-command.ts';
import { type Presign, presignFiles, URL_EXPIRY_SECONDS } from './stage-files.ts';

export interface RunProvisionerDeps extends BaseDeps {
  readonly ssmFor: (region: string) => SSMClient;
  readonly presign: Presign;
  readonly logGroup?: string;
  /**
   * Runs shell-local in the isolated ShellLocal function (a Lambda invoke, so the script and its values never
   * enter the execution history). Absent: shell-local is refused with a message saying how to enable it.
   */
  readonly shellLocal?: (req: ShellLocalRequest) => Promise<ShellLocalResult>;
}

export const SHELL_LOCAL_DISABLED =
  'shell-local runs only in the isolated ShellLocal function (no AWS permissions, so the script cannot borrow the ' +
  "pipeline's credentials), and this RunProvisioner was deployed without it: redeploy the current Kiln stack " +
  '(infra/ creates ShellLocal and sets KILN_SHELL_LOCAL_FUNCTION), or remove the shell-local provisioner';

/** Packer's shell-local failure, with the end of the output (redacted: the caller knows the secrets). */
function shellLocalFailure(
  label: string,
  result: ShellLocalResult,
  secrets: readonly string[],
): ProvisionerFailedError {
  const tail = redactText(result.outputTail, secrets).split('\n').slice(-20).join('\n');
  if (result.error) return new ProvisionerFailedError(`${label}: ${result.error}`);
  if (result.timedOut) {
    return new ProvisionerFailedError(`${label} did not finish within ${result.limitSeconds}s\n${tail}`);
  }
  return new ProvisionerFailedError(
    `${label}: shell-local exited with non-zero exit status: ${result.exitCode}\n${tail}`,
  );
}

export function advance(state: BuildState, note?: string): BuildState {
  const p = state.provision;
  if (!p) return state;
  return {
    ...state,
    provision: { index: p.index + 1, count: p.count, attempt: 0 },
    ...(note ? { notes: [...(state.notes ?? []), note] } : {}),
  };
}

export function downloadKey(buildId: string, buildIndex: number, destination: string): string {
  const base = destination.replace(/\/+$/, '').split('/').pop() || 'download';
  return `${buildPrefix(buildId)}downloads/${buildIndex}/${base}`;
}

/** Renders a provisioner that runs on the instance into an SSM document and its commands. */
export async function renderRemote(
  deps: Pick<RunProvisionerDeps, 's3' | 'presign' | 'artifactsBucket'>,
  ctx: BuildContext,
  state: BuildState,
  p: PlannedProvisioner,
): Promise<{ document: DocumentName; commands: string[] }> {
  const files = await presignFiles(deps.s3, deps.presign, deps.artifactsBucket, state.buildId, p.files);
  const destination = str(p.config, 'destination');
  const download = p.type === 'file' && str(p.config, 'direction') === 'download' && destination;
  const render: ShellRenderContext = {
    buildName: ctx.build.name,
    builderType: ctx.build.builderType,
    index: p.index,
    files,
    ...(download
      ? {
          uploadUrl: await deps.presign(
            'PUT',
            deps.artifactsBucket,
            downloadKey(state.buildId, state.index, destination),
            URL_EXPIRY_SECONDS,
          ),
        }
      : {}),
  };
  switch (p.type) {
    case 'shell':
      return { document: 'AWS-RunShellScript', commands: renderShell(p.config, render).split('\n') };
    case 'file':
      return { document: 'AWS-RunShellScript', commands: renderFile(p.config, render).split('\n') };
    case 'powershell':
      return { document: 'AWS-RunPowerShellScript', commands: renderPowerShell(p.config, render) };
    case 'windows-restart':
      return { document: 'AWS-RunPowerShellScript', commands: renderWindowsRestart(p.config) };
    default:
      throw new ProvisionerFailedError(
        `The provisioner type "${p.type}" is not supported by the ec2-ami driver (supported: shell, file, ` +
          'powershell, windows-restart, shell-local, breakpoint)',
      );
  }
}

/**
 * What SendCommand may carry for a provisioner: its real values are put back (placeholders in the plan) only
 * here, and a script that reveals one goes through the one-shot channel instead of the command parameters.
 */
export async function renderForSend(
  deps: Pick<RunProvisionerDeps, 's3' | 'presign' | 'artifactsBucket' | 'dataKeyId'>,
  ctx: BuildContext,
  state: BuildState,
  p: PlannedProvisioner,
  name: string,
): Promise<Delivery & { document: DocumentName }> {
  const { document, commands } = await renderRemote(deps, ctx, state, unsealedProvisioner(ctx, p));
  const delivery = await deliver(deps, { buildId: state.buildId, name, document, commands, secrets: ctx.secrets });
  return { document, ...delivery };
}

export async function runProvisioner(deps: RunProvisionerDeps, payload: StagePayload): Promise<StagePayload> {
  const { state } = payload;
  const prov = state.provision;
  if (!prov || prov.index >= prov.count) return { state, wait: { done: true, waitSeconds: 0 } };
  const ctx = await loadBuildContext(deps, state, { withSecrets: true });
  const p = ctx.build.provisioners[prov.index];
  if (!p) throw new ProvisionerFailedError(`The plan has no provisioner #${prov.index} for build ${state.name}`);

  const pause = p.pauseBeforeSeconds;
  if (pause && pause > 0 && !prov.paused) {
    return {
      state: { ...state, provision: { ...prov, paused: true } },
      wait: { done: false, waitSeconds: Math.ceil(pause) },
    };
  }
  const label = `provisioner #${prov.index} (${p.name ?? p.type})`;
  if (p.type === 'breakpoint') {
    return {
      state: advance(state, `${label} skipped: a breakpoint needs an interactive session`),
      wait: { done: true, waitSeconds: 0 },
    };
  }
  if (p.type === 'shell-local') {
    const scripts = [
      ...(str(p.config, 'script') ? [str(p.config, 'script') as string] : []),
      ...strList(p.config, 'scripts'),
    ];
    const scriptBodies = await Promise.all(
      scripts.map((s) =>
        readStagedText(
          deps.s3,
          deps.artifactsBucket,
          stagedKeyFor(state.buildId, findFileRef(ctx.stored.plan, s, p.files)),
        ),
      ),
    );
    if (!deps.shellLocal) throw new ProvisionerFailedError(`${label}: ${SHELL_LOCAL_DISABLED}`);
    const real = unsealedProvisioner(ctx, p).config;
    const command = str(real, 'command');
    const shebang = str(real, 'inline_shebang');
    const result = await deps.shellLocal({
      buildName: ctx.build.name,
      builderType: ctx.build.builderType,
      ...(command ? { command } : {}),
      inline: strList(real, 'inline'),
      scriptBodies: scriptBodies.map((b) => unsealValue(b, ctx.table)),
      ...(shebang ? { inlineShebang: shebang } : {}),
      environmentVars: strList(real, 'environment_vars'),
      validExitCodes: real.valid_exit_codes !== undefined ? strList(real, 'valid_exit_codes').map(Number) : [0],
      ...(p.timeoutSeconds !== undefined ? { timeoutSeconds: p.timeoutSeconds } : {}),
    });
    if (!result.ok) throw shellLocalFailure(label, result, ctx.secrets);
    return {
      state: advance(state, `${label} ran in the isolated ShellLocal function`),
      wait: { done: true, waitSeconds: 0 },
    };
  }

  const instanceId = requireInstance(state);
  const { document, commands } = await renderForSend(
    deps,
    ctx,
    state,
    p,
    oneShotName(state.index, prov.index, prov.attempt),
  );
  const commandId = await sendOnce(deps.ssmFor(ctx.region), {
    instanceId,
    document,
    commands,
    ...(p.timeoutSeconds !== undefined ? { timeoutSeconds: p.timeoutSeconds } : {}),
    comment: commandComment(state.buildId, state.index, prov.index, prov.attempt),
    outputBucket: deps.artifactsBucket,
    outputKeyPrefix: `${buildPrefix(state.buildId)}logs/${state.index}/${prov.index}-${prov.attempt}`,
    ...(deps.logGroup ? { logGroup: deps.logGroup } : {}),
  });
  return {
    state: { ...state, provision: { ...prov, commandId, sentAt: deps.now().toISOString() } },
    wait: { done: false, waitSeconds: deps.minPollSeconds },
  };
}
