/**
 * One rule for option values: what the validator accepts is what the plan stores typed and what the stages read.
 * Before this, `encrypt_boot = "t"` validated as true (Go's ParseBool) and ran as unset.
 */
import { describe, expect, it } from 'vitest';
import { amazonEbs } from '../../../core/builders/amazon-ebs.ts';
import { builderSpec } from '../../../core/builders/registry.ts';
import { planTemplate } from '../../../core/plan/plan.ts';
import { amiBuild, provisionerOf } from '../../../core/plan/typed.ts';
import type { PlannedBuild, PlannedProvisioner } from '../../../core/plan/types.ts';
import { PROVISIONERS } from '../../../core/provisioners/registry.ts';
import { items, known } from '../../../core/schema/decoded.ts';
import { UnknownValue } from '../../../core/template/model.ts';
import { buildCreateImageRequest } from '../../../functions/ec2-ami/create-image/image-request.ts';
import { build, EBS_CONFIG, template } from './template-builders.ts';

const ebs = amazonEbs;
if (builderSpec('amazon-ebs') !== ebs) throw new Error('amazon-ebs is registered');

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
  });

  it.each(['yes', 'on', 'TrUe', '2', ' true'])('encrypt_boot = %j is refused by the validator', (written) => {
    const config = { ...BASE, encrypt_boot: written };
    expect(ebs.validate(config, undefined, ctx()).some((d) => d.severity === 'error')).toBe(true);
  });

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
    expect(items(decoded.ami_regions)).toEqual(['us-west-2', 'eu-west-1']);
    const [mapping] = known(decoded.launch_block_device_mappings) ?? [];
    expect(mapping).toMatchObject({ volume_size: 40, delete_on_termination: false });
    expect(known(mapping?.volume_size)).toBe(40);
    expect(decoded.ami_description).toBe('{{ .SourceAMIName }}');
  });

  it('decodes blocks to one shape: a one-element list is the block, a lone block of a list is a list of one', () => {
    const decoded = ebs.decode(
      {
        ...BASE,
        source_ami_filter: [{ owners: 'self', most_recent: 'true' }],
        launch_block_device_mappings: { device_name: '/dev/xvda', volume_size: 8 },
      },
      'json',
    );
    expect(decoded.source_ami_filter).toEqual({ owners: ['self'], most_recent: true });
    expect(decoded.launch_block_device_mappings).toEqual([{ device_name: '/dev/xvda', volume_size: 8 }]);
  });

  it('stores a value known only at run time as the string plan.json holds, in memory too', () => {
    const decoded = ebs.decode(
      {
        ...BASE,
        source_ami: new UnknownValue('data.amazon-ami.x.id'),
        ami_regions: [new UnknownValue('var.r')],
      },
      'hcl',
    );
    expect(decoded.source_ami).toBe('<unknown: data.amazon-ami.x.id>');
    expect(decoded.ami_regions).toEqual(['<unknown: var.r>']);
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
    const planned = amiBuild(plan.builds[0] as PlannedBuild);
    expect(planned.config.disable_stop_instance).toBe(true);
    const tags = { buildId: 'b', executionName: 'e', template: 't.json', index: 0, name: 'amazon-ebs' };
    // Not stopped first, so CreateImage must reboot for a consistent image.
    expect(buildCreateImageRequest(planned, 'i-0123', tags).NoReboot).toBe(false);
    const shell = provisionerOf(planned.provisioners[0] as PlannedProvisioner, 'shell');
    expect(shell.config.expect_disconnect).toBe(true);
    expect(shell.pauseBeforeSeconds).toBe(90);
    expect(PROVISIONERS.get('shell')?.decode({ environment_vars: 'A=1' }, 'json').environment_vars).toEqual(['A=1']);
  });
});

function ctx() {
  return { format: 'json' as const, templateDir: '/nowhere', fileExists: () => true };
}
