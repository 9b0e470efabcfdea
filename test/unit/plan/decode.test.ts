/**
 * One rule for option values: what the validator accepts is what the plan stores typed and what the stages read.
 * Before this, `encrypt_boot = "t"` validated as true (Go's ParseBool) and ran as unset.
 */
import { describe, expect, it } from 'vitest';
import { builderSpec } from '../../../core/builders/registry.ts';
import { planTemplate } from '../../../core/plan/plan.ts';
import { PROVISIONERS } from '../../../core/provisioners/registry.ts';
import { buildCreateImageRequest } from '../../../functions/ec2-ami/create-image/image-request.ts';
import { bool, num, strList } from '../../../functions/lib/config.ts';
import { build, EBS_CONFIG, template } from './template-builders.ts';

const ebs = builderSpec('amazon-ebs');
if (!ebs) throw new Error('amazon-ebs is registered');

const BASE = { ...EBS_CONFIG, ami_name: 'kiln-decode-test' };

describe('plan-time decoding of option values', () => {
  it.each([
    ['1', true],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['true', true],
    ['True', true],
    [1, true],
    [true, true],
    ['0', false],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['false', false],
    ['False', false],
    ['', false],
    [0, false],
    [false, false],
  ])('encrypt_boot = %j validates and is stored as %s, and the stages read the same', (written, expected) => {
    const config = { ...BASE, encrypt_boot: written };
    expect(ebs.validate(config, undefined, ctx()).filter((d) => d.severity === 'error')).toEqual([]);
    const decoded = ebs.decode(config, 'json');
    expect(decoded.encrypt_boot).toBe(expected);
    expect(bool(decoded, 'encrypt_boot')).toBe(expected);
    // Read raw by a stage (a value rendered at run time), the same rule applies.
    expect(bool(config, 'encrypt_boot')).toBe(expected);
  });

  it.each(['yes', 'on', 'TrUe', '2', ' true'])(
    'encrypt_boot = %j is refused by the validator and read as unset',
    (written) => {
      const config = { ...BASE, encrypt_boot: written };
      expect(ebs.validate(config, undefined, ctx()).some((d) => d.severity === 'error')).toBe(true);
      expect(bool(config, 'encrypt_boot')).toBeUndefined();
    },
  );

  it('decodes ints, lists and nested blocks, and keeps run-time values as written', () => {
    const decoded = ebs.decode(
      {
        ...BASE,
        ami_regions: 'us-west-2,eu-west-1',
        launch_block_device_mappings: [{ device_name: '/dev/xvda', volume_size: '40', delete_on_termination: 'f' }],
        ami_description: '{{ .SourceAMIName }}',
      },
      'json',
    );
    expect(strList(decoded, 'ami_regions')).toEqual(['us-west-2', 'eu-west-1']);
    const [mapping] = decoded.launch_block_device_mappings as Record<string, unknown>[];
    expect(mapping).toMatchObject({ volume_size: 40, delete_on_termination: false });
    expect(num(mapping ?? {}, 'volume_size')).toBe(40);
    expect(decoded.ami_description).toBe('{{ .SourceAMIName }}');
  });

  it('plans decoded values: disable_stop_instance = "t" reaches CreateImage, expect_disconnect = "1" the provisioner', () => {
    const plan = planTemplate(
      template([
        build({
          builderType: 'amazon-ebs',
          config: { ...EBS_CONFIG, disable_stop_instance: 't' },
          provisioners: [{ type: 'shell', config: { inline: ['true'], expect_disconnect: '1' }, pauseBefore: '1m30s' }],
        }),
      ]),
    );
    const [planned] = plan.builds;
    expect(planned?.config.disable_stop_instance).toBe(true);
    const tags = { buildId: 'b', executionName: 'e', template: 't.json', index: 0, name: 'amazon-ebs' };
    // Not stopped first, so CreateImage must reboot for a consistent image.
    expect(buildCreateImageRequest(planned?.config ?? {}, 'i-0123', tags).NoReboot).toBe(false);
    expect(planned?.provisioners[0]?.config.expect_disconnect).toBe(true);
    expect(planned?.provisioners[0]?.pauseBeforeSeconds).toBe(90);
    expect(PROVISIONERS.get('shell')?.decode({ environment_vars: 'A=1' }, 'json').environment_vars).toEqual(['A=1']);
  });
});

function ctx() {
  return { format: 'json' as const, templateDir: '/nowhere', fileExists: () => true };
}
