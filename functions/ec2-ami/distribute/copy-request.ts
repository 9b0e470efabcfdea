/**
 * Pure construction of the CopyImage request per target region (Packer's StepAMIRegionCopy).
 */
import type { CopyImageCommandInput } from '@aws-sdk/client-ec2';
import { bool, type Config, obj, str, strList } from '../../lib/config.ts';

/** `ami_regions` without the source region and duplicates, in template order. */
export function targetRegions(config: Config, sourceRegion: string): string[] {
  return [...new Set(strList(config, 'ami_regions'))].filter((r) => r !== sourceRegion);
}

export function buildCopyImageRequest(
  config: Config,
  args: { sourceImageId: string; sourceRegion: string; targetRegion: string; name: string; clientToken: string },
): CopyImageCommandInput {
  const regionKeys = obj(config, 'region_kms_key_ids') ?? {};
  const regionKey = regionKeys[args.targetRegion];
  // kms_key_id names a key of the source region only (KMS keys are regional): as in Packer, a copy uses its
  // region's entry of region_kms_key_ids, else that region's default EBS key.
  const kmsKeyId = typeof regionKey === 'string' && regionKey !== '' ? regionKey : undefined;
  const encrypt =
    bool(config, 'encrypt_boot') ?? (kmsKeyId !== undefined || str(config, 'kms_key_id') ? true : undefined);
  const description = str(config, 'ami_description');
  return {
    SourceImageId: args.sourceImageId,
    SourceRegion: args.sourceRegion,
    Name: args.name,
    ...(description ? { Description: description } : {}),
    ClientToken: args.clientToken,
    ...(encrypt !== undefined ? { Encrypted: encrypt } : {}),
    // A key only makes sense for an encrypted copy.
    ...(encrypt && kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
  };
}
