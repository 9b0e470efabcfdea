/** Options shared by virtualbox-iso and virtualbox-ovf (packer-plugin-virtualbox). */

import { bool, duration, int, oneOf, str, strList, strListList } from '../../schema/fields.ts';
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
import { GuestAdditionsAttach } from '../rules/hypervisor/GuestAdditionsAttach.ts';

export const virtualboxCommonShape = {
  ...sshShape,
  ...httpShape,
  ...bootShape,
  ...mediaShape,
  ...shutdownShape,
  ...outputShape,
  ...hardwareShape,
  format: oneOf('ovf', 'ova'),
  export_opts: strList(),
  skip_export: bool(),
  keep_registered: bool(),
  guest_additions_mode: oneOf('upload', 'attach', 'disable', 'none'),
  guest_additions_interface: str(),
  guest_additions_path: str(),
  guest_additions_sha256: str(),
  guest_additions_url: str(),
  guest_os_type: str(),
  chipset: oneOf('piix3', 'ich9'),
  firmware: oneOf('bios', 'efi', 'efi32', 'efi64'),
  nic_type: str(),
  audio_controller: str(),
  gfx_controller: str(),
  gfx_vram_size: int(),
  gfx_accelerate_3d: bool(),
  gfx_efi_resolution: str(),
  usb: bool(),
  rtc_time_base: oneOf('UTC', 'local'),
  nested_virt: bool(),
  bundle_iso: bool(),
  host_port_min: int(),
  host_port_max: int(),
  // Older spellings the plugin still decodes for backwards compatibility.
  ssh_host_port_min: int(),
  ssh_host_port_max: int(),
  ssh_skip_nat_mapping: bool(),
  skip_nat_mapping: bool(),
  vboxmanage: strListList(),
  vboxmanage_post: strListList(),
  virtualbox_version_file: str(),
  vrdp_bind_address: str(),
  vrdp_port_min: int(),
  vrdp_port_max: int(),
  acpi_shutdown: bool(),
  disable_shutdown: bool(),
  post_shutdown_delay: duration(),
};

export function virtualboxRules(config: Config, ctx: ValidateContext): Finding[] {
  return [
    ...httpRules(config),
    ...mediaRules(config, ctx),
    ...communicatorRules(config, ctx),
    ...GuestAdditionsAttach(config),
  ];
}
