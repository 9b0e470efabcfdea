/** Options shared by vmware-iso and vmware-vmx (packer-plugin-vmware), including the ESXi `remote_*` set of v1. */

import { bool, duration, int, oneOf, str, strList, strMap } from '../../schema/fields.ts';
import {
  bootShape,
  communicatorRules,
  hardwareShape,
  httpRules,
  httpShape,
  mediaRules,
  mediaShape,
  outputShape,
  shutdownShape,
  sshShape,
} from '../../schema/options.ts';
import type { Finding, ValidateContext } from '../../schema/spec.ts';
import type { Config } from '../../template/model.ts';

export const vmwareCommonShape = {
  ...sshShape,
  ...httpShape,
  ...bootShape,
  ...mediaShape,
  ...shutdownShape,
  ...outputShape,
  ...hardwareShape,
  fusion_app_path: str(),
  remote_type: str(),
  remote_host: str(),
  remote_port: int(),
  remote_datastore: str(),
  remote_cache_datastore: str(),
  remote_cache_directory: str(),
  remote_username: str(),
  remote_password: str(),
  remote_private_key_file: str(),
  skip_validate_credentials: bool(),
  firmware: oneOf('bios', 'efi', 'efi-secure'),
  network: str(),
  network_name: str(),
  network_adapter_type: str(),
  sound: bool(),
  usb: bool(),
  serial: str(),
  parallel: str(),
  vnc_bind_address: str(),
  vnc_port_min: int(),
  vnc_port_max: int(),
  vnc_disable_password: bool(),
  vnc_over_websocket: bool(),
  insecure_connection: bool(),
  tools_upload_flavor: str(),
  tools_upload_path: str(),
  tools_source_path: str(),
  tools_mode: str(),
  vmx_data: strMap(),
  vmx_data_post: strMap(),
  vmx_remove_ethernet_interfaces: bool(),
  display_name: str(),
  ovftool_options: strList(),
  skip_export: bool(),
  keep_registered: bool(),
  skip_compaction: bool(),
  ip_settle_timeout: duration(),
  ip_wait_timeout: duration(),
};

export function vmwareRules(config: Config, ctx: ValidateContext): Finding[] {
  return [...httpRules(config), ...mediaRules(config, ctx), ...communicatorRules(config, ctx)];
}
