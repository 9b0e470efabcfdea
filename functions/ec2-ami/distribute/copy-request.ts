/**
 * Pure construction of the CopyImage request per target region (Packer's StepAMIRegionCopy).
 */
import type { CopyImageCommandInput } from '@aws-sdk/client-ec2';
import type { AmazonEbsConfig } from '../../../core/builders/amazon-ebs.ts';
import { known } from '../../../core/schema/decoded.ts';

/** `ami_regions` (deduplicated in the plan, `ami.copyRegions`) without the source region, in template order. */
export function targetRegions(copyRegions: readonly string[], sourceRegion: string): string[] {
  return copyRegions.filter((r) => r !== sourceRegion);
}

export function buildCopyImageRequest(
  config: AmazonEbsConfig,
  args: { sourceImageId: string; sourceRegion: string; targetRegion: string; name: string; clientToken: string },
): CopyImageCommandInput {
  const regionKeys = known(config.region_kms_key_ids) ?? {};
  const regionKey = regionKeys[args.targetRegion];
  // kms_key_id names a key of the source region only (KMS keys are regional): as in Packer, a copy uses its
  // region's entry of region_kms_key_ids, else that region's default EBS key.
  const kmsKeyId = typeof regionKey === 'string' && regionKey !== '' ? regionKey : undefined;
  const encrypt = known(config.encrypt_boot) ?? (kmsKeyId !== undefined || config.kms_key_id ? true : undefined);
  const description = config.ami_description || undefined;
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
