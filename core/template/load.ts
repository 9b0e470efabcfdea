/**
 * loadTemplate: the one entry point every caller uses (CLI, Lambda, agent, tests). Picks the front end by path
 * (`.json` that is not `.pkr.json` → legacy JSON; `.pkr.hcl`, `.pkr.json` or a directory → HCL2), then, unless
 * the caller asked for syntax only or the front end already failed, validates every component and returns all
 * diagnostics together.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
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
  const readFile = opts.readFile;
  const fileExists = (p: string) => existsSync(p) || (readFile !== undefined && readFile(p) !== undefined);
  const diagnostics = validateTemplate(result.template, { fileExists, cwd: opts.cwd ?? process.cwd() });
  return { ...result, diagnostics: [...result.diagnostics, ...diagnostics] };
}
