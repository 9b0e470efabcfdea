/** Exactly one of `instance_type` and `spot_instance_types`. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function InstanceType(config: Config): Finding[] {
  const out: Finding[] = [];
  const spot = isSet(config.spot_instance_types);
  if (!isSet(config.instance_type) && !spot) {
    out.push({ message: 'either instance_type or spot_instance_types must be specified' });
  }
  if (isSet(config.instance_type) && spot) {
    out.push({ message: 'instance_type and spot_instance_types cannot both be specified', key: 'instance_type' });
  }
  return out;
}
