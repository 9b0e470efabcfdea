/**
 * amazon-ebs's cross-field rules (core/builders/rules/amazon/), cdk-nag style: one table per rule, compliant
 * configurations it must pass and non-compliant ones it must refuse with exactly its own message and key.
 */
import { describe, expect, it } from 'vitest';
import { builderSpec } from '../../../../core/builders/registry.ts';
import { AmiName } from '../../../../core/builders/rules/amazon/AmiName.ts';
import { BlockDevices } from '../../../../core/builders/rules/amazon/BlockDevices.ts';
import { DefaultKeySharing } from '../../../../core/builders/rules/amazon/DefaultKeySharing.ts';
import { DeprecateAt } from '../../../../core/builders/rules/amazon/DeprecateAt.ts';
import { InstanceType } from '../../../../core/builders/rules/amazon/InstanceType.ts';
import { AMAZON_EBS_RULES } from '../../../../core/builders/rules/amazon/index.ts';
import { KmsKeys } from '../../../../core/builders/rules/amazon/KmsKeys.ts';
import { RegionKmsKeys } from '../../../../core/builders/rules/amazon/RegionKmsKeys.ts';
import { SecurityGroups } from '../../../../core/builders/rules/amazon/SecurityGroups.ts';
import { SessionManagerProfile } from '../../../../core/builders/rules/amazon/SessionManagerProfile.ts';
import { SourceAmi } from '../../../../core/builders/rules/amazon/SourceAmi.ts';
import { SpotPrice } from '../../../../core/builders/rules/amazon/SpotPrice.ts';
import { UserData } from '../../../../core/builders/rules/amazon/UserData.ts';
import { UnknownValue } from '../../../../core/template/model.ts';
import { ctx, describeRules, type RuleTable } from './table.ts';

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const TABLES: Record<string, RuleTable> = {
  AmiName: {
    rule: AmiName,
    compliant: [
      { ami_name: 'kiln-base' },
      { ami_name: 'kiln {{timestamp}}' },
      { ami_name: new UnknownValue('var.name') },
    ],
    nonCompliant: [
      [{}, [{ message: 'ami_name must be specified' }]],
      [{ ami_name: 'ab' }, [{ message: 'ami_name must be between 3 and 128 characters long', key: 'ami_name' }]],
      [
        { ami_name: 'kiln#base' },
        [{ message: expect.stringMatching(/^AMIName should only contain alphanumeric/), key: 'ami_name' }],
      ],
    ],
  },
  RegionKmsKeys: {
    rule: RegionKmsKeys,
    compliant: [
      { ami_regions: ['eu-west-1'] },
      { ami_regions: ['eu-west-1'], region_kms_key_ids: { 'eu-west-1': KEY_ARN } },
    ],
    nonCompliant: [
      [
        { region_kms_key_ids: { 'eu-west-1': KEY_ARN } },
        [{ message: 'Region eu-west-1 is in region_kms_key_ids but not in ami_regions', key: 'region_kms_key_ids' }],
      ],
      [
        { ami_regions: ['eu-west-1', 'us-west-2'], region_kms_key_ids: { 'eu-west-1': KEY_ARN } },
        [{ message: 'Region us-west-2 is in ami_regions but not in region_kms_key_ids', key: 'ami_regions' }],
      ],
    ],
  },
  DefaultKeySharing: {
    rule: DefaultKeySharing,
    compliant: [
      { ami_users: ['123456789012'] },
      { ami_users: ['123456789012'], encrypt_boot: true, kms_key_id: KEY_ARN },
      { snapshot_users: ['123456789012'], encrypt_boot: false },
    ],
    nonCompliant: [
      [
        { ami_org_arns: ['arn:aws:organizations::1:organization/o-1'], encrypt_boot: true },
        [{ message: 'Cannot share AMI encrypted with default KMS key', key: 'encrypt_boot' }],
      ],
      [
        { snapshot_users: ['123456789012'], encrypt_boot: true },
        [
          {
            message: expect.stringMatching(/^Cannot share snapshot encrypted with default KMS key/),
            key: 'snapshot_users',
          },
        ],
      ],
    ],
  },
  KmsKeys: {
    rule: KmsKeys,
    compliant: [
      {},
      { encrypt_boot: true, kms_key_id: KEY_ARN },
      { encrypt_boot: '{{user `enc`}}', kms_key_id: KEY_ARN },
    ],
    nonCompliant: [
      [
        { kms_key_id: KEY_ARN },
        [
          {
            message: 'If you have set either region_kms_key_ids or kms_key_id, encrypt_boot must also be true.',
            key: 'encrypt_boot',
          },
        ],
      ],
      [
        { encrypt_boot: true, region_kms_key_ids: { 'eu-west-1': 'not a key' } },
        [{ message: '"not a key" is not a valid KMS Key Id.', key: 'kms_key_id' }],
      ],
    ],
  },
  SourceAmi: {
    rule: SourceAmi,
    compliant: [
      { source_ami: 'ami-0123456789abcdef0' },
      { source_ami_filter: { owners: ['amazon'], filters: { name: 'al2023-*' } } },
      { source_ami_filter: [{ owners: ['amazon'] }] },
    ],
    nonCompliant: [
      [{}, [{ message: 'A source_ami or source_ami_filter must be specified' }]],
      [
        { source_ami: 'ami-0123456789abcdef0', source_ami_filter: { owners: ['amazon'] } },
        [{ message: 'Only one of source_ami or source_ami_filter may be specified', key: 'source_ami' }],
      ],
      [
        { source_ami: 'ami-0123456789abcdef0', source_ami_filter: { most_recent: true } },
        [{ message: 'For security reasons, you must declare an owner.', key: 'source_ami_filter' }],
      ],
    ],
  },
  InstanceType: {
    rule: InstanceType,
    compliant: [{ instance_type: 't3.micro' }, { spot_instance_types: ['t3.micro', 't3a.micro'] }],
    nonCompliant: [
      [{}, [{ message: 'either instance_type or spot_instance_types must be specified' }]],
      [
        { instance_type: 't3.micro', spot_instance_types: ['t3.micro'] },
        [{ message: 'instance_type and spot_instance_types cannot both be specified', key: 'instance_type' }],
      ],
    ],
  },
  UserData: {
    rule: UserData,
    compliant: [{}, { user_data: '#!/bin/sh' }, { user_data_file: 'user-data.sh' }],
    nonCompliant: [
      [
        { user_data: '#!/bin/sh', user_data_file: 'user-data.sh' },
        [{ message: 'Only one of user_data or user_data_file can be specified.', key: 'user_data' }],
      ],
      [
        { user_data_file: 'missing.sh' },
        [
          {
            message: 'user_data_file not found: missing.sh (stat missing.sh: no such file or directory)',
            key: 'user_data_file',
          },
        ],
      ],
    ],
  },
  SecurityGroups: {
    rule: SecurityGroups,
    compliant: [{ security_group_id: 'sg-1' }, { security_group_ids: ['sg-1', 'sg-2'] }],
    nonCompliant: [
      [
        { security_group_id: 'sg-1', security_group_ids: ['sg-2'] },
        [
          {
            message: 'Only one of security_group_id or security_group_ids can be specified.',
            key: 'security_group_id',
          },
        ],
      ],
    ],
  },
  SpotPrice: {
    rule: SpotPrice,
    compliant: [{}, { spot_price: 'auto' }, { spot_price: '0.05' }, { spot_price: '{{user `price`}}' }],
    nonCompliant: [
      [
        { spot_price: 'cheap' },
        [{ message: 'spot_price should be "auto" or a number; got "cheap"', key: 'spot_price' }],
      ],
    ],
  },
  SessionManagerProfile: {
    rule: SessionManagerProfile,
    compliant: [
      { ssh_interface: 'public_ip' },
      { ssh_interface: 'session_manager', iam_instance_profile: 'ssm' },
      { ssh_interface: 'session_manager', temporary_iam_instance_profile_policy_document: { Version: '2012-10-17' } },
    ],
    nonCompliant: [
      [
        { ssh_interface: 'session_manager' },
        [{ message: expect.stringMatching(/^no iam_instance_profile defined; session_manager/), key: 'ssh_interface' }],
      ],
    ],
  },
  DeprecateAt: {
    rule: DeprecateAt,
    compliant: [{}, { deprecate_at: '2030-01-01T00:00:00Z' }, { deprecate_at: new UnknownValue('var.when') }],
    nonCompliant: [
      [
        { deprecate_at: 'next year' },
        [{ message: 'deprecate_at: parsing time "next year" as RFC3339 failed', key: 'deprecate_at' }],
      ],
    ],
  },
  BlockDevices: {
    rule: BlockDevices,
    compliant: [
      {},
      { launch_block_device_mappings: [{ device_name: '/dev/xvda', volume_size: 20 }] },
      { ami_block_device_mappings: { device_name: '/dev/xvdb', encrypted: true, kms_key_id: KEY_ARN } },
    ],
    nonCompliant: [
      [
        { launch_block_device_mappings: [{ volume_size: 20 }] },
        [
          {
            message: 'The `device_name` must be specified for every device in the block device mapping.',
            key: 'launch_block_device_mappings',
          },
        ],
      ],
      [
        { ami_block_device_mappings: [{ device_name: '/dev/xvdb', kms_key_id: KEY_ARN }] },
        [
          {
            message: 'The device /dev/xvdb, must also have `encrypted: true` when setting a kms_key_id.',
            key: 'ami_block_device_mappings',
          },
        ],
      ],
    ],
  },
};

describeRules('amazon-ebs', TABLES);

describe('amazon-ebs rules as the builder runs them', () => {
  it('has a table for every rule it runs', () => {
    expect(AMAZON_EBS_RULES.map((r) => r.name)).toEqual(Object.keys(TABLES));
  });

  it('reports every rule’s findings through the builder, in rule order', () => {
    const spec = builderSpec('amazon-ebs');
    const messages = spec
      ?.validate({ ami_name: 'ab', spot_price: 'cheap', communicator: 'none', region: 'us-east-1' }, undefined, ctx)
      .map((d) => d.summary);
    expect(messages).toEqual([
      'ami_name must be between 3 and 128 characters long',
      'A source_ami or source_ami_filter must be specified',
      'either instance_type or spot_instance_types must be specified',
      'spot_price should be "auto" or a number; got "cheap"',
    ]);
  });
});
