/** manifest, checksum, compress: post-processors that write files about or from the artifacts. */
import { defineComponent } from '../schema/define.ts';
import { anyObject, bool, int, oneOf, str, strList } from '../schema/fields.ts';
import { ChecksumTypes } from './rules/ChecksumTypes.ts';
import { CompressionLevel } from './rules/CompressionLevel.ts';

export const manifest = defineComponent('post-processor', {
  type: 'manifest',
  shape: { output: str(), strip_path: bool(), strip_time: bool(), custom_data: anyObject() },
  // `packer fix` renamed filename to output.
  removedKeys: ['filename'],
});

export const checksum = defineComponent('post-processor', {
  type: 'checksum',
  shape: { checksum_types: strList(), output: str() },
  rules: ChecksumTypes,
});

export const compress = defineComponent('post-processor', {
  type: 'compress',
  shape: {
    output: str(),
    format: oneOf('tar', 'tar.gz', 'tgz', 'zip', 'gz', 'gzip', 'lz4', 'bgzf', 'xz', '.tar.gz', '.zip'),
    compression_level: int(),
  },
  rules: CompressionLevel,
});
