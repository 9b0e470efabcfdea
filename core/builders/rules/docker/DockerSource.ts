/** A docker build starts from an `image` or a Dockerfile `build` block. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function DockerSource(config: Config): Finding[] {
  return !isSet(config.image) && !isSet(config.build) ? [{ message: 'image must be specified' }] : [];
}
