/** Cross-field checks of amazon-ebs, worded as packer-plugin-amazon's Prepare functions word them. */

import { isDeferred } from '../../schema/fields.ts';
import { missingFile, statError } from '../../schema/options.ts';
import type { Finding, ValidateContext } from '../../schema/spec.ts';
import { blockObject, isSet, isTrue, knownString, stringList, stringMap } from '../../schema/values.ts';
import type { Config } from '../../template/model.ts';
import { amiNameProblems, isValidKmsKey } from './ami-name.ts';

export function amiRules(config: Config): Finding[] {
  const out: Finding[] = [];
  const name = knownString(config.ami_name) ?? (typeof config.ami_name === 'string' ? config.ami_name : undefined);
  if (!isSet(config.ami_name)) out.push({ message: 'ami_name must be specified' });
  else if (name !== undefined) {
    for (const message of amiNameProblems(name)) out.push({ message, key: 'ami_name' });
  }

  const regions = stringList(config.ami_regions);
  const regionKeys = stringMap(config.region_kms_key_ids);
  const encrypt = isTrue(config.encrypt_boot);
  for (const region of Object.keys(regionKeys)) {
    if (!regions.includes(region)) {
      out.push({
        message: `Region ${region} is in region_kms_key_ids but not in ami_regions`,
        key: 'region_kms_key_ids',
      });
    }
  }
  if (Object.keys(regionKeys).length > 0) {
    for (const region of new Set(regions)) {
      if (!Object.hasOwn(regionKeys, region)) {
        out.push({ message: `Region ${region} is in ami_regions but not in region_kms_key_ids`, key: 'ami_regions' });
      }
    }
  }
  const kmsKey = knownString(config.kms_key_id) ?? '';
  const hasRegionKeys = Object.keys(regionKeys).length > 0;
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
  const keys = [kmsKey, ...Object.values(regionKeys).map((v) => knownString(v) ?? '')].filter((k) => k !== '');
  if (keys.length > 0 && !encrypt && !isDeferred(config.encrypt_boot)) {
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

export function runRules(config: Config, ctx: ValidateContext): Finding[] {
  const out: Finding[] = [];
  const hasAmi = isSet(config.source_ami);
  const filter = blockObject(config.source_ami_filter);
  const hasFilter = filter !== undefined && (isSet(filter.filters) || isSet(filter.owners));
  if (!hasAmi && !hasFilter) out.push({ message: 'A source_ami or source_ami_filter must be specified' });
  if (hasAmi && hasFilter) {
    // Packer itself would combine both (the id becomes one more filter); Kiln's planner records one source.
    out.push({ message: 'Only one of source_ami or source_ami_filter may be specified', key: 'source_ami' });
  }
  if (filter && !isSet(filter.owners) && !isSet(filter.filters)) {
    out.push({ message: 'For security reasons, you must declare an owner.', key: 'source_ami_filter' });
  }
  const spot = isSet(config.spot_instance_types);
  if (!isSet(config.instance_type) && !spot) {
    out.push({ message: 'either instance_type or spot_instance_types must be specified' });
  }
  if (isSet(config.instance_type) && spot) {
    out.push({ message: 'instance_type and spot_instance_types cannot both be specified', key: 'instance_type' });
  }
  if (isSet(config.user_data) && isSet(config.user_data_file)) {
    out.push({ message: 'Only one of user_data or user_data_file can be specified.', key: 'user_data' });
  }
  const userDataFile = knownString(config.user_data_file);
  if (userDataFile && missingFile(ctx, userDataFile)) {
    out.push({
      message: `user_data_file not found: ${userDataFile} (${statError(userDataFile)})`,
      key: 'user_data_file',
    });
  }
  if (isSet(config.security_group_id) && isSet(config.security_group_ids)) {
    out.push({
      message: 'Only one of security_group_id or security_group_ids can be specified.',
      key: 'security_group_id',
    });
  }
  const spotPrice = knownString(config.spot_price);
  if (spotPrice && spotPrice !== 'auto' && !Number.isFinite(Number(spotPrice))) {
    out.push({ message: `spot_price should be "auto" or a number; got "${spotPrice}"`, key: 'spot_price' });
  }
  if (
    knownString(config.ssh_interface) === 'session_manager' &&
    !isSet(config.iam_instance_profile) &&
    !isSet(config.temporary_iam_instance_profile_policy_document)
  ) {
    out.push({
      message:
        'no iam_instance_profile defined; session_manager connectivity requires a valid instance profile with AmazonSSMManagedInstanceCore permissions. Alternatively a temporary_iam_instance_profile_policy_document can be specified.',
      key: 'ssh_interface',
    });
  }
  const deprecateAt = knownString(config.deprecate_at);
  if (deprecateAt && Number.isNaN(Date.parse(deprecateAt))) {
    out.push({ message: `deprecate_at: parsing time "${deprecateAt}" as RFC3339 failed`, key: 'deprecate_at' });
  }
  return out;
}

export function blockDeviceRules(config: Config): Finding[] {
  const out: Finding[] = [];
  for (const key of ['launch_block_device_mappings', 'ami_block_device_mappings'] as const) {
    const raw = config[key];
    const devices = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : [];
    for (const device of devices) {
      if (!device || typeof device !== 'object') continue;
      const d = device as Record<string, unknown>;
      if (!isSet(d.device_name)) {
        out.push({ message: 'The `device_name` must be specified for every device in the block device mapping.', key });
      }
      if (isSet(d.kms_key_id) && !isTrue(d.encrypted)) {
        out.push({
          message: `The device ${knownString(d.device_name) ?? ''}, must also have \`encrypted: true\` when setting a kms_key_id.`,
          key,
        });
      }
    }
  }
  return out;
}
