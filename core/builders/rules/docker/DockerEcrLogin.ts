/** `ecr_login` needs the registry's `login_server`. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, isTrue } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function DockerEcrLogin(config: Config): Finding[] {
  return isTrue(config.ecr_login) && !isSet(config.login_server)
    ? [{ message: 'ECR login requires login server to be provided.', key: 'ecr_login' }]
    : [];
}
