/** docker-push's `ecr_login` (set to anything but false) needs the registry's `login_server`. */
import type { Finding } from '../../schema/spec.ts';
import { isSet } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function DockerPushEcrLogin(config: Config): Finding[] {
  return isSet(config.ecr_login) && config.ecr_login !== false && !isSet(config.login_server)
    ? [{ message: 'ECR login requires login server to be provided.', key: 'ecr_login' }]
    : [];
}
