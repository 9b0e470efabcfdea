/** Exactly one of `commit`, `discard` and `export_path` says what becomes of the container. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, isTrue } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function DockerResult(config: Config): Finding[] {
  const modes = (['commit', 'discard'] as const).filter((k) => isTrue(config[k]));
  const chosen = [...modes, ...(isSet(config.export_path) ? ['export_path'] : [])];
  if (chosen.length === 0) return [{ message: 'exactly one of commit, discard or export_path must be set' }];
  if (chosen.length > 1) {
    return [
      {
        message: `only one of commit, discard or export_path may be set; got ${chosen.join(', ')}`,
        key: chosen[1],
      },
    ];
  }
  return [];
}
