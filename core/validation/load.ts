/**
 * loadTemplate: the one entry point every caller uses (CLI, Lambda, agent, tests). Picks the front end by path
 * (`.json` that is not `.pkr.json` → legacy JSON; `.pkr.hcl`, `.pkr.json` or a directory → HCL2), then, unless
 * the caller asked for syntax only or the front end already failed, validates every component and returns all
 * diagnostics together.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileAccess } from '../files/access.ts';
import { type Diagnostic, error, hasErrors } from '../template/diagnostics.ts';
import { loadJsonTemplate } from '../template/json/index.ts';
import { loadWithinBudget, resolveLimits, type TemplateLimits } from '../template/limits.ts';
import type { LoadOptions, LoadResult } from '../template/model.ts';
import { validateTemplate } from './validate.ts';

export type FrontEnd = (path: string, opts: LoadOptions) => Promise<LoadResult>;
export type FrontEndKind = 'json' | 'hcl';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Which front end reads `path` (already resolved against cwd). */
export function frontEndKind(path: string): FrontEndKind {
  if (isDirectory(path)) return 'hcl';
  const lower = path.toLowerCase();
  if (lower.endsWith('.json') && !lower.endsWith('.pkr.json')) return 'json';
  return 'hcl';
}

// The HCL front end (tree-sitter, hcl2json, yaml: most of the engine's code) is loaded on first use, so a JSON
// template, and the PrepareBuild cold start, do not pay for it (bundles put it in a chunk of its own).
const loadHclTemplate: FrontEnd = async (path, opts) =>
  (await import('../template/hcl/index.ts')).loadHclTemplate(path, opts);

const FRONT_ENDS: Record<FrontEndKind, FrontEnd> = { json: loadJsonTemplate, hcl: loadHclTemplate };

export interface LoadTemplateDeps {
  /** Replaces the front end (tests, or a caller with its own parser). */
  readonly frontEnd?: FrontEnd;
}

export async function loadTemplate(
  path: string,
  opts: LoadOptions = {},
  deps: LoadTemplateDeps = {},
): Promise<LoadResult> {
  const limits = resolveLimits(opts.limits);
  const result = await loadWithinBudget(opts.limits, () => loadAndValidate(path, opts, deps));
  return { ...result, diagnostics: capDiagnostics(result.diagnostics, limits) };
}

async function loadAndValidate(path: string, opts: LoadOptions, deps: LoadTemplateDeps): Promise<LoadResult> {
  const full = isAbsolute(path) ? path : resolve(opts.cwd ?? process.cwd(), path);
  const frontEnd = deps.frontEnd ?? FRONT_ENDS[frontEndKind(full)];
  const result = await frontEnd(path, opts);
  if (opts.syntaxOnly || !result.template || hasErrors(result.diagnostics)) return result;
  const files = fileAccess({
    ...(opts.confinement ? { confinement: opts.confinement } : {}),
    ...(opts.readFile ? { readFile: opts.readFile } : {}),
  });
  // A path the confinement refuses is reported once, by the FileConfinement rule, not also as missing; its
  // existence is never looked up.
  const fileExists = (p: string) => !files.check(p).ok || files.kind(p) !== 'missing';
  const diagnostics = validateTemplate(result.template, {
    fileExists,
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.confinement ? { confinement: opts.confinement } : {}),
    ...(opts.deployment ? { deployment: opts.deployment } : {}),
  });
  return { ...result, diagnostics: [...result.diagnostics, ...diagnostics] };
}

const clip = (s: string, max: number) =>
  s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;

/**
 * Keeps the first maxDiagnostics diagnostics and at most maxDiagnosticChars of text, errors before warnings
 * so a flood of warnings cannot hide the error that matters; one last diagnostic says how many were left out.
 */
export function capDiagnostics(all: readonly Diagnostic[], limits: TemplateLimits): Diagnostic[] {
  const perField = Math.max(200, Math.floor(limits.maxDiagnosticChars / 16));
  const sizeOf = (d: Diagnostic) => d.summary.length + (d.detail?.length ?? 0);
  const fits =
    all.length <= limits.maxDiagnostics &&
    all.every((d) => d.summary.length <= perField && (d.detail?.length ?? 0) <= perField) &&
    all.reduce((n, d) => n + sizeOf(d), 0) <= limits.maxDiagnosticChars;
  if (fits) return [...all];
  const ordered = [...all.filter((d) => d.severity === 'error'), ...all.filter((d) => d.severity !== 'error')];
  const kept: Diagnostic[] = [];
  let chars = 0;
  for (const d of ordered) {
    const summary = clip(d.summary, perField);
    const detail = d.detail === undefined ? undefined : clip(d.detail, perField);
    const size = summary.length + (detail?.length ?? 0);
    if (kept.length >= limits.maxDiagnostics || chars + size > limits.maxDiagnosticChars) break;
    chars += size;
    kept.push({ ...d, summary, ...(detail !== undefined ? { detail } : {}) });
  }
  const omitted = all.length - kept.length;
  if (omitted > 0) {
    const which = kept.length >= limits.maxDiagnostics ? 'maxDiagnostics' : 'maxDiagnosticChars';
    kept.push(
      error(
        `${omitted} more diagnostics not shown`,
        `Kiln reports at most ${limits.maxDiagnostics} diagnostics and ${limits.maxDiagnosticChars} characters of diagnostic text per template (${which}). Fix the ones above and validate again.`,
      ),
    );
  }
  return kept;
}
