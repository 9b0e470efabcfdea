/** docker: runs a container from `image`, provisions it, then commits, exports or discards it (driver ec2-docker). */
import { changeProblem } from '../docker/changes.ts';
import type { BuildSummary } from '../plan/types.ts';
import type { Config } from '../template/model.ts';
import { defineBuilder } from './common/define.ts';
import { anyObject, block, bool, oneOf, str, strList, strMap } from './common/fields.ts';
import { communicatorRemovedKeys, communicatorRules, sshShape } from './common/options.ts';
import type { Finding } from './common/spec.ts';
import { display, isSet, isTrue, knownString, stringList } from './common/values.ts';

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

function dockerRules(config: Config): Finding[] {
  const out: Finding[] = [];
  if (!isSet(config.image) && !isSet(config.build)) out.push({ message: 'image must be specified' });
  const modes = (['commit', 'discard'] as const).filter((k) => isTrue(config[k]));
  const chosen = [...modes, ...(isSet(config.export_path) ? ['export_path'] : [])];
  if (chosen.length === 0) out.push({ message: 'exactly one of commit, discard or export_path must be set' });
  if (chosen.length > 1) {
    out.push({
      message: `only one of commit, discard or export_path may be set; got ${chosen.join(', ')}`,
      key: chosen[1],
    });
  }
  if (isTrue(config.ecr_login) && !isSet(config.login_server)) {
    out.push({ message: 'ECR login requires login server to be provided.', key: 'ecr_login' });
  }
  out.push(...changeFindings(config.changes));
  return out;
}

/** Each `changes` item must be an instruction docker accepts at commit (Kiln checks it before the build runs). */
export function changeFindings(changes: unknown): Finding[] {
  return stringList(changes).flatMap((change, i) => {
    const problem = changeProblem(change);
    return problem ? [{ message: `changes[${i}]: ${problem}`, key: 'changes' }] : [];
  });
}

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
    ...dockerRules(config),
    ...communicatorRules(config, ctx, isTrue(config.windows_container) ? 'dockerWindowsContainer' : 'docker'),
  ],
  summarize: summarizeDocker,
});

/** Whether the docker build keeps its result as an image (commit) rather than a tarball or nothing. */
export function dockerCommits(config: Config): boolean {
  return isTrue(config.commit) && knownString(config.export_path) === undefined;
}
