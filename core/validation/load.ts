/**
 * loadTemplate: the one entry point every caller uses (CLI, Lambda, agent, tests). Reads the template with its
 * front end (core/frontends/parse.ts), then, unless the caller asked for syntax only or the front end already
 * failed, validates every component and returns all diagnostics together.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileAccess } from '../files/access.ts';
import { capDiagnostics, type FrontEnd, runFrontEnd } from '../frontends/parse.ts';
import { hasErrors } from '../template/diagnostics.ts';
import { loadWithinBudget, resolveLimits } from '../template/limits.ts';
import { type LoadOptions, type LoadResult, stoppedLoad } from '../template/model.ts';
import { validateTemplate } from './validate.ts';

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
  const result = await loadWithinBudget(opts.limits, () => loadAndValidate(path, opts, deps), stoppedLoad);
  return { ...result, diagnostics: capDiagnostics(result.diagnostics, limits) };
}

async function loadAndValidate(path: string, opts: LoadOptions, deps: LoadTemplateDeps): Promise<LoadResult> {
  const full = isAbsolute(path) ? path : resolve(opts.cwd ?? process.cwd(), path);
  const result = await runFrontEnd(path, full, opts, deps.frontEnd);
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
