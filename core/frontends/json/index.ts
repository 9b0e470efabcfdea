/** Public API of the legacy JSON front end. */

export type { JsonEntry, JsonNode, JsonSpan } from './jsonAst.ts';
export { MAX_NESTING_DEPTH, packerErrorLocation, parseJson } from './jsonParser.ts';

import { loadWithinBudget } from '../../template/limits.ts';
import { type LoadOptions, type LoadResult, stoppedLoad } from '../../template/model.ts';
import { loadJsonFile } from './load.ts';

export { MAX_TEMPLATE_BYTES } from './load.ts';

export function loadJsonTemplate(path: string, opts: LoadOptions): Promise<LoadResult> {
  return loadWithinBudget(opts.limits, () => loadJsonFile(path, opts), stoppedLoad);
}
