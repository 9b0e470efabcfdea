/** docker-tag, docker-push, docker-import, docker-save: what happens to a committed docker image (ECR for ec2-docker). */
import { defineComponent } from '../schema/define.ts';
import { bool, str, strList } from '../schema/fields.ts';
import { DockerChanges } from '../schema/rules/DockerChanges.ts';
import { isSet } from '../schema/values.ts';
import { DockerPushEcrLogin } from './rules/DockerPushEcrLogin.ts';
import { DockerRepository } from './rules/DockerRepository.ts';
import { DockerTagNames } from './rules/DockerTagNames.ts';
import { DockerTagOrTags } from './rules/DockerTagOrTags.ts';

const required = (key: string) => (config: Record<string, unknown>) =>
  isSet(config[key]) ? [] : [{ message: `${key} must be specified` }];

const loginShape = {
  login: bool(),
  login_username: str(),
  login_password: str(),
  login_server: str(),
  ecr_login: bool(),
  aws_access_key: str(),
  aws_secret_key: str(),
  aws_token: str(),
  aws_profile: str(),
};

export const dockerTag = defineComponent('post-processor', {
  type: 'docker-tag',
  shape: { repository: str(), tag: strList(), tags: strList(), force: bool() },
  rules: (config) => [
    ...required('repository')(config),
    ...DockerTagOrTags(config),
    ...DockerRepository(config),
    ...DockerTagNames(config),
  ],
});

export const dockerPush = defineComponent('post-processor', {
  type: 'docker-push',
  shape: loginShape,
  rules: DockerPushEcrLogin,
});

export const dockerImport = defineComponent('post-processor', {
  type: 'docker-import',
  shape: { repository: str(), tag: str(), changes: strList(), platform: str() },
  rules: (config) => [
    ...required('repository')(config),
    ...DockerRepository(config),
    ...DockerTagNames(config),
    ...DockerChanges(config),
  ],
});

export const dockerSave = defineComponent('post-processor', {
  type: 'docker-save',
  shape: { path: str() },
  rules: required('path'),
});
