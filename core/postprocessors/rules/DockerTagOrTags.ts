/** docker-tag takes `tag` or `tags`, not both. */
import type { Finding } from '../../schema/spec.ts';
import { isSet } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function DockerTagOrTags(config: Config): Finding[] {
  return isSet(config.tag) && isSet(config.tags)
    ? [{ message: 'Only one of tag or tags can be specified.', key: 'tags' }]
    : [];
}
