/**
 * The parse-only entry of the template layer: which front end reads a path (`.json` that is not `.pkr.json` →
 * legacy JSON; `.pkr.hcl`, `.pkr.json` or a directory → HCL2), running it, and the diagnostic budget every load
 * ends with. Component validation is the layer above (core/validation/load.ts, `loadTemplate`).
 */
import { statSync } from 'node:fs';
import { type Diagnostic, error } from '../template/diagnostics.ts';
import type { TemplateLimits } from '../template/limits.ts';
import type { LoadOptions, LoadResult } from '../template/model.ts';
import { loadJsonTemplate } from './json/index.ts';

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
const loadHclTemplate: FrontEnd = async (path, opts) => (await import('./hcl/index.ts')).loadHclTemplate(path, opts);

const FRONT_ENDS: Record<FrontEndKind, FrontEnd> = { json: loadJsonTemplate, hcl: loadHclTemplate };

/** Reads `full` (already resolved against cwd) with `frontEnd`, or the front end its path calls for. */
export function runFrontEnd(path: string, full: string, opts: LoadOptions, frontEnd?: FrontEnd): Promise<LoadResult> {
  return (frontEnd ?? FRONT_ENDS[frontEndKind(full)])(path, opts);
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
