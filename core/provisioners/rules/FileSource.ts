/** A file provisioner has a `source`/`sources` or inline `content`, not both. */
import type { Finding } from '../../schema/spec.ts';
import { isSet } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function FileSource(config: Config): Finding[] {
  const hasSource = isSet(config.source) || isSet(config.sources);
  if (!hasSource && !isSet(config.content)) return [{ message: 'Source must be specified.' }];
  if (hasSource && isSet(config.content))
    return [{ message: 'Cannot specify both source and content', key: 'content' }];
  return [];
}
