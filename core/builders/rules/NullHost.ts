/** The null builder connects to an existing host: its communicator's host (`ssh_host`, `winrm_host`) is required. */
import type { Finding } from '../../schema/spec.ts';
import { isSet, knownString } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function NullHost(config: Config): Finding[] {
  const type = knownString(config.communicator) ?? 'ssh';
  if (type === 'none') return [];
  const hostKey = type === 'winrm' ? 'winrm_host' : 'ssh_host';
  return isSet(config[hostKey])
    ? []
    : [{ message: 'a Host must be specified, please reference your communicator documentation', key: 'communicator' }];
}
