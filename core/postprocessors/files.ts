/** manifest, checksum, compress: post-processors that write files about or from the artifacts. */
import { defineComponent } from '../schema/define.ts';
import { anyObject, bool, int, oneOf, str, strList } from '../schema/fields.ts';
import { knownString, stringList } from '../schema/values.ts';

export const manifest = defineComponent('post-processor', {
  type: 'manifest',
  shape: { output: str(), strip_path: bool(), strip_time: bool(), custom_data: anyObject() },
  // `packer fix` renamed filename to output.
  removedKeys: ['filename'],
});

const CHECKSUM_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

export const checksum = defineComponent('post-processor', {
  type: 'checksum',
  shape: { checksum_types: strList(), output: str() },
  rules: (config) =>
    stringList(config.checksum_types)
      .filter((t) => !CHECKSUM_TYPES.includes(t))
      .map((t) => ({ message: `Unrecognized checksum type: ${t}`, key: 'checksum_types' })),
});

export const compress = defineComponent('post-processor', {
  type: 'compress',
  shape: {
    output: str(),
    format: oneOf('tar', 'tar.gz', 'tgz', 'zip', 'gz', 'gzip', 'lz4', 'bgzf', 'xz', '.tar.gz', '.zip'),
    compression_level: int(),
  },
  rules: (config) => {
    const level = Number(knownString(config.compression_level) ?? Number.NaN);
    return Number.isFinite(level) && (level < -1 || level > 9)
      ? [{ message: 'Invalid compression level. Must be between -1 and 9', key: 'compression_level' }]
      : [];
  },
});
