/**
 * What the command at a build's cursor is, for every stage that sends or checks it: on an ec2-ami builder the
 * cursor is the template's provisioner; on a docker builder host it walks the host steps (0 = prepare, 1..n = the
 * provisioners, run inside the container, n+1 = finish). RunProvisioner / RunHostStep send it, CheckCommand polls
 * it with these limits, so a step is labelled, retried and timed the same way at both ends.
 */
import { isDockerBuild, isProvisioner } from '../../core/plan/typed.ts';
import type { PlannedBuild, PlannedProvisioner } from '../../core/plan/types.ts';
import { exitCodes } from '../../core/provisioners/render/shell.ts';
import { known } from '../../core/schema/decoded.ts';
import type { Ec2HostState } from './build-state.ts';

/** prepare (pull, run) and finish (commit, post-processors, push) get an hour each; a provisioner its own timeout. */
export const DOCKER_STEP_TIMEOUT_SECONDS = 3_600;

export type DockerHostStep =
  | { readonly kind: 'prepare' }
  | { readonly kind: 'provisioner'; readonly provisioner: PlannedProvisioner }
  | { readonly kind: 'finish' };

/** The docker host step at cursor `index` of a build with these provisioners. */
export function dockerStepAt(provisioners: readonly PlannedProvisioner[], index: number): DockerHostStep {
  if (index === 0) return { kind: 'prepare' };
  if (index === provisioners.length + 1) return { kind: 'finish' };
  const provisioner = provisioners[index - 1];
  if (!provisioner) throw new Error(`docker host step ${index} does not exist (${provisioners.length} provisioners)`);
  return { kind: 'provisioner', provisioner };
}

export interface CursorCommand {
  /** How the step is named in messages (`Provisioner #0 (shell)`, `docker prepare`). */
  readonly label: string;
  /** Exit codes that count as success (a docker step's script maps the provisioner's own codes itself). */
  readonly validExitCodes: readonly number[];
  readonly expectDisconnect: boolean;
  readonly maxRetries: number;
  /** The command's executionTimeout; absent: SSM's maximum. */
  readonly timeoutSeconds?: number;
}

function provisionerCommand(p: PlannedProvisioner, inContainer: boolean): CursorCommand {
  const own = isProvisioner(p, 'shell') || isProvisioner(p, 'powershell') ? exitCodes(p.config) : [0];
  return {
    label: `Provisioner #${p.index} (${p.name ?? p.type})${inContainer ? ' in the container' : ''}`,
    validExitCodes: inContainer ? [0] : own,
    expectDisconnect: !inContainer && isProvisioner(p, 'shell') && known(p.config.expect_disconnect) === true,
    maxRetries: p.maxRetries,
    ...(p.timeoutSeconds !== undefined ? { timeoutSeconds: p.timeoutSeconds } : {}),
  };
}

/** The command at the state's cursor; throws when the cursor points past the plan. */
export function cursorCommand(build: PlannedBuild, state: Ec2HostState, index: number): CursorCommand {
  if (state.driver === 'ec2-docker') {
    const step = dockerStepAt(build.provisioners, index);
    if (step.kind === 'provisioner') return provisionerCommand(step.provisioner, true);
    const image = isDockerBuild(build) && build.config.image ? ` ${build.config.image}` : '';
    return {
      label:
        step.kind === 'prepare'
          ? `docker prepare (pull${image}, run the container)`
          : 'docker finish (commit, post-processors, push)',
      validExitCodes: [0],
      expectDisconnect: false,
      maxRetries: 0,
      timeoutSeconds: DOCKER_STEP_TIMEOUT_SECONDS,
    };
  }
  const p = build.provisioners[index];
  if (!p) throw new Error(`The plan has no provisioner #${index}`);
  return provisionerCommand(p, false);
}
