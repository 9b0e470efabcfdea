/** docker-tag, docker-push, docker-import, docker-save: what happens to a committed docker image (ECR for ec2-docker). */
import { defineComponent } from '../builders/common/define.ts';
import { bool, str, strList } from '../builders/common/fields.ts';
import type { Finding } from '../builders/common/spec.ts';
import { isSet, knownString, stringList } from '../builders/common/values.ts';
import { changeFindings } from '../builders/docker.ts';
import { dockerTagProblem, repositoryProblem } from '../docker/ecr.ts';

const required = (key: string) => (config: Record<string, unknown>) =>
  isSet(config[key]) ? [] : [{ message: `${key} must be specified` }];

/** A repository Kiln can push (a bare name is an ECR repository name: core/docker/ecr.ts). */
function repositoryFindings(config: Record<string, unknown>): Finding[] {
  const repository = knownString(config.repository);
  const problem = repository ? repositoryProblem(repository) : undefined;
  return problem ? [{ message: `repository: ${problem}`, key: 'repository' }] : [];
}

/** Tags docker accepts; an empty tag is no tag (docker's latest), as in Packer. */
function tagFindings(config: Record<string, unknown>, key: 'tag' | 'tags'): Finding[] {
  return stringList(config[key])
    .filter((t) => t !== '')
    .flatMap((t) => {
      const problem = dockerTagProblem(t);
      return problem ? [{ message: `${key}: ${problem}`, key }] : [];
    });
}

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
    ...repositoryFindings(config),
    ...tagFindings(config, 'tag'),
    ...tagFindings(config, 'tags'),
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
  rules: (config) => [
    ...required('repository')(config),
    ...repositoryFindings(config),
    ...tagFindings(config, 'tag'),
    ...changeFindings(config.changes),
  ],
});

export const dockerSave = defineComponent('post-processor', {
  type: 'docker-save',
  shape: { path: str() },
  rules: required('path'),
});
