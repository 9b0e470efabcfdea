/** A file provisioner names its `destination`. */
import type { Finding } from '../../schema/spec.ts';
import { isSet } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function FileDestination(config: Config): Finding[] {
  return isSet(config.destination) ? [] : [{ message: 'Destination must be specified.' }];
}
