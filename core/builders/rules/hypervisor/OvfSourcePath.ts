/** virtualbox-ovf imports `source_path`: required. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function OvfSourcePath(config: Config): Finding[] {
  return isSet(config.source_path) ? [] : [{ message: 'source_path is required' }];
}
