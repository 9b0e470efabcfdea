/** At most one of `security_group_id` and `security_group_ids`. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function SecurityGroups(config: Config): Finding[] {
  if (!isSet(config.security_group_id) || !isSet(config.security_group_ids)) return [];
  return [
    { message: 'Only one of security_group_id or security_group_ids can be specified.', key: 'security_group_id' },
  ];
}
