/** powershell's `elevated_user` comes with an `elevated_password` (it may be empty, not absent). */
import type { Finding } from '../../schema/spec.ts';
import { isSet } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function ElevatedPassword(config: Config): Finding[] {
  return isSet(config.elevated_user) && config.elevated_password === undefined
    ? [{ message: "Must supply an 'elevated_password' if 'elevated_user' provided", key: 'elevated_user' }]
    : [];
}
