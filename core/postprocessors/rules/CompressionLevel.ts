/** compress's `compression_level` is between -1 and 9. */
import type { Finding } from '../../schema/spec.ts';
import { knownString } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';

export function CompressionLevel(config: Config): Finding[] {
  const level = Number(knownString(config.compression_level) ?? Number.NaN);
  return Number.isFinite(level) && (level < -1 || level > 9)
    ? [{ message: 'Invalid compression level. Must be between -1 and 9', key: 'compression_level' }]
    : [];
}
