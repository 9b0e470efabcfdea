/** The DeploymentScope rule: which KMS key references a deployment accepts, and when the rule applies at all. */
import { describe, expect, it } from 'vitest';
import { UnknownValue } from '../../../core/template/model.ts';
import { DeploymentScope, kmsKeyProblem } from '../../../core/validation/rules/DeploymentScope.ts';
import { build, EBS_CONFIG, template } from '../plan/template-builders.ts';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const MRK = 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const ALLOWED = [KEY, MRK];

describe('kmsKeyProblem', () => {
  it.each([
    [KEY, 'us-east-1'],
    [KEY, undefined],
    [MRK, 'eu-west-1'],
    ['1234abcd-12ab-34cd-56ef-1234567890ab', 'us-east-1'],
    ['1234abcd-12ab-34cd-56ef-1234567890ab', undefined],
    ['mrk-1234abcd12ab34cd56ef1234567890ab', 'eu-west-1'],
  ])('accepts %s (region %s)', (value, region) => {
    expect(kmsKeyProblem(value, region, ALLOWED)).toBeUndefined();
  });

  // Hostile or mistaken references: each must be refused, never matched loosely.
  it.each([
    ['same key id, other account', KEY.replace('111122223333', '444455556666'), 'us-east-1'],
    ['same key id, other region', KEY.replace('us-east-1', 'us-west-2'), 'us-west-2'],
    ['other partition', KEY.replace('arn:aws:', 'arn:aws-us-gov:'), 'us-east-1'],
    ['trailing space', `${KEY} `, 'us-east-1'],
    ['upper-case key id', KEY.toUpperCase(), 'us-east-1'],
    ['key id prefix', '1234abcd', 'us-east-1'],
    ['bare id used in another region', '1234abcd-12ab-34cd-56ef-1234567890ab', 'eu-west-1'],
    ['alias name', 'alias/aws/ebs', 'us-east-1'],
    ['alias ARN', 'arn:aws:kms:us-east-1:111122223333:alias/builds', 'us-east-1'],
    ['wildcard', '*', 'us-east-1'],
    ['ARN with a wildcard key', 'arn:aws:kms:us-east-1:111122223333:key/*', 'us-east-1'],
    ['empty allow-list entry match attempt', '', 'us-east-1'],
  ])('refuses %s', (_name, value, region) => {
    expect(kmsKeyProblem(value, region, ALLOWED)).toMatch(/not a key this Kiln deployment may use|is a KMS alias/);
  });

  it('says when the deployment allows no key at all', () => {
    expect(kmsKeyProblem(KEY, 'us-east-1', [])).toContain('This deployment allows none');
  });
});

describe('DeploymentScope', () => {
  const ebs = (extra: Record<string, unknown>) =>
    template([build({ builderType: 'amazon-ebs', config: { ...EBS_CONFIG, region: 'us-east-1', ...extra } })]);

  it('does nothing outside the pipeline (plain `kiln validate` behaves like Packer)', () => {
    expect(
      DeploymentScope(ebs({ iam_instance_profile: 'admin', kms_key_id: 'alias/x' }), { fileExists: () => true }),
    ).toEqual([]);
  });

  it('refuses instance profiles in the pipeline even without a deployment (kiln validate --pipeline)', () => {
    const ds = DeploymentScope(ebs({ iam_instance_profile: 'admin' }), {
      fileExists: () => true,
      confinement: { root: '/tmp' },
    });
    expect(ds.map((d) => d.summary)).toEqual(['Unsupported argument "iam_instance_profile" in the Kiln pipeline']);
  });

  it('checks keys only when it knows the deployment', () => {
    const t = ebs({ kms_key_id: 'alias/x', encrypt_boot: true });
    expect(DeploymentScope(t, { fileExists: () => true, confinement: { root: '/tmp' } })).toEqual([]);
    expect(DeploymentScope(t, { fileExists: () => true, deployment: { kmsKeyArns: ALLOWED } })).toHaveLength(1);
  });

  it('skips a key only known at run time and other builders', () => {
    const deployment = { kmsKeyArns: ALLOWED };
    expect(
      DeploymentScope(ebs({ kms_key_id: new UnknownValue('data.x.id') }), { fileExists: () => true, deployment }),
    ).toEqual([]);
    const docker = template([build({ builderType: 'docker', config: { image: 'x', kms_key_id: 'alias/x' } })]);
    expect(DeploymentScope(docker, { fileExists: () => true, deployment })).toEqual([]);
  });

  it('reports every block device key that is not allowed, naming the device', () => {
    const ds = DeploymentScope(
      ebs({
        ami_block_device_mappings: [
          { device_name: '/dev/sdb', encrypted: true, kms_key_id: KEY },
          { device_name: '/dev/sdc', encrypted: true, kms_key_id: 'alias/y' },
        ],
      }),
      { fileExists: () => true, deployment: { kmsKeyArns: ALLOWED } },
    );
    expect(ds).toHaveLength(1);
    expect(ds[0]?.detail).toContain('ami_block_device_mappings /dev/sdc kms_key_id');
  });
});
