/** docker-tag, docker-push, docker-import, docker-save: what happens to a committed docker image (ECR for ec2-docker). */
import { defineComponent } from '../schema/define.ts';
import { bool, str, strList } from '../schema/fields.ts';
import { isSet } from '../schema/values.ts';

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
    ...(isSet(config.tag) && isSet(config.tags)
      ? [{ message: 'Only one of tag or tags can be specified.', key: 'tags' }]
      : []),
  ],
});

export const dockerPush = defineComponent('post-processor', {
  type: 'docker-push',
  shape: loginShape,
  rules: (config) =>
    isSet(config.ecr_login) && config.ecr_login !== false && !isSet(config.login_server)
      ? [{ message: 'ECR login requires login server to be provided.', key: 'ecr_login' }]
      : [],
});

export const dockerImport = defineComponent('post-processor', {
  type: 'docker-import',
  shape: { repository: str(), tag: str(), changes: strList(), platform: str() },
  rules: required('repository'),
});

export const dockerSave = defineComponent('post-processor', {
  type: 'docker-save',
  shape: { path: str() },
  rules: required('path'),
});
