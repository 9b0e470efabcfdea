/**
 * How a provisioner that runs on a builder host becomes an SSM document and its commands: files presigned, values
 * unsealed only here, and a script that reveals a secret sent through the one-shot channel. RunProvisioner and
 * the error-cleanup provisioner (Cleanup) both send through it.
 */
import { ProvisionerFailedError } from '../../../core/errors.ts';
import { isProvisioner } from '../../../core/plan/typed.ts';
import type { PlannedProvisioner } from '../../../core/plan/types.ts';
import { renderPowerShell, renderWindowsRestart } from '../../../core/provisioners/render/powershell.ts';
import { renderFile, renderShell, type ShellRenderContext } from '../../../core/provisioners/render/shell.ts';
import { type BuildContext, unsealedProvisioner } from '../build-context.ts';
import type { BuildState } from '../build-state.ts';
import { buildPrefix } from '../plan-store.ts';
import { type DeliverDeps, type Delivery, deliver } from './one-shot.ts';
import { presignFiles, URL_EXPIRY_SECONDS } from './presign-files.ts';
import type { DocumentName } from './send-command.ts';

/** Where a file a build sends back lands: `downloads/` (file provisioner) or `exports/` (docker export/save). */
export function downloadKey(
  buildId: string,
  buildIndex: number,
  destination: string,
  folder: 'downloads' | 'exports' = 'downloads',
): string {
  const base = destination.replace(/\/+$/, '').split('/').pop() || 'download';
  return `${buildPrefix(buildId)}${folder}/${buildIndex}/${base}`;
}

/** Renders a provisioner that runs on the instance into an SSM document and its commands. */
export async function renderRemote(
  deps: Omit<DeliverDeps, 'dataKeyId'>,
  ctx: BuildContext,
  state: BuildState,
  p: PlannedProvisioner,
): Promise<{ document: DocumentName; commands: string[] }> {
  const files = await presignFiles(deps.s3, deps.presign, deps.artifactsBucket, state.buildId, p.files);
  const download = isProvisioner(p, 'file') && p.config.direction === 'download' && p.config.destination;
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
            downloadKey(state.buildId, state.index, download),
            URL_EXPIRY_SECONDS,
          ),
        }
      : {}),
  };
  if (isProvisioner(p, 'shell')) {
    return { document: 'AWS-RunShellScript', commands: renderShell(p.config, render).split('\n') };
  }
  if (isProvisioner(p, 'file')) {
    return { document: 'AWS-RunShellScript', commands: renderFile(p.config, render).split('\n') };
  }
  if (isProvisioner(p, 'powershell')) {
    return { document: 'AWS-RunPowerShellScript', commands: renderPowerShell(p.config, render) };
  }
  if (isProvisioner(p, 'windows-restart')) {
    return { document: 'AWS-RunPowerShellScript', commands: renderWindowsRestart(p.config) };
  }
  throw new ProvisionerFailedError(
    `The provisioner type "${p.type}" is not supported by the ec2-ami driver (supported: shell, file, ` +
      'powershell, windows-restart, shell-local, breakpoint)',
  );
}

/**
 * What SendCommand may carry for a provisioner: its real values are put back (placeholders in the plan) only
 * here, and a script that reveals one goes through the one-shot channel instead of the command parameters.
 */
export async function renderForSend(
  deps: DeliverDeps,
  ctx: BuildContext,
  state: BuildState,
  p: PlannedProvisioner,
  name: string,
): Promise<Delivery & { document: DocumentName }> {
  const { document, commands } = await renderRemote(deps, ctx, state, unsealedProvisioner(ctx, p));
  const delivery = await deliver(deps, { buildId: state.buildId, name, document, commands, secrets: ctx.secrets });
  return { document, ...delivery };
}
