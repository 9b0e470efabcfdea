/** HCL2 front end: `loadHclTemplate(path, opts)` for a `*.pkr.hcl` / `*.pkr.json` file or a directory. */
import { loadWithinBudget } from '../../template/limits.ts';
import { type LoadOptions, type LoadResult, stoppedLoad } from '../../template/model.ts';
import { loadHcl } from './load.ts';

export { evaluate } from '../../hcl/eval/evaluate.ts';
export type { Value } from '../../hcl/eval/values.ts';
export { hclFunctions } from '../../hcl/functions/index.ts';

export function loadHclTemplate(path: string, opts: LoadOptions): Promise<LoadResult> {
  return loadWithinBudget(opts.limits, () => loadHcl(path, opts), stoppedLoad);
}
