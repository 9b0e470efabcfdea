/**
 * amazon-ebs's cross-field rules, one per file, worded as packer-plugin-amazon's Prepare functions word them;
 * in the order their findings are reported (Packer's: AMI config, run config, block devices).
 */
import type { ComponentRule } from '../../../schema/spec.ts';
import { AmiName } from './AmiName.ts';
import { BlockDevices } from './BlockDevices.ts';
import { DefaultKeySharing } from './DefaultKeySharing.ts';
import { DeprecateAt } from './DeprecateAt.ts';
import { InstanceType } from './InstanceType.ts';
import { KmsKeys } from './KmsKeys.ts';
import { RegionKmsKeys } from './RegionKmsKeys.ts';
import { SecurityGroups } from './SecurityGroups.ts';
import { SessionManagerProfile } from './SessionManagerProfile.ts';
import { SourceAmi } from './SourceAmi.ts';
import { SpotPrice } from './SpotPrice.ts';
import { UserData } from './UserData.ts';

export const AMAZON_EBS_RULES: readonly ComponentRule[] = [
  AmiName,
  RegionKmsKeys,
  DefaultKeySharing,
  KmsKeys,
  SourceAmi,
  InstanceType,
  UserData,
  SecurityGroups,
  SpotPrice,
  SessionManagerProfile,
  DeprecateAt,
  BlockDevices,
];
