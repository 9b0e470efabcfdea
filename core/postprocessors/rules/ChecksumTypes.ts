/** checksum's `checksum_types` are hash names Packer knows. */
import type { Finding } from '../../schema/spec.ts';
import { stringList } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

const CHECKSUM_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

export function ChecksumTypes(config: Config): Finding[] {
  return stringList(config.checksum_types)
    .filter((t) => !CHECKSUM_TYPES.includes(t))
    .map((t) => ({ message: `Unrecognized checksum type: ${t}`, key: 'checksum_types' }));
}
