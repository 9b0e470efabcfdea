/**
 * Which configuration keys name local files the pipeline reads or ships to the builder. The planner stages the
 * provisioner ones; the FileConfinement rule checks all of them, so none can point outside the template's root.
 */
import { knownString } from '../schema/values.ts';
import type { Config } from '../template/model.ts';

/** Keys whose files are staged for a provisioner of this type (read by PrepareBuild, copied to S3). */
export function stagedFileKeys(type: string, config: Config): readonly string[] {
  if (type === 'file') return (knownString(config.direction) ?? 'upload') === 'upload' ? ['source', 'sources'] : [];
  if (type.startsWith('ansible')) return ['playbook_file'];
  return ['script', 'scripts'];
}

/** Further provisioner keys naming local files or folders. */
const OTHER_PROVISIONER_KEYS: Record<string, readonly string[]> = {
  ansible: ['galaxy_file', 'inventory_file', 'inventory_directory', 'ssh_host_key_file', 'ssh_authorized_key_file'],
  'ansible-local': [
    'galaxy_file',
    'inventory_file',
    'playbook_dir',
    'playbook_paths',
    'role_paths',
    'group_vars',
    'host_vars',
  ],
};

export function provisionerFileKeys(type: string, config: Config): readonly string[] {
  return [...stagedFileKeys(type, config), ...(OTHER_PROVISIONER_KEYS[type] ?? [])];
}

/**
 * Builder keys whose files the pipeline reads itself (LaunchBuilder sends `user_data_file` as user data), so
 * PrepareBuild stages them like provisioner scripts. Builders run by an agent get the template folder instead.
 */
export function builderStagedFileKeys(type: string): readonly string[] {
  return type === 'amazon-ebs' ? ['user_data_file'] : [];
}

/** Builder keys naming local files or folders (communicator keys, user data, boot media). */
export const BUILDER_FILE_KEYS: readonly string[] = [
  'user_data_file',
  'ssh_private_key_file',
  'ssh_bastion_private_key_file',
  'http_directory',
  'floppy_files',
  'floppy_dirs',
  'cd_files',
  'source_path',
];

/** The string paths under `key` (a string or a list of strings); URLs are not local files. */
export function writtenPaths(config: Config, key: string): string[] {
  const value = config[key];
  const list = Array.isArray(value) ? value : [value];
  return list
    .map((v) => (typeof v === 'string' ? knownString(v) : undefined))
    .filter((v): v is string => v !== undefined && v !== '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(v));
}
