/** HCL2 front end: `loadHclTemplate(path, opts)` for a `*.pkr.hcl` / `*.pkr.json` file or a directory. */
import { loadWithinBudget } from '../limits.ts';
import type { LoadOptions, LoadResult } from '../model.ts';
import { loadHcl } from './load.ts';

export { evaluate } from './eval/evaluate.ts';
export type { Value } from './eval/values.ts';
export { hclFunctions } from './functions/index.ts';

export function loadHclTemplate(path: string, opts: LoadOptions): Promise<LoadResult> {
  return loadWithinBudget(opts.limits, () => loadHcl(path, opts));
}
