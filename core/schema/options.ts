/**
 * Option groups Packer's SDK squashes into many builders (communicator, ISO, HTTP server, boot command,
 * floppy/CD, shutdown, output), each as a zod shape plus the checks its `Prepare` does.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../template/model.ts';
import { bool, duration, int, oneOf, str, strList, strMap } from './fields.ts';
import type { Finding, ValidateContext } from './spec.ts';
import { isSet, knownNumber, knownString, stringList } from './values.ts';

export const sshShape = {
  communicator: oneOf('ssh', 'winrm', 'none', 'docker', 'dockerWindowsContainer'),
  pause_before_connecting: duration(),
  ssh_host: str(),
  ssh_port: int(),
  ssh_username: str(),
  ssh_password: str(),
  ssh_keypair_name: str(),
  temporary_key_pair_name: str(),
  temporary_key_pair_type: oneOf('rsa', 'ed25519', 'dsa', 'ecdsa'),
  temporary_key_pair_bits: int(),
  ssh_ciphers: strList(),
  ssh_clear_authorized_keys: bool(),
  ssh_key_exchange_algorithms: strList(),
  ssh_private_key_file: str(),
  ssh_certificate_file: str(),
  ssh_pty: bool(),
  ssh_timeout: duration(),
  ssh_wait_timeout: duration(),
  ssh_agent_auth: bool(),
  ssh_disable_agent_forwarding: bool(),
  ssh_handshake_attempts: int(),
  ssh_bastion_host: str(),
  ssh_bastion_port: int(),
  ssh_bastion_agent_auth: bool(),
  ssh_bastion_username: str(),
  ssh_bastion_password: str(),
  ssh_bastion_interactive: bool(),
  ssh_bastion_private_key_file: str(),
  ssh_bastion_certificate_file: str(),
  ssh_file_transfer_method: oneOf('scp', 'sftp'),
  ssh_proxy_host: str(),
  ssh_proxy_port: int(),
  ssh_proxy_username: str(),
  ssh_proxy_password: str(),
  ssh_keep_alive_interval: duration(),
  ssh_read_write_timeout: duration(),
  ssh_remote_tunnels: strList(),
  ssh_local_tunnels: strList(),
  ssh_public_key: str(),
  ssh_private_key: str(),
  winrm_username: str(),
  winrm_password: str(),
  winrm_host: str(),
  winrm_no_proxy: bool(),
  winrm_port: int(),
  winrm_timeout: duration(),
  winrm_use_ssl: bool(),
  winrm_insecure: bool(),
  winrm_use_ntlm: bool(),
};

/** Communicator keys `packer fix` renames (ssh_key_path → ssh_private_key_file, ...): gone from the schema. */
export const communicatorRemovedKeys = ['ssh_key_path', 'ssh_disable_agent'];

/** `stat` error text as Go prints it, for files Packer checks at validate time. */
export function statError(path: string): string {
  return `stat ${path}: no such file or directory`;
}

/**
 * Where a relative path may live: Packer resolves against the working directory; Kiln also accepts the
 * template directory, which is where a bundle uploaded to S3 keeps its scripts.
 */
export function candidatePaths(ctx: ValidateContext, path: string): string[] {
  if (isAbsolute(path)) return [path];
  return [...new Set([...(ctx.cwd ? [resolve(ctx.cwd, path)] : []), resolve(ctx.templateDir, path)])];
}

export function resolvePath(ctx: ValidateContext, path: string): string {
  const candidates = candidatePaths(ctx, path);
  return candidates.find((p) => ctx.fileExists(p)) ?? candidates[0] ?? path;
}

export function missingFile(ctx: ValidateContext, path: string): boolean {
  return !candidatePaths(ctx, path).some((p) => ctx.fileExists(p));
}

/** The SDK communicator checks; `defaultType` is the builder's default (`ssh` for VMs, `docker` for docker). */
export function communicatorRules(config: Config, ctx: ValidateContext, defaultType = 'ssh'): Finding[] {
  const out: Finding[] = [];
  const type = knownString(config.communicator) ?? (isSet(config.communicator) ? undefined : defaultType);
  if (type === 'ssh') {
    if (!isSet(config.ssh_username)) {
      out.push({
        message: 'An ssh_username must be specified\n  Note: some builders used to default ssh_username to "root".',
        key: 'communicator',
      });
    }
    for (const key of ['ssh_private_key_file', 'ssh_bastion_private_key_file'] as const) {
      const file = knownString(config[key]);
      if (file && missingFile(ctx, file)) out.push({ message: `${key} is invalid: ${statError(file)}`, key });
    }
  }
  if (type === 'winrm' && !isSet(config.winrm_username)) {
    out.push({ message: 'winrm_username must be specified.', key: 'communicator' });
  }
  return out;
}

export const httpShape = {
  http_directory: str(),
  http_content: strMap(),
  http_port_min: int(),
  http_port_max: int(),
  http_bind_address: str(),
  http_interface: str(),
  http_network_protocol: str(),
};

export function httpRules(config: Config): Finding[] {
  const out: Finding[] = [];
  const min = knownNumber(config.http_port_min);
  const max = knownNumber(config.http_port_max);
  if (min !== undefined && max !== undefined && min > max) {
    out.push({ message: 'http_port_min must be less than http_port_max', key: 'http_port_min' });
  }
  if (isSet(config.http_content) && isSet(config.http_directory)) {
    out.push({
      message:
        'http_content cannot be used in conjunction with http_dir. Consider using the file function to load file in memory and serve them with http_content',
      key: 'http_content',
    });
  }
  return out;
}

export const isoShape = {
  iso_checksum: str(),
  iso_url: str(),
  iso_urls: strList(),
  iso_target_path: str(),
  iso_target_extension: str(),
};

/** Removed in Packer 1.6 (folded into `iso_checksum` as `type:value`). */
export const isoRemovedKeys = ['iso_checksum_type', 'iso_checksum_url'];

const CHECKSUM_TYPES = ['md5', 'sha1', 'sha256', 'sha512', 'file', 'none'];
const HEX_LENGTHS = new Set([32, 40, 64, 128]);

export function isoRules(config: Config): Finding[] {
  const out: Finding[] = [];
  const hasUrl = isSet(config.iso_url);
  const hasUrls = isSet(config.iso_urls);
  if (hasUrl && hasUrls) out.push({ message: 'Only one of iso_url or iso_urls must be specified', key: 'iso_url' });
  if (!hasUrl && !hasUrls) out.push({ message: 'One of iso_url or iso_urls must be specified' });
  if (!isSet(config.iso_checksum)) {
    out.push({ message: 'A checksum must be specified (iso_checksum), or "none" to skip verification' });
  } else {
    const sum = knownString(config.iso_checksum)?.toLowerCase();
    if (sum === 'none') {
      out.push({
        severity: 'warning',
        key: 'iso_checksum',
        message: "A checksum of 'none' was specified. Since ISO files are so big, a checksum is highly recommended.",
      });
    } else if (sum !== undefined) {
      const [kind, value] = sum.includes(':') ? [sum.slice(0, sum.indexOf(':')), sum.slice(sum.indexOf(':') + 1)] : [];
      const valid =
        kind !== undefined
          ? CHECKSUM_TYPES.includes(kind) && value !== ''
          : /^[0-9a-f]+$/.test(sum) && HEX_LENGTHS.has(sum.length);
      if (!valid) out.push({ message: `invalid checksum: ${knownString(config.iso_checksum)}`, key: 'iso_checksum' });
    }
  }
  return out;
}

export const bootShape = {
  boot_command: strList(),
  boot_wait: duration(),
  boot_keygroup_interval: duration(),
  boot_key_interval: duration(),
  disable_vnc: bool(),
};

export const mediaShape = {
  floppy_files: strList(),
  floppy_dirs: strList(),
  floppy_content: strMap(),
  floppy_label: str(),
  cd_files: strList(),
  cd_content: strMap(),
  cd_label: str(),
};

const GLOB = /[*?[]/;

/** Floppy files and directories must exist at validate time (globs are expanded at build time). */
export function mediaRules(config: Config, ctx: ValidateContext): Finding[] {
  const out: Finding[] = [];
  for (const file of stringList(config.floppy_files)) {
    if (!GLOB.test(file) && missingFile(ctx, file)) {
      out.push({ message: `Bad Floppy disk file '${file}': ${statError(file)}`, key: 'floppy_files' });
    }
  }
  for (const dir of stringList(config.floppy_dirs)) {
    if (!GLOB.test(dir) && missingFile(ctx, dir)) {
      out.push({ message: `Bad Floppy disk directory '${dir}': ${statError(dir)}`, key: 'floppy_dirs' });
    }
  }
  return out;
}

export const shutdownShape = {
  shutdown_command: str(),
  shutdown_timeout: duration(),
  post_shutdown_delay: duration(),
  disable_shutdown: bool(),
};

export const outputShape = {
  output_directory: str(),
  output_filename: str(),
};

export const hardwareShape = {
  cpus: int(),
  cores: int(),
  memory: int(),
  disk_size: int(),
  headless: bool(),
  vm_name: str(),
  guest_os_type: str(),
  format: str(),
};
