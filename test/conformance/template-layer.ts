/**
 * The template layer alone (parsing plus the template's structural checks, no component schemas), for the
 * corpus's `template_expect` verdicts on fixtures written for Packer's mock plugins. That is exactly what the
 * two front ends do before load.ts runs component validation, so this calls them directly.
 */
import { statSync } from 'node:fs';
import { hasErrors } from '../../core/template/diagnostics.ts';
import type { LoadOptions, LoadResult } from '../../core/template/model.ts';

type FrontEnd = (path: string, opts: LoadOptions) => Promise<LoadResult>;

/** Same rule as load.ts: a `.json` file that is not `.pkr.json` is legacy JSON; everything else is HCL2. */
export function isLegacyJson(path: string): boolean {
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    directory = false;
  }
  return !directory && path.endsWith('.json') && !path.endsWith('.pkr.json');
}

async function frontEnd(json: boolean): Promise<FrontEnd> {
  if (json) {
    const mod = await import('../../core/frontends/json/index.ts');
    return mod.loadJsonTemplate;
  }
  const mod = await import('../../core/frontends/hcl/index.ts');
  return mod.loadHclTemplate;
}

export async function templateLayerVerdict(
  path: string,
  opts: LoadOptions,
): Promise<{ valid: boolean; result: LoadResult }> {
  const load = await frontEnd(isLegacyJson(path));
  const result = await load(path, opts);
  return { valid: !hasErrors(result.diagnostics), result };
}
