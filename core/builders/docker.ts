/** docker: runs a container from `image`, provisions it, then commits, exports or discards it (driver ec2-docker). */

import { anyObject, block, bool, type ConfigOf, oneOf, str, strList, strMap } from '../schema/fields.ts';
import { communicatorRemovedKeys, communicatorRules, sshShape } from '../schema/options.ts';
import { display, isTrue, knownString } from '../schema/values.ts';
import type { Config } from '../template/model.ts';
import { defineBuilder } from './define.ts';
import type { BuildSummary } from './driver.ts';
import { DOCKER_RULES } from './rules/docker/index.ts';

export const dockerShape = {
  ...sshShape,
  author: str(),
  changes: strList(),
  commit: bool(),
  container_dir: str(),
  device: strList(),
  discard: bool(),
  exec_user: str(),
  export_path: str(),
  fix_upload_owner: bool(),
  image: str(),
  build: block({ path: str(), arguments: strMap(), build_dir: str(), pull: bool(), platform: str() }),
  login: bool(),
  login_password: str(),
  login_server: str(),
  login_username: str(),
  ecr_login: bool(),
  aws_access_key: str(),
  aws_secret_key: str(),
  aws_token: str(),
  aws_profile: str(),
  message: str(),
  platform: str(),
  privileged: bool(),
  pull: bool(),
  run_command: strList(),
  runtime: str(),
  tmpfs: strList(),
  volumes: strMap(),
  cap_add: strList(),
  cap_drop: strList(),
  windows_container: bool(),
  entrypoint: strList(),
  labels: anyObject(),
  docker_path: str(),
};

/** The docker builder's decoded configuration (the shape that validates it). */
export type DockerConfig = ConfigOf<typeof dockerShape>;

export function summarizeDocker(config: Config): BuildSummary {
  const image = display(config.image);
  return image ? { image } : {};
}

export const docker = defineBuilder({
  type: 'docker',
  driver: 'ec2-docker',
  shape: {
    ...dockerShape,
    communicator: oneOf('docker', 'dockerWindowsContainer', 'ssh', 'winrm', 'none'),
  },
  removedKeys: [...communicatorRemovedKeys, 'login_email'],
  rules: (config, ctx) => [
    ...DOCKER_RULES.flatMap((rule) => rule(config, ctx)),
    ...communicatorRules(config, ctx, isTrue(config.windows_container) ? 'dockerWindowsContainer' : 'docker'),
  ],
  summarize: summarizeDocker,
});

/** Whether the docker build keeps its result as an image (commit) rather than a tarball or nothing. */
export function dockerCommits(config: Config): boolean {
  return isTrue(config.commit) && knownString(config.export_path) === undefined;
}
