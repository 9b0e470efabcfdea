/**
 * RunHostStep (ec2-docker): sends the docker host step at the build's cursor to the builder host as one SSM
 * command (CheckCommand then polls it): prepare (log in, pull, run the container, copy the build context in), each
 * provisioner inside the container, finish (commit, the post-processor chains, Kiln's publish to ECR). The scripts
 * are core/docker/host.ts's; this stage only fills in what they need from AWS: presigned URLs for the build context
 * and staged files, the ECR password (the finish step's login; never in the command's parameters: a script that
 * reveals it goes through the one-shot channel), and the repositories it publishes to, created before the push.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { KilnTagContext } from '../../../aws/tags.ts';
import {
  type DockerHostContext,
  dockerMode,
  renderFinish,
  renderPrepare,
  renderProvisioner,
} from '../../../core/docker/host.ts';
import type { PublishedRepository } from '../../../core/docker/postprocess.ts';
import { loginOf } from '../../../core/docker/postprocess.ts';
import { ProvisionerFailedError } from '../../../core/errors.ts';
import { dockerBuild, isProvisioner } from '../../../core/plan/typed.ts';
import { known } from '../../../core/schema/decoded.ts';
import type { EcrRegistry } from '../../../core/schema/docker-names.ts';
import { unsealValue } from '../../../core/template/sensitive.ts';
import { type BuildContext, loadBuildContext } from '../../lib/build-context.ts';
import {
  type CreatedResource,
  type Ec2DockerState,
  type PayloadOf,
  record,
  requireDriver,
  requireInstance,
  type StagePayload,
} from '../../lib/build-state.ts';
import { type DeliverDeps, deliver, oneShotName } from '../../lib/commands/one-shot.ts';
import { type Presign, presignFiles, URL_EXPIRY_SECONDS } from '../../lib/commands/presign-files.ts';
import { downloadKey } from '../../lib/commands/remote-render.ts';
import { commandComment, sendOnce } from '../../lib/commands/send-command.ts';
import { cursorCommand, dockerStepAt } from '../../lib/host-command.ts';
import { baseImageOf, buildPrefix } from '../../lib/plan-store.ts';
import { advance } from '../../lib/provision-cursor.ts';
import type { BaseDeps } from '../../lib/stage-deps.ts';

/** ECR as this stage needs it (functions/lib/ecr/ implements it on the ECR API). */
export interface EcrAccess {
  /**
   * Creates the repositories of the build's own registry that do not exist yet, with Kiln's settings (the build's
   * Kiln tags on them when `tagContext` is given); resolves to what it did (functions/lib/ecr/ensure.ts `ecrAccess`).
   */
  readonly ensure: (
    registry: EcrRegistry,
    published: readonly PublishedRepository[],
    tagContext?: KilnTagContext,
  ) => Promise<unknown>;
  /** The password of `docker login --username AWS` to the registry (GetAuthorizationToken). */
  readonly password: (registry: EcrRegistry) => Promise<string>;
}

export interface RunHostStepDeps extends BaseDeps, DeliverDeps {
  readonly ssmFor: (region: string) => SSMClient;
  readonly presign: Presign;
  readonly ecr: EcrAccess;
  /** The account the stack runs in: a bare repository name resolves to its registry in the build's region. */
  readonly accountId: string;
  readonly logGroup?: string;
}

/** Where an export_path / docker-save file lands in the artifacts bucket (the manifest names it). */
export function exportKey(buildId: string, buildIndex: number, path: string): string {
  return downloadKey(buildId, buildIndex, path, 'exports');
}

interface Rendered {
  readonly script: string;
  /** Values this script reveals beyond the template's sensitive ones (the ECR password). */
  readonly secrets: readonly string[];
  /** What the step will create, recorded before it is sent (finish: the build id tag in each own repository). */
  readonly creates?: readonly CreatedResource[];
}

async function renderStep(
  deps: RunHostStepDeps,
  ctx: BuildContext,
  state: Ec2DockerState,
  index: number,
): Promise<Rendered | { readonly skip: string }> {
  // The real values, for rendering only: never stored, logged or thrown.
  const build = unsealValue(dockerBuild(ctx.build), ctx.table);
  const registry: EcrRegistry = { account: deps.accountId, region: ctx.region };
  const host: DockerHostContext = { buildId: state.buildId, buildName: build.name, registry };
  const step = dockerStepAt(build.provisioners, index);

  if (step.kind === 'prepare') {
    const login = loginOf(build.config);
    const ecrPassword =
      login?.ecr && (known(build.config.pull) ?? true) ? await deps.ecr.password(login.ecr) : undefined;
    const contextUrl = build.buildContext
      ? await deps.presign('GET', deps.artifactsBucket, build.buildContext.key, URL_EXPIRY_SECONDS)
      : undefined;
    // The digest PrepareBuild resolved (and Finalize records as the artifact's source) is the one the host pulls.
    const baseImage = baseImageOf(ctx.stored, state.index);
    const script = renderPrepare(build.config, {
      ...host,
      ...(baseImage ? { baseImage } : {}),
      ...(contextUrl ? { buildContextUrl: contextUrl } : {}),
      ...(ecrPassword ? { ecrPassword } : {}),
    });
    return { script, secrets: ecrPassword ? [ecrPassword] : [] };
  }

  if (step.kind === 'provisioner') {
    const p = step.provisioner;
    if (p.type === 'breakpoint')
      return { skip: `provisioner #${p.index} (breakpoint) skipped: it needs an interactive session` };
    if (p.type !== 'shell' && p.type !== 'file') {
      throw new ProvisionerFailedError(
        `Provisioner #${p.index} (${p.type}) cannot run in a docker build on Kiln's builder host: shell and file run ` +
          'inside the container; move other steps into a shell provisioner',
      );
    }
    const files = await presignFiles(deps.s3, deps.presign, deps.artifactsBucket, state.buildId, p.files);
    const download = isProvisioner(p, 'file') && p.config.direction === 'download' && p.config.destination;
    const uploadUrl = download
      ? await deps.presign(
          'PUT',
          deps.artifactsBucket,
          downloadKey(state.buildId, state.index, download),
          URL_EXPIRY_SECONDS,
        )
      : undefined;
    const script = renderProvisioner(
      build.config,
      { index: p.index, type: p.type, config: p.config },
      { ...host, files, ...(uploadUrl ? { uploadUrl } : {}) },
    );
    return { script, secrets: [] };
  }

  // finish: render first (pure) to learn what it publishes, create those repositories, then log in with a password.
  const exportPath = dockerMode(build.config) === 'export' ? build.config.export_path || undefined : undefined;
  const dry = renderFinish(build, host);
  const ownRegistry = dry.plan.published.filter(
    (p) => p.repository.ecr?.account === registry.account && p.repository.ecr.region === registry.region,
  );
  if (ownRegistry.length > 0) await deps.ecr.ensure(registry, ownRegistry, ctx.tagContext);
  // One token serves every ECR registry the role may use (ECR's GetAuthorizationToken), so one login password.
  const ecrLogin = dry.plan.steps.flatMap((s) => (s.kind === 'login' && s.login.ecr ? [s.login.ecr] : []))[0];
  const ecrPassword = ecrLogin ? await deps.ecr.password(ecrLogin) : undefined;
  const written = [
    ...(exportPath ? [exportPath] : []),
    ...dry.plan.steps.flatMap((s) => (s.kind === 'save' ? [s.path] : [])),
  ];
  const uploads = new Map<string, string>();
  for (const path of written) {
    uploads.set(
      path,
      await deps.presign('PUT', deps.artifactsBucket, exportKey(state.buildId, state.index, path), URL_EXPIRY_SECONDS),
    );
  }
  const { script } = renderFinish(build, { ...host, ...(ecrPassword ? { ecrPassword } : {}), uploads });
  // A build that fails after (part of) the push must not leave its build id tag claiming the image.
  const creates: CreatedResource[] = ownRegistry.map((p) => ({
    kind: 'ecr-image',
    region: registry.region,
    registryId: registry.account,
    repository: p.repository.path,
    tag: state.buildId,
  }));
  return { script, secrets: ecrPassword ? [ecrPassword] : [], creates };
}

export async function runHostStep(deps: RunHostStepDeps, payload: StagePayload): Promise<PayloadOf<Ec2DockerState>> {
  const state = requireDriver(payload.state, 'ec2-docker');
  const cursor = state.provision;
  if (!cursor || cursor.index >= cursor.count) return { state, wait: { done: true, waitSeconds: 0 } };
  const ctx = await loadBuildContext(deps, state, { withSecrets: true });
  const command = cursorCommand(ctx.build, state, cursor.index);
  const step = dockerStepAt(ctx.build.provisioners, cursor.index);
  const pause = step.kind === 'provisioner' ? step.provisioner.pauseBeforeSeconds : undefined;
  if (pause && pause > 0 && !cursor.paused) {
    return {
      state: { ...state, provision: { ...cursor, paused: true } },
      wait: { done: false, waitSeconds: Math.ceil(pause) },
    };
  }
  const rendered = await renderStep(deps, ctx, state, cursor.index);
  if ('skip' in rendered) return { state: advance(state, rendered.skip), wait: { done: true, waitSeconds: 0 } };

  const instanceId = requireInstance(state);
  const document = 'AWS-RunShellScript';
  const delivery = await deliver(deps, {
    buildId: state.buildId,
    name: oneShotName(state.index, cursor.index, cursor.attempt),
    document,
    commands: rendered.script.replace(/\n$/, '').split('\n'),
    secrets: [...ctx.secrets, ...rendered.secrets],
    // core/docker/host.ts writes bash (`set -o pipefail`, `local`); sent inline, its `#!/bin/bash` line picks it.
    shell: 'bash',
  });
  const commandId = await sendOnce(deps.ssmFor(ctx.region), {
    instanceId,
    document,
    commands: delivery.commands,
    ...(command.timeoutSeconds !== undefined ? { timeoutSeconds: command.timeoutSeconds } : {}),
    comment: commandComment(state.buildId, state.index, cursor.index, cursor.attempt),
    outputBucket: deps.artifactsBucket,
    outputKeyPrefix: `${buildPrefix(state.buildId)}logs/${state.index}/${cursor.index}-${cursor.attempt}`,
    ...(deps.logGroup ? { logGroup: deps.logGroup } : {}),
  });
  const recorded = (rendered.creates ?? []).reduce<Ec2DockerState>((s, r) => record(s, r), state);
  const sent: Ec2DockerState = { ...recorded, provision: { ...cursor, commandId, sentAt: deps.now().toISOString() } };
  return {
    // From prepare on, the host may hold this build's containers: Cleanup removes them before the host goes.
    state: step.kind === 'prepare' ? record(sent, { kind: 'docker-containers', region: ctx.region, instanceId }) : sent,
    wait: { done: false, waitSeconds: deps.minPollSeconds },
  };
}
