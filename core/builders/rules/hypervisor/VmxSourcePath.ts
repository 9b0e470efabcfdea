/** vmware-vmx clones `source_path`: required, and a local path must exist. */
import { missingFile, statError } from '../../../schema/options.ts';
import type { Finding, ValidateContext } from '../../../schema/spec.ts';
import { isSet, knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function VmxSourcePath(config: Config, ctx: ValidateContext): Finding[] {
  const source = knownString(config.source_path);
  if (!isSet(config.source_path)) return [{ message: 'source_path is blank, but is required' }];
  if (source && !/^[a-z]+:\/\//.test(source) && missingFile(ctx, source)) {
    return [{ message: `source_path is invalid: ${statError(source)}`, key: 'source_path' }];
  }
  return [];
}
