/** A `kms_key_id` or `region_kms_key_ids` needs `encrypt_boot = true`, and every key must look like a KMS key id. */
import { isDeferred } from '../../../schema/fields.ts';
import type { Finding } from '../../../schema/spec.ts';
import { isTrue, knownString, stringMap } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';
import { isValidKmsKey } from '../../amazon/ami-name.ts';

export function KmsKeys(config: Config): Finding[] {
  const out: Finding[] = [];
  const kmsKey = knownString(config.kms_key_id) ?? '';
  const regionKeys = stringMap(config.region_kms_key_ids);
  const keys = [kmsKey, ...Object.values(regionKeys).map((v) => knownString(v) ?? '')].filter((k) => k !== '');
  if (keys.length > 0 && !isTrue(config.encrypt_boot) && !isDeferred(config.encrypt_boot)) {
    out.push({
      message: 'If you have set either region_kms_key_ids or kms_key_id, encrypt_boot must also be true.',
      key: 'encrypt_boot',
    });
  }
  for (const key of keys) {
    if (!isValidKmsKey(key)) out.push({ message: `"${key}" is not a valid KMS Key Id.`, key: 'kms_key_id' });
  }
  return out;
}
