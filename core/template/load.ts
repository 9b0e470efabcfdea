/**
 * loadTemplate: the one entry point every caller uses (CLI, Lambda, agent, tests). Picks the front end by path
 * (`.json` that is not `.pkr.json` → legacy JSON; `.pkr.hcl`, `.pkr.json` or a directory → HCL2), then, unless
 * the caller asked for syntax only or the front end already failed, validates every component and returns all
 * diagnostics together.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileAccess } from '../files/access.ts';
import { hasErrors } from './diagnostics.ts';
import { loadHclTemplate } from './hcl/index.ts';
import { loadJsonTemplate } from './json/index.ts';
import type { LoadOptions, LoadResult } from './model.ts';
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
  });
  return { ...result, diagnostics: [...result.diagnostics, ...diagnostics] };
}
