/** `deprecate_at` is an RFC 3339 time. */
import type { Finding } from '../../../schema/spec.ts';
import { knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function DeprecateAt(config: Config): Finding[] {
  const deprecateAt = knownString(config.deprecate_at);
  if (!deprecateAt || !Number.isNaN(Date.parse(deprecateAt))) return [];
  return [{ message: `deprecate_at: parsing time "${deprecateAt}" as RFC3339 failed`, key: 'deprecate_at' }];
}
