/**
 * RunProvisioner: starts provisioner `state.provision.index` of the build. Remote provisioners become one
 * SSM command (the ASL then polls check-command); shell-local and breakpoint finish here. `pause_before`
 * returns a wait first, so the pause costs two state transitions instead of a sleeping Lambda.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ProvisionerFailedError } from '../../../core/errors.ts';
import { isProvisioner } from '../../../core/plan/typed.ts';
import { items } from '../../../core/schema/decoded.ts';
import { redactText, unsealValue } from '../../../core/template/sensitive.ts';
import { loadBuildContext, unsealedProvisioner } from '../../lib/build-context.ts';
import {
  type Ec2HostState,
  type PayloadOf,
  requireEc2Host,
  requireInstance,
  type StagePayload,
} from '../../lib/build-state.ts';
import { oneShotName } from '../../lib/commands/one-shot.ts';
import type { Presign } from '../../lib/commands/presign-files.ts';
import { renderForSend } from '../../lib/commands/remote-render.ts';
import { commandComment, sendOnce } from '../../lib/commands/send-command.ts';
import { buildPrefix } from '../../lib/plan-store.ts';
import { advance } from '../../lib/provision-cursor.ts';
import type { ShellLocalRequest, ShellLocalResult } from '../../lib/shell-local-contract.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';
import { findFileRef, readStagedText, stagedKeyFor } from '../../lib/staged-files.ts';

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

export async function runProvisioner(
  deps: RunProvisionerDeps,
  payload: StagePayload,
): Promise<PayloadOf<Ec2HostState>> {
  const state = requireEc2Host(payload.state);
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
  if (isProvisioner(p, 'shell-local')) {
    const scripts = [...(p.config.script ? [p.config.script] : []), ...items(p.config.scripts)];
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
    const command = real.command || undefined;
    const shebang = real.inline_shebang || undefined;
    const result = await deps.shellLocal({
      buildName: ctx.build.name,
      builderType: ctx.build.builderType,
      ...(command ? { command } : {}),
      inline: items(real.inline),
      scriptBodies: scriptBodies.map((b) => unsealValue(b, ctx.table)),
      ...(shebang ? { inlineShebang: shebang } : {}),
      environmentVars: items(real.environment_vars),
      validExitCodes: real.valid_exit_codes !== undefined ? items(real.valid_exit_codes).map(Number) : [0],
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
