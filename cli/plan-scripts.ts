/**
 * `kiln plan --scripts DIR`: the exact script text each remote provisioner will send to the builder, rendered
 * by the same functions RunProvisioner uses. Presigned URLs exist only at run time, so they appear as
 * placeholders that say what they stand for.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { BUILD_CONTEXT_PATH } from '../core/docker/context.ts';
import { renderDockerHost } from '../core/docker/host.ts';
import { isProvisioner } from '../core/plan/typed.ts';
import type { BuildPlan, FileRef, PlannedBuild, PlannedOtherBuild, PlannedProvisioner } from '../core/plan/types.ts';
import { renderPowerShell, renderWindowsRestart } from '../core/provisioners/render/powershell.ts';
import {
  renderFile,
  renderShell,
  type ShellRenderContext,
  type StagedUrls,
} from '../core/provisioners/render/shell.ts';

export const GET_URL_PLACEHOLDER = 'KILN_PRESIGNED_GET_URL';
export const PUT_URL_PLACEHOLDER = 'KILN_PRESIGNED_PUT_URL';
/** Docker builds: what exists only once the pipeline runs (the build id, and the account and region it runs in). */
export const BUILD_ID_PLACEHOLDER = 'KILN_BUILD_ID';
export const ACCOUNT_PLACEHOLDER = '000000000000';
export const REGION_PLACEHOLDER = 'zz-placeholder-1';

/** Put after each docker step's `#!` line: the script as rendered, with its placeholders named. */
const DOCKER_PLACEHOLDER_NOTE = [
  '# kiln plan --scripts: placeholders stand for what exists only when the pipeline runs the build:',
  `#   ${BUILD_ID_PLACEHOLDER} = the build id; ${ACCOUNT_PLACEHOLDER} / ${REGION_PLACEHOLDER} = the account and region`,
  `#   it runs in (bare ECR repositories resolve there); ${GET_URL_PLACEHOLDER}(<file>) and`,
  `#   ${PUT_URL_PLACEHOLDER}(<file>) = presigned S3 URLs.`,
];

export interface PlannedScript {
  /** Path under the --scripts directory: `<build>/<index>-<type>.sh|.ps1`. */
  readonly path: string;
  readonly text: string;
}

/** A build name as one safe path segment (names come from the template). */
export function safeSegment(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, () => '_');
  return safe === '' || /^\.+$/.test(safe) ? `_${safe}` : safe;
}

function filesOf(refs: readonly FileRef[]): Map<string, StagedUrls> {
  const map = new Map<string, StagedUrls>();
  for (const ref of refs) {
    const url = (sub: string) => `${GET_URL_PLACEHOLDER}(${ref.relativePath}${sub ? `/${sub}` : ''})`;
    const subPaths = ref.directory ? walk(ref.path) : [''];
    const value: StagedUrls = {
      path: ref.path,
      directory: !!ref.directory,
      entries: subPaths.map((subPath) => ({ subPath, url: url(subPath) })),
    };
    map.set(ref.path, value);
    map.set(ref.relativePath, value);
    map.set(`./${ref.relativePath}`, value);
  }
  return map;
}

/** Files under a directory source, relative and sorted, as the staged S3 listing would return them. */
function walk(root: string): string[] {
  try {
    const names = readdirSync(root, { recursive: true, encoding: 'utf8' });
    return names
      .filter((n) => statSync(join(root, n)).isFile())
      .map((n) => relative(root, join(root, n)))
      .sort();
  } catch {
    return [];
  }
}

function renderOne(build: PlannedBuild, p: PlannedProvisioner): { ext: string; text: string } | undefined {
  const ctx: ShellRenderContext = {
    buildName: build.name,
    builderType: build.builderType,
    index: p.index,
    files: filesOf(p.files),
    ...(isProvisioner(p, 'file') && p.config.direction === 'download'
      ? { uploadUrl: `${PUT_URL_PLACEHOLDER}(downloads/${p.index})` }
      : {}),
  };
  if (isProvisioner(p, 'shell')) return { ext: 'sh', text: renderShell(p.config, ctx) };
  if (isProvisioner(p, 'file')) return { ext: 'sh', text: renderFile(p.config, ctx) };
  if (isProvisioner(p, 'powershell')) return { ext: 'ps1', text: `${renderPowerShell(p.config, ctx).join('\n')}\n` };
  if (isProvisioner(p, 'windows-restart')) {
    return { ext: 'ps1', text: `${renderWindowsRestart(p.config).join('\n')}\n` };
  }
  // shell-local runs inside the pipeline and breakpoint is skipped: nothing is sent to the builder.
  return undefined;
}

function withNote(script: string): string {
  const [shebang, ...rest] = script.split('\n');
  return [shebang, ...DOCKER_PLACEHOLDER_NOTE, ...rest].join('\n');
}

/** Types that never reach the builder host: shell-local runs inside the pipeline, breakpoint is skipped. */
const NOT_ON_HOST = new Set(['shell-local', 'breakpoint']);

/**
 * An ec2-docker build's host steps, as core/docker/host.ts renders them: prepare, one per provisioner (and the
 * error-cleanup provisioner), finish, cleanup; the build context's files listed beside them.
 */
function dockerScripts(build: PlannedOtherBuild, contextFiles: readonly string[]): PlannedScript[] {
  const dir = safeSegment(build.name);
  const onHost = build.provisioners.filter((p) => !NOT_ON_HOST.has(p.type));
  const files = filesOf(onHost.flatMap((p) => p.files));
  const base = {
    buildId: BUILD_ID_PLACEHOLDER,
    buildName: build.name,
    registry: { account: ACCOUNT_PLACEHOLDER, region: REGION_PLACEHOLDER },
    files,
    ...(contextFiles.length > 0 ? { buildContextUrl: `${GET_URL_PLACEHOLDER}(${BUILD_CONTEXT_PATH})` } : {}),
  };
  const input = { config: build.config, postProcessors: build.postProcessors, provisioners: onHost };
  // Files the build writes (export_path, docker-save) are uploaded to presigned PUTs, named by their path.
  const first = renderDockerHost(input, base);
  const exportPath = build.config.export_path;
  const written = [
    ...(typeof exportPath === 'string' && exportPath !== '' ? [exportPath] : []),
    ...first.plan.steps.flatMap((s) => (s.kind === 'save' ? [s.path] : [])),
  ];
  const uploads = new Map(written.map((path) => [path, `${PUT_URL_PLACEHOLDER}(${path})`]));
  const scripts = renderDockerHost(input, { ...base, uploads });
  const out: PlannedScript[] = [{ path: `${dir}/prepare.sh`, text: withNote(scripts.prepare) }];
  onHost.forEach((p, n) => {
    out.push({ path: `${dir}/${p.index}-${safeSegment(p.type)}.sh`, text: withNote(scripts.provisioners[n] ?? '') });
  });
  const ec = build.errorCleanupProvisioner;
  if (ec && !NOT_ON_HOST.has(ec.type)) {
    const text = renderDockerHost({ ...input, provisioners: [ec] }, { ...base, files: filesOf(ec.files) })
      .provisioners[0];
    out.push({ path: `${dir}/error-cleanup-${safeSegment(ec.type)}.sh`, text: withNote(text ?? '') });
  }
  out.push({ path: `${dir}/finish.sh`, text: withNote(scripts.finish) });
  out.push({ path: `${dir}/cleanup.sh`, text: withNote(scripts.cleanup) });
  if (contextFiles.length > 0) {
    out.push({
      path: `${dir}/build-context.txt`,
      text: `# The files PrepareBuild stages as the build context (${BUILD_CONTEXT_PATH}), copied into the container's working directory before the first provisioner:\n${contextFiles.join('\n')}\n`,
    });
  }
  return out;
}

export interface PlanScriptsOptions {
  /** The build context's files (core/docker/context-files.ts) for ec2-docker builds; empty: none. */
  readonly contextFiles?: readonly string[];
}

/**
 * Every script the builds of a plan send over SSM: ec2-ami provisioners, and each ec2-docker build's host steps
 * (agent builds run Packer itself).
 */
export function planScripts(plan: BuildPlan, options: PlanScriptsOptions = {}): PlannedScript[] {
  const out: PlannedScript[] = [];
  for (const build of plan.builds) {
    if (build.driver === 'ec2-docker') out.push(...dockerScripts(build, options.contextFiles ?? []));
    if (build.driver !== 'ec2-ami') continue;
    const dir = safeSegment(build.name);
    for (const p of build.provisioners) {
      const r = renderOne(build, p);
      if (r) out.push({ path: `${dir}/${p.index}-${safeSegment(p.type)}.${r.ext}`, text: r.text });
    }
    const ec = build.errorCleanupProvisioner;
    const r = ec && renderOne(build, ec);
    if (ec && r) out.push({ path: `${dir}/error-cleanup-${safeSegment(ec.type)}.${r.ext}`, text: r.text });
  }
  return out;
}

export function writePlanScripts(dir: string, scripts: readonly PlannedScript[]): string[] {
  return scripts.map((s) => {
    const target = join(dir, s.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, s.text, { mode: 0o644 });
    return target;
  });
}
