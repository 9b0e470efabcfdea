/** An AMI or snapshot encrypted with the default KMS key cannot be shared with other accounts. */
import type { Finding } from '../../../schema/spec.ts';
import { isSet, isTrue, knownString, stringMap } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function DefaultKeySharing(config: Config): Finding[] {
  const out: Finding[] = [];
  const encrypt = isTrue(config.encrypt_boot);
  const kmsKey = knownString(config.kms_key_id) ?? '';
  const hasRegionKeys = Object.keys(stringMap(config.region_kms_key_ids)).length > 0;
  const sharesAmi = ['ami_users', 'ami_org_arns', 'ami_ou_arns'].some((k) => isSet(config[k]));
  if (sharesAmi && kmsKey === '' && !hasRegionKeys && encrypt) {
    out.push({ message: 'Cannot share AMI encrypted with default KMS key', key: 'encrypt_boot' });
  }
  if (isSet(config.snapshot_users) && kmsKey === '' && !hasRegionKeys && encrypt) {
    out.push({
      message:
        'Cannot share snapshot encrypted with default KMS key, see https://www.packer.io/docs/builders/amazon-ebs#region_kms_key_ids for more information',
      key: 'snapshot_users',
    });
  }
  return out;
}
