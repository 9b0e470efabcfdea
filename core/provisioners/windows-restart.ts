/** windows-restart: reboots a Windows machine and waits for it to come back. */
import { defineComponent } from '../schema/define.ts';
import { bool, type ConfigOf, duration, str, strList } from '../schema/fields.ts';

export const windowsRestartShape = {
  restart_command: str(),
  restart_check_command: str(),
  restart_timeout: duration(),
  check_registry: bool(),
  registry_keys: strList(),
};

export type WindowsRestartConfig = ConfigOf<typeof windowsRestartShape>;

export const windowsRestart = defineComponent('provisioner', { type: 'windows-restart', shape: windowsRestartShape });
