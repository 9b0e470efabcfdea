/**
 * The bash scripts an ec2-docker builder host runs for one docker build, step by step, with Packer's docker
 * builder semantics (packer-plugin-docker: StepPull, StepRunContainer, the docker communicator, StepCommit /
 * StepExport, then the post-processors). The pipeline sends each step as one SSM command:
 *
 *   prepare        log in (login / ecr_login, only to pull), pull, log out, `docker run`, build context copied in
 *   provision[i]   one per provisioner: shell through `docker exec`, file through `docker cp`
 *   finish         commit | export | discard, container removed, post-processor chains, Kiln's ECR publish
 *   cleanup        always last (and on every failure path): containers of this build removed, state folder gone
 *
 * Every template value reaches the shell through core/provisioners/render/quote.ts (one literal word each). The
 * container id travels between steps in the build's state folder; the container carries the label
 * `kiln.build-id=<id>` so cleanup finds it even without that file. Registry credentials live in a per-step
 * DOCKER_CONFIG (and podman's REGISTRY_AUTH_FILE) inside the state folder, removed when the step exits however it
 * exits; passwords reach `docker login` on stdin from a shell builtin, never in an argv.
 */

import type { DockerConfig } from '../builders/docker.ts';
import { InputInvalidError, ProvisionerFailedError } from '../errors.ts';
import type { FileConfig } from '../provisioners/file.ts';
import { assertNoNul, flattenEnvVars, heredocDelimiter, shq, wordAt } from '../provisioners/render/quote.ts';
import {
  basename,
  DEFAULT_ENV_FILE_EXECUTE_COMMAND,
  DEFAULT_EXECUTE_COMMAND,
  DEFAULT_INLINE_SHEBANG,
  exitCodes,
  renderExecuteCommand,
  type StagedUrls,
  shellVars,
  staged,
} from '../provisioners/render/shell.ts';
import type { ShellConfig } from '../provisioners/shell.ts';
import { items, known } from '../schema/decoded.ts';
import type { EcrRegistry } from '../schema/docker-names.ts';
import { printable } from '../schema/env-names.ts';
import type { Config } from '../template/model.ts';
import { pinnedReference } from './image-reference.ts';
import {
  type DockerPostPlan,
  type HostStep,
  type ImageRef,
  loginOf,
  type PublishedRepository,
  planDockerPostProcessors,
  type RegistryLogin,
} from './postprocess.ts';

export const DEFAULT_RUN_COMMAND = ['-d', '-i', '-t', '--entrypoint=/bin/sh', '--', '{{.Image}}'] as const;
export const DEFAULT_CONTAINER_DIR = '/packer-files';
export const DEFAULT_STATE_ROOT = '/var/lib/kiln/docker';
/** The label every container of a build carries (value: the build id). */
export const BUILD_LABEL = 'kiln.build-id';

const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface DockerHostContext {
  /** Kiln's build id: state folder, container label, and the tag every published image also gets. */
  readonly buildId: string;
  /** Packer's build name (`PACKER_BUILD_NAME` in shell provisioners). */
  readonly buildName: string;
  /** Account and region a bare repository name resolves to. */
  readonly registry: EcrRegistry;
  /** Folder on the host under which the build's state folder lives. */
  readonly stateRoot?: string;
  /** Presigned GET of the build context (tar.gz of core/docker/context.ts's files); absent: no build context. */
  readonly buildContextUrl?: string;
  /** ECR password the pipeline fetched (GetAuthorizationToken); absent: the host's `aws ecr get-login-password`. */
  readonly ecrPassword?: string;
  /**
   * The builder's `image` with the digest PrepareBuild resolved for it (the stored plan's `baseImages`, read through
   * functions/lib/plan-store.ts `baseImageOf`): prepare pulls and runs that digest, so the build runs the image its
   * lineage records. Ignored when it names another reference, has no digest, or the builder does not pull.
   */
  readonly baseImage?: { readonly reference: string; readonly digest?: string };
}

export interface PlannedDockerBuild {
  readonly config: DockerConfig;
  readonly postProcessors: readonly (readonly {
    readonly type: string;
    readonly config: Config;
    readonly keepInputArtifact?: boolean;
  }[])[];
}

export type DockerMode = 'commit' | 'export' | 'discard';

/** commit, export_path or discard (the validator made sure exactly one is set). */
export function dockerMode(config: DockerConfig): DockerMode {
  if ((config.export_path || undefined) !== undefined) return 'export';
  if (known(config.commit)) return 'commit';
  return 'discard';
}

/** One literal shell word: plain values bare, anything else single-quoted. */
const w = (value: string, what = 'A value') => wordAt(value, 'bare', what);

function stateDir(ctx: Pick<DockerHostContext, 'buildId' | 'stateRoot'>): string {
  if (!BUILD_ID.test(ctx.buildId)) throw new InputInvalidError(`"${printable(ctx.buildId)}" is not a build id`);
  return `${(ctx.stateRoot ?? DEFAULT_STATE_ROOT).replace(/\/+$/, '')}/${ctx.buildId}`;
}

const REMOVE_CONTAINERS = (buildId: string) => [
  'kiln_remove_containers() {',
  '  local id',
  `  for id in $(docker ps -aq --filter ${w(`label=${BUILD_LABEL}=${buildId}`)} 2>/dev/null || true); do`,
  '    docker rm -f -- "$id" >/dev/null 2>&1 || true',
  '  done',
  '}',
];

/**
 * Every step: strict mode, the state folder, a step-local registry configuration removed on exit, and (where
 * the step owns the container's life) the build's containers removed when the step fails.
 */
function header(
  ctx: Pick<DockerHostContext, 'buildId' | 'stateRoot'>,
  step: string,
  removeOnFailure: boolean,
): string[] {
  return [
    '#!/bin/bash',
    `# Kiln docker build ${ctx.buildId}: ${step}`,
    'set -euo pipefail',
    `kiln_state=${w(stateDir(ctx))}`,
    'export DOCKER_CONFIG="$kiln_state/docker-config"',
    'export REGISTRY_AUTH_FILE="$DOCKER_CONFIG/config.json"',
    ...REMOVE_CONTAINERS(ctx.buildId),
    'kiln_on_exit() {',
    '  local rc=$?',
    '  rm -rf -- "$DOCKER_CONFIG"',
    ...(removeOnFailure ? ['  if [ "$rc" -ne 0 ]; then kiln_remove_containers; fi'] : []),
    '  exit "$rc"',
    '}',
    'trap kiln_on_exit EXIT',
    'mkdir -p -- "$kiln_state" "$DOCKER_CONFIG"',
    'chmod 0700 -- "$kiln_state" "$DOCKER_CONFIG"',
    'kiln_fetch() {',
    '  mkdir -p -- "$(dirname -- "$2")"',
    '  curl --fail --silent --show-error --location --retry 5 --retry-connrefused -o "$2" "$1"',
    '}',
  ];
}

const READ_CONTAINER = ['kiln_cid=$(cat -- "$kiln_state/container-id")'];

function loginLines(login: RegistryLogin, ctx: DockerHostContext): string[] {
  const server = login.server === '' ? '' : ` -- ${w(login.server, 'login_server')}`;
  if (login.ecr) {
    const source = ctx.ecrPassword
      ? `printf '%s' ${shq(ctx.ecrPassword)}`
      : `aws ecr get-login-password --region ${w(login.ecr.region)}`;
    return [`${source} | docker login --username AWS --password-stdin${server}`];
  }
  const user = login.username !== undefined ? ` --username ${w(login.username, 'login_username')}` : '';
  if (login.password === undefined) return [`docker login${user}${server} </dev/null`];
  // printf is a bash builtin: the password is never an argument of any process.
  return [`printf '%s' ${shq(login.password)} | docker login${user} --password-stdin${server}`];
}

function logoutLine(server: string): string {
  return server === '' ? 'docker logout' : `docker logout -- ${w(server, 'login_server')}`;
}

const IMAGE_TOKEN = /\{\{\s*\.Image\s*\}\}/g;

/** run_command items with `{{.Image}}` rendered (the only field Packer's template data has there). */
export function renderRunCommand(runCommand: readonly string[], image: string): string[] {
  return runCommand.map((item) => {
    const rendered = item.replace(IMAGE_TOKEN, () => image);
    const other = /\{\{\s*\.?([A-Za-z_]\w*)?[^}]*\}\}/.exec(item.replace(IMAGE_TOKEN, ''));
    if (other) {
      throw new ProvisionerFailedError(
        `run_command: "${printable(other[0])}" is not available here; only {{.Image}} is (Packer's template data for run_command)`,
      );
    }
    return rendered;
  });
}

/**
 * Arguments of `docker run` in the plugin's order, Kiln's label first. `image` is what `{{.Image}}` renders to:
 * the builder's `image`, or the digest reference prepare pulled for it (renderPrepare).
 */
export function runArguments(
  config: DockerConfig,
  buildId: string,
  image: string | undefined = config.image || undefined,
): { words: string[]; containerDir: string } {
  if (!image) throw new ProvisionerFailedError('docker: image must be specified');
  const words = ['run', '--label', w(`${BUILD_LABEL}=${buildId}`)];
  for (const v of items(config.device)) words.push('--device', w(v, 'device'));
  for (const v of items(config.cap_add)) words.push('--cap-add', w(v, 'cap_add'));
  for (const v of items(config.cap_drop)) words.push('--cap-drop', w(v, 'cap_drop'));
  if (known(config.privileged)) words.push('--privileged');
  const runtime = config.runtime || undefined;
  if (runtime) words.push('--runtime', w(runtime, 'runtime'));
  const platform = config.platform || undefined;
  if (platform) words.push('--platform', w(platform, 'platform'));
  for (const v of items(config.tmpfs)) words.push('--tmpfs', w(v, 'tmpfs'));
  const volumes = known(config.volumes) ?? {};
  // Packer ranges over a Go map (random order); Kiln sorts by host path so the script is stable.
  for (const host of Object.keys(volumes).sort()) {
    words.push('-v', w(`${host}:${String(volumes[host])}`, 'volumes'));
  }
  const containerDir = (config.container_dir || undefined) ?? DEFAULT_CONTAINER_DIR;
  words.push('-v', `"$kiln_state/files":${w(containerDir, 'container_dir')}`);
  const runCommand = config.run_command === undefined ? [...DEFAULT_RUN_COMMAND] : items(config.run_command);
  for (const v of renderRunCommand(runCommand, image)) words.push(w(v, 'run_command'));
  return { words, containerDir };
}

/** The digest reference to pull and run for `image`, when the context has a resolved digest for that reference. */
function pinnedImage(
  image: string,
  base: DockerHostContext['baseImage'],
): { reference: string; digest: string } | undefined {
  if (!base?.digest || base.reference !== image) return undefined;
  const reference = pinnedReference(image, base.digest);
  return reference ? { reference, digest: base.digest } : undefined;
}

/**
 * prepare: pull (with the builder's login around it), run the container, copy the build context in. With a
 * resolved base image digest (`ctx.baseImage`) and `pull` on, the pull and the run use `<name>@<digest>`.
 */
export function renderPrepare(config: DockerConfig, ctx: DockerHostContext): string {
  if (known(config.windows_container)) {
    throw new ProvisionerFailedError("windows_container: Kiln's docker builder hosts run Linux containers only");
  }
  if (known(config.build) || (Array.isArray(config.build) && config.build.length > 0)) {
    throw new ProvisionerFailedError('docker: building from a Dockerfile (build { }) is not supported yet; use image');
  }
  const lines = header(ctx, 'prepare', true);
  const image = config.image || undefined;
  if (!image) throw new ProvisionerFailedError('docker: image must be specified');
  lines.push('rm -rf -- "$kiln_state/files"', 'mkdir -p -- "$kiln_state/files"');
  const pull = known(config.pull) ?? true;
  // The digest Kiln recorded for the tag is the image that runs: pulled by digest, so a tag moved since is not used.
  const pinned = pull ? pinnedImage(image, ctx.baseImage) : undefined;
  const used = pinned?.reference ?? image;
  if (pull) {
    const login = loginOf(config);
    if (login) lines.push(...loginLines(login, ctx));
    if (pinned && pinned.reference !== image) {
      lines.push(`echo ${shq(`pulling ${printable(image)} pinned to ${pinned.digest}`)}`);
    }
    const platform = config.platform || undefined;
    lines.push(`docker pull${platform ? ` --platform ${w(platform, 'platform')}` : ''} -- ${w(used, 'image')}`);
    if (login) lines.push(logoutLine(login.server));
  }
  const { words } = runArguments(config, ctx.buildId, used);
  lines.push(
    `kiln_cid=$(docker ${words.join(' ')} </dev/null)`,
    'case "$kiln_cid" in',
    `  ''|*[!0-9a-f]*) echo 'docker run did not print a container id (run_command must keep -d)' >&2; exit 1 ;;`,
    'esac',
    `printf '%s\\n' "$kiln_cid" > "$kiln_state/container-id"`,
  );
  if (ctx.buildContextUrl) {
    lines.push(
      `kiln_fetch ${shq(ctx.buildContextUrl)} "$kiln_state/context.tar.gz"`,
      'rm -rf -- "$kiln_state/context"',
      'mkdir -p -- "$kiln_state/context"',
      'tar -xzf "$kiln_state/context.tar.gz" -C "$kiln_state/context" --no-same-owner',
      `kiln_workdir=$(docker inspect --format '{{.Config.WorkingDir}}' -- "$kiln_cid")`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a JS placeholder
      'docker cp -- "$kiln_state/context/." "$kiln_cid:${kiln_workdir:-/}"',
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface DockerProvisionerInput {
  readonly index: number;
  readonly type: string;
  readonly config: Config;
}

/** A provisioner step needs no registry: it runs inside the container the prepare step started. */
export interface ProvisionContext
  extends Omit<DockerHostContext, 'registry' | 'ecrPassword' | 'buildContextUrl' | 'baseImage'> {
  /** Staged files by template path (presigned GETs), as for the AMI path. */
  readonly files: ReadonlyMap<string, StagedUrls>;
  /** file provisioner `direction = "download"`: presigned PUT for the file (or a directory's tar.gz). */
  readonly uploadUrl?: string;
}

/**
 * `docker exec` as the docker communicator runs a command: `exec -i [-u exec_user] <id> <entrypoint> "(<cmd>)"`
 * (entrypoint default `/bin/sh -c`). With `fix_upload_owner` (default true) every upload is then given to the
 * container's configured user (root when none), as the communicator does after each copy; Kiln passes owner
 * and path to `sh -c` as arguments instead of splicing them into the command text.
 */
function execFunctions(builder: DockerConfig): string[] {
  const user = builder.exec_user || undefined;
  const configured = items(builder.entrypoint);
  const entry = (configured.length > 0 ? configured : ['/bin/sh', '-c']).map((v) => w(v, 'entrypoint'));
  const fixOwner = known(builder.fix_upload_owner) ?? true;
  return [
    'kiln_exec() {',
    `  docker exec -i${user ? ` -u ${w(user, 'exec_user')}` : ''} "$kiln_cid" ${entry.join(' ')} "($1)" </dev/null`,
    '}',
    ...(fixOwner
      ? [
          `kiln_owner=$(docker inspect --format '{{.Config.User}}' -- "$kiln_cid")`,
          'kiln_fix_owner() {',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a JS placeholder
          '  docker exec --user root "$kiln_cid" /bin/sh -c \'chown -R "$1" "$2"\' sh "${kiln_owner:-root}" "$1" </dev/null',
          '}',
        ]
      : ['kiln_fix_owner() { :; }']),
  ];
}

/** `docker cp` into the container, then the owner fix on the destination. */
const cp = (host: string, container: string) => [
  `docker cp -- ${host} "$kiln_cid":${w(container, 'The container path')}`,
  `kiln_fix_owner ${w(container, 'The container path')}`,
];

function renderShellInContainer(p: DockerProvisionerInput, lines: string[], ctx: ProvisionContext): void {
  const config: ShellConfig = p.config;
  const codes = exitCodes(config);
  const folder = assertNoNul((config.remote_folder || undefined) ?? '/tmp', 'remote_folder');
  // The docker builder's PACKER_BUILDER_TYPE, whatever the host's build is called.
  const vars = shellVars(config, { builderType: 'docker', buildName: ctx.buildName });
  const useEnvFile = known(config.use_env_var_file) ?? false;
  const envFile = `${folder}/varfile_${p.index}.sh`;
  const flat = flattenEnvVars(vars, config.env_var_format || undefined);
  const execute =
    (config.execute_command || undefined) ?? (useEnvFile ? DEFAULT_ENV_FILE_EXECUTE_COMMAND : DEFAULT_EXECUTE_COMMAND);
  const cleanup = !(known(config.skip_clean) ?? false);
  if (useEnvFile) {
    const body = vars.map(([k, v]) => `export ${k}=${shq(v)}`).join('\n');
    const delimiter = heredocDelimiter(body);
    lines.push(
      `cat > "$kiln_dir/varfile.sh" <<'${delimiter}'`,
      body,
      delimiter,
      ...cp('"$kiln_dir/varfile.sh"', envFile),
    );
  }
  const remotePath = config.remote_path || undefined;
  const remoteFile = config.remote_file || undefined;
  const remoteFor = (n: number) =>
    n === 0 && remotePath
      ? remotePath
      : n === 0 && remoteFile
        ? `${folder}/${remoteFile}`
        : `${folder}/script_${p.index}_${n}.sh`;
  const run = (host: string, remote: string, what: string) => {
    assertNoNul(remote, 'remote_path');
    lines.push(...cp(host, remote));
    lines.push(`kiln_exec ${shq(`chmod 0755 ${w(remote)}`)}`);
    const command = renderExecuteCommand(execute, { vars: useEnvFile ? '' : flat, path: remote, envVarFile: envFile });
    lines.push(
      'kiln_rc=0',
      `kiln_exec ${shq(command)} || kiln_rc=$?`,
      'case "$kiln_rc" in',
      `  ${codes.map(String).join('|')}) ;;`,
      `  *) echo ${shq(`${what} exited with non-zero exit status:`)} "$kiln_rc" >&2; exit "$kiln_rc" ;;`,
      'esac',
    );
    if (cleanup) lines.push(`kiln_exec ${shq(`rm -f ${w(remote)}`)}`);
  };
  const inline = items(config.inline);
  if (inline.length > 0) {
    const shebang = (config.inline_shebang || undefined) ?? DEFAULT_INLINE_SHEBANG;
    if (/[\0\r\n]/.test(shebang)) {
      throw new ProvisionerFailedError(`inline_shebang "${printable(shebang)}" must be one line without NUL bytes`);
    }
    const body = [`#!${shebang}`, ...inline].join('\n');
    const delimiter = heredocDelimiter(body);
    lines.push(`cat > "$kiln_dir/script_0.sh" <<'${delimiter}'`, body, delimiter);
    run('"$kiln_dir/script_0.sh"', remoteFor(0), 'Inline script');
  } else {
    const scripts = [
      ...(config.script || undefined ? [(config.script || undefined) as string] : []),
      ...items(config.scripts),
    ];
    if (scripts.length === 0)
      throw new ProvisionerFailedError('The shell provisioner has no inline, script or scripts');
    // Fetch everything first: presigned URLs expire, later scripts may run long after the step starts.
    scripts.forEach((s, n) => {
      const url = staged(ctx, s).entries[0]?.url;
      if (!url) throw new ProvisionerFailedError(`The script "${s}" was not staged for this build`);
      lines.push(`kiln_fetch ${shq(url)} "$kiln_dir/script_${n}.sh"`);
    });
    for (const [n, s] of scripts.entries()) run(`"$kiln_dir/script_${n}.sh"`, remoteFor(n), `Script ${basename(s)}`);
  }
  if (useEnvFile && cleanup) lines.push(`kiln_exec ${shq(`rm -f ${w(envFile)}`)}`);
}

function renderFileInContainer(p: DockerProvisionerInput, lines: string[], ctx: ProvisionContext): void {
  const config: FileConfig = p.config;
  const destination = config.destination || undefined;
  const sources = [
    ...(config.source || undefined ? [(config.source || undefined) as string] : []),
    ...items(config.sources),
  ];
  const content = typeof config.content === 'string' ? config.content : undefined;
  if (!destination || (sources.length === 0 && content === undefined)) {
    throw new ProvisionerFailedError('The file provisioner needs source (or sources, or content) and destination');
  }
  assertNoNul(destination, 'destination');
  if ((config.direction || undefined) === 'download') {
    if (!ctx.uploadUrl) throw new ProvisionerFailedError('No upload URL for the file download');
    const source = sources[0] as string;
    lines.push(
      `docker cp -- "$kiln_cid":${w(source, 'The file source')} "$kiln_dir/download"`,
      'if [ -d "$kiln_dir/download" ]; then',
      '  tar -C "$kiln_dir/download" -czf "$kiln_dir/download.tgz" .',
      `  curl --fail --silent --show-error -X PUT --upload-file "$kiln_dir/download.tgz" ${shq(ctx.uploadUrl)}`,
      'else',
      `  curl --fail --silent --show-error -X PUT --upload-file "$kiln_dir/download" ${shq(ctx.uploadUrl)}`,
      'fi',
    );
    return;
  }
  if (content !== undefined) {
    // printf (a builtin) keeps the content byte for byte; a heredoc would add a newline.
    lines.push(`printf '%s' ${shq(content)} > "$kiln_dir/content"`, ...cp('"$kiln_dir/content"', destination));
    return;
  }
  sources.forEach((source, k) => {
    const item = staged(ctx, source);
    if (item.directory) {
      // As the communicator's UploadDir: "dir/" copies the contents (`docker cp dir/.`), "dir" the folder itself.
      const base = `"$kiln_dir/src${k}"/${w(basename(source), 'The file source')}`;
      for (const entry of item.entries) lines.push(`kiln_fetch ${shq(entry.url)} ${base}/${w(entry.subPath)}`);
      lines.push(`mkdir -p -- ${base}`, ...cp(source.endsWith('/') ? `${base}/.` : base, destination));
    } else {
      const url = item.entries[0]?.url;
      if (!url) throw new ProvisionerFailedError(`The file "${source}" was not staged for this build`);
      const target =
        destination.endsWith('/') || sources.length > 1
          ? `${destination.replace(/\/+$/, '')}/${basename(source)}`
          : destination;
      lines.push(`kiln_fetch ${shq(url)} "$kiln_dir/src${k}/file"`, ...cp(`"$kiln_dir/src${k}/file"`, target));
    }
  });
}

/** provision[i]: one provisioner inside the running container. A failure leaves the container for error-cleanup. */
export function renderProvisioner(builder: DockerConfig, p: DockerProvisionerInput, ctx: ProvisionContext): string {
  const lines = header(ctx, `provisioner ${p.index} (${p.type === 'file' ? 'file' : 'shell'})`, false);
  if (p.type !== 'shell' && p.type !== 'file') {
    throw new ProvisionerFailedError(
      `The ${p.type} provisioner cannot run in a docker container on Kiln's builder host (shell and file can; shell-local runs in Kiln)`,
    );
  }
  lines.push(
    ...READ_CONTAINER,
    ...execFunctions(builder),
    `kiln_dir="$kiln_state/p${p.index}"`,
    'rm -rf -- "$kiln_dir"',
    'mkdir -p -- "$kiln_dir"',
  );
  if (p.type === 'shell') renderShellInContainer(p, lines, ctx);
  else renderFileInContainer(p, lines, ctx);
  lines.push('rm -rf -- "$kiln_dir"');
  return `${lines.join('\n')}\n`;
}

/** Host paths of the files a build writes (export_path, docker-save path), by the path as written. */
export interface FinishContext extends DockerHostContext {
  /** Presigned PUTs for files the build produces, by the path as written (export_path, docker-save path). */
  readonly uploads?: ReadonlyMap<string, string>;
  /** Kiln's ECR publish rule (default on). */
  readonly publish?: boolean;
}

function refWord(ref: ImageRef): string {
  return ref.kind === 'committed' ? '"$kiln_image"' : w(ref.name, 'The image name');
}

function stepLines(step: HostStep, ctx: DockerHostContext, hostFile: (written: string) => string): string[] {
  switch (step.kind) {
    case 'tag':
      return [`docker tag -- ${refWord(step.source)} ${w(step.target, 'The image name')}`];
    case 'push':
      return [`docker push -- ${w(step.name, 'The image name')}`];
    case 'login':
      return loginLines(step.login, ctx);
    case 'logout':
      return [logoutLine(step.server)];
    case 'import':
      return [
        `docker import${step.changes.map((c) => ` --change ${w(c, 'changes')}`).join('')}${
          step.platform ? ` --platform ${w(step.platform, 'platform')}` : ''
        } -- - ${w(step.target, 'The image name')} < ${hostFile(step.file)}`,
      ];
    case 'save':
      return [`docker save -- ${refWord(step.source)} > ${hostFile(step.path)}`];
  }
}

/** What the post-processor plan of a build depends on: the build id (its tag), the registry, the publish rule. */
export type PostPlanContext = Pick<FinishContext, 'buildId' | 'registry' | 'publish'>;

/** The post-processor plan the finish step runs (renderFinish renders exactly this plan). */
export function dockerPostPlan(build: PlannedDockerBuild, ctx: PostPlanContext): DockerPostPlan {
  const exportPath = build.config.export_path || undefined;
  return planDockerPostProcessors({
    mode: dockerMode(build.config),
    ...(exportPath ? { exportPath } : {}),
    chains: build.postProcessors,
    buildTag: ctx.buildId,
    registry: ctx.registry,
    ...(ctx.publish !== undefined ? { publish: ctx.publish } : {}),
  });
}

/**
 * The repositories the finish step pushes, with their tags (the build id tag last): what the pipeline ensures
 * before the push and reads back after it. The same plan as renderFinish's, so the two cannot disagree.
 */
export function publishedOf(build: PlannedDockerBuild, ctx: PostPlanContext): readonly PublishedRepository[] {
  return dockerPostPlan(build, ctx).published;
}

/** finish: the build's result (commit / export / discard), the container removed, then the post-processors. */
export function renderFinish(build: PlannedDockerBuild, ctx: FinishContext): { script: string; plan: DockerPostPlan } {
  const config = build.config;
  const mode = dockerMode(config);
  const exportPath = config.export_path || undefined;
  const plan = dockerPostPlan(build, ctx);
  const lines = header(ctx, 'finish', true);
  lines.push(...READ_CONTAINER, 'mkdir -p -- "$kiln_state/artifacts"');
  // Files the build writes get host names Kiln chooses; the template's path names them in the manifest only.
  const written = [
    ...(exportPath ? [exportPath] : []),
    ...plan.steps.flatMap((s) => (s.kind === 'save' ? [s.path] : [])),
  ];
  const unique = [...new Set(written)];
  const hostFile = (path: string) => `"$kiln_state/artifacts/file-${unique.indexOf(path)}"`;
  if (mode === 'commit') {
    const words = ['commit'];
    const author = config.author || undefined;
    if (author) words.push('--author', w(author, 'author'));
    for (const change of items(config.changes)) words.push('--change', w(change, 'changes'));
    const message = config.message || undefined;
    if (message) words.push('--message', w(message, 'message'));
    lines.push(
      `kiln_image=$(docker ${words.join(' ')} -- "$kiln_cid")`,
      `printf '%s\\n' "$kiln_image" > "$kiln_state/image-id"`,
      `printf 'kiln:image-id %s\\n' "$kiln_image"`,
    );
  } else if (mode === 'export') {
    lines.push(`docker export -- "$kiln_cid" > ${hostFile(exportPath as string)}`);
  }
  // Packer removes the container when the builder's steps end, before any post-processor runs.
  lines.push('docker rm -f -- "$kiln_cid" >/dev/null', 'rm -f -- "$kiln_state/container-id"');
  for (const step of plan.steps) lines.push(...stepLines(step, ctx, hostFile));
  for (const path of unique) {
    const url = ctx.uploads?.get(path);
    if (url) lines.push(`curl --fail --silent --show-error -X PUT --upload-file ${hostFile(path)} ${shq(url)}`);
  }
  return { script: `${lines.join('\n')}\n`, plan };
}

/** cleanup: always safe to run, any number of times; never fails. */
export function renderCleanup(ctx: Pick<DockerHostContext, 'buildId' | 'stateRoot'>): string {
  const lines = [
    '#!/bin/bash',
    `# Kiln docker build ${ctx.buildId}: cleanup`,
    'set -uo pipefail',
    `kiln_state=${w(stateDir(ctx))}`,
    ...REMOVE_CONTAINERS(ctx.buildId),
    'kiln_remove_containers',
    'rm -rf -- "$kiln_state"',
    'exit 0',
  ];
  return `${lines.join('\n')}\n`;
}

export interface DockerHostScripts {
  readonly prepare: string;
  readonly provisioners: readonly string[];
  readonly finish: string;
  readonly cleanup: string;
  readonly plan: DockerPostPlan;
}

/** Every step of a build at once (the CLI's `plan --scripts`, tests); the pipeline renders each at its stage. */
export function renderDockerHost(
  build: PlannedDockerBuild & { readonly provisioners: readonly DockerProvisionerInput[] },
  ctx: FinishContext & Partial<Pick<ProvisionContext, 'files'>>,
): DockerHostScripts {
  const files = ctx.files ?? new Map<string, StagedUrls>();
  const finish = renderFinish(build, ctx);
  return {
    prepare: renderPrepare(build.config, ctx),
    provisioners: build.provisioners.map((p) => renderProvisioner(build.config, p, { ...ctx, files })),
    finish: finish.script,
    cleanup: renderCleanup(ctx),
    plan: finish.plan,
  };
}
