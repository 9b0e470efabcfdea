/**
 * `kiln plan --scripts DIR`: the exact script text each remote provisioner will send to the builder, rendered
 * by the same functions RunProvisioner uses. Presigned URLs exist only at run time, so they appear as
 * placeholders that say what they stand for.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isProvisioner } from '../core/plan/typed.ts';
import type { BuildPlan, FileRef, PlannedBuild, PlannedProvisioner } from '../core/plan/types.ts';
import { renderPowerShell, renderWindowsRestart } from '../core/provisioners/render/powershell.ts';
import {
  renderFile,
  renderShell,
  type ShellRenderContext,
  type StagedUrls,
} from '../core/provisioners/render/shell.ts';

export const GET_URL_PLACEHOLDER = 'KILN_PRESIGNED_GET_URL';
export const PUT_URL_PLACEHOLDER = 'KILN_PRESIGNED_PUT_URL';

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

/** Every script the ec2-ami builds of a plan send over SSM (agent builds run Packer itself). */
export function planScripts(plan: BuildPlan): PlannedScript[] {
  const out: PlannedScript[] = [];
  for (const build of plan.builds) {
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
