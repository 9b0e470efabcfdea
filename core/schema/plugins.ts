/**
 * Which component types exist outside Kiln's own schemas: the ones Packer and HashiCorp's official plugins
 * provide (Kiln hands them to an agent whose packer checks their configuration) and the ones that need a
 * third-party plugin (named, so the user knows what to install on the agent).
 */
import type { ComponentKind } from './spec.ts';

export const OFFICIAL_BUILDERS = [
  'alicloud-ecs',
  'amazon-chroot',
  'amazon-ebssurrogate',
  'amazon-ebsvolume',
  'amazon-instance',
  'azure-arm',
  'azure-chroot',
  'azure-dtl',
  'cloudstack',
  'digitalocean',
  'file',
  'googlecompute',
  'hcloud',
  'hyperone',
  'hyperv-iso',
  'hyperv-vmcx',
  'jdcloud',
  'linode',
  'lxc',
  'lxd',
  'ncloud',
  'oneandone',
  'openstack',
  'oracle-classic',
  'oracle-oci',
  'osc-bsu',
  'osc-bsusurrogate',
  'osc-bsuvolume',
  'osc-chroot',
  'profitbricks',
  'proxmox',
  'proxmox-clone',
  'proxmox-iso',
  'qemu',
  'scaleway',
  'tencentcloud-cvm',
  'triton',
  'ucloud-uhost',
  'upcloud',
  'vagrant',
  'virtualbox-vm',
  'vsphere-clone',
  'vsphere-iso',
  'vsphere-supervisor',
  'yandex',
  'googlecompute-export',
  'outscale-bsu',
] as const;

export const OFFICIAL_PROVISIONERS = [
  'ansible',
  'ansible-local',
  'chef-client',
  'chef-solo',
  'converge',
  'inspec',
  'puppet-masterless',
  'puppet-server',
  'salt-masterless',
  'windows-shell',
  'hcp-sbom',
] as const;

export const OFFICIAL_POSTPROCESSORS = [
  'alicloud-import',
  'amazon-import',
  'artifice',
  'digitalocean-import',
  'exoscale-import',
  'googlecompute-export',
  'googlecompute-import',
  'hcp-sbom',
  'ucloud-import',
  'vagrant',
  'vagrant-cloud',
  'vagrant-registry',
  'vsphere',
  'vsphere-template',
  'yandex-export',
  'yandex-import',
] as const;

/** Plugin source per third-party component type (`packer plugins install <source>`). */
export const THIRD_PARTY: Record<ComponentKind, Readonly<Record<string, string>>> = {
  builder: {
    'parallels-iso': 'github.com/Parallels/parallels',
    'parallels-pvm': 'github.com/Parallels/parallels',
    'arm-image': 'github.com/solo-io/arm-image',
    arm: 'github.com/mkaczanowski/packer-builder-arm',
    libvirt: 'github.com/thomasklein94/libvirt',
    'tart-cli': 'github.com/cirruslabs/tart',
    vultr: 'github.com/vultr/vultr',
    incus: 'github.com/bketelsen/incus',
  },
  provisioner: {
    goss: 'github.com/YaleUniversity/goss',
    'windows-update': 'github.com/rgl/windows-update',
    git: 'github.com/ethanmdavidson/git',
  },
  'post-processor': {
    'docker-mirror': 'github.com/akamai/docker-mirror',
  },
};

/** Plugin name as Packer's `required_plugins` and errors spell it (`github.com/Parallels/parallels` → parallels). */
export function pluginName(source: string): string {
  return source.split('/').pop() ?? source;
}
