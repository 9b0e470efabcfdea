/**
 * Reading the plan's typed configuration: options are decoded once, at plan time, by the rule the validator uses
 * (Go's ParseBool, mapstructure's weak decoding, core/schema/decode.ts), and the stages read the decoded
 * values. What is left for run time (a string in the plan) or null reads as absent, never JavaScript truthiness.
 */
import { describe, expect, it } from 'vitest';
import { amazonEbs, amiFacts } from '../../../core/builders/amazon-ebs.ts';
import { items, known } from '../../../core/schema/decoded.ts';
import { buildCreateImageRequest } from '../../../functions/ec2-ami/create-image/image-request.ts';
import { targetRegions } from '../../../functions/ec2-ami/distribute/copy-request.ts';

const TAGS = { buildId: 'b-1', executionName: 'e-1', template: 't.pkr.hcl', index: 0, name: 'amazon-ebs.web' };

function planned(raw: Record<string, unknown>) {
  const config = amazonEbs.decode(raw, 'json');
  return { config, ami: amiFacts(config) };
}

describe('known', () => {
  it.each([
    [true, true],
    [false, false],
    [0, 0],
    [3, 3],
    [{ a: 'b' }, { a: 'b' }],
    ['{{ .SourceAMIName }}', undefined],
    ['<unknown: data.amazon-ami.x.id>', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('reads the decoded value %j as %j', (value, expected) => {
    expect(known(value as never)).toEqual(expected);
  });
});

describe('items', () => {
  it('drops null items and keeps every string as written', () => {
    expect(items(['a', null, '', ' b'])).toEqual(['a', '', ' b']);
    expect(items(undefined)).toEqual([]);
    expect(items(null)).toEqual([]);
  });

  it("splits a list left for run time as Packer's string → []string hook does: commas, no trimming", () => {
    expect(items('a, b,,c')).toEqual(['a', ' b', '', 'c']);
    expect(items('')).toEqual([]);
  });
});

describe('one rule from template to stage', () => {
  it.each([
    ['false', true],
    [false, true],
    ['f', true],
    ['0', true],
    ['true', false],
    ['T', false],
    [true, false],
  ])('disable_stop_instance = %j gives NoReboot %j (the string "false" is false)', (value, noReboot) => {
    const build = planned({ disable_stop_instance: value });
    expect(buildCreateImageRequest(build, 'i-0123456789abcdef0', TAGS).NoReboot).toBe(noReboot);
  });

  it('ami_regions written as one string is split like Packer (no trimming) once, at plan time', () => {
    // Before typed configuration, a stage re-split strings and trimmed each item; Packer does not trim.
    const build = planned({ region: 'us-east-1', ami_regions: 'us-east-1,eu-west-1, eu-west-1' });
    expect(build.config.ami_regions).toEqual(['us-east-1', 'eu-west-1', ' eu-west-1']);
    expect(build.ami).toEqual({ region: 'us-east-1', copyRegions: ['us-east-1', 'eu-west-1', ' eu-west-1'] });
    expect(targetRegions(build.ami.copyRegions, 'us-east-1')).toEqual(['eu-west-1', ' eu-west-1']);
  });

  it('names the AMI from the planned ami_name, or kiln-<build id>-<index> without one', () => {
    expect(buildCreateImageRequest(planned({ ami_name: 'web 1' }), 'i-1', TAGS).Name).toBe('web 1');
    expect(buildCreateImageRequest(planned({ ami_name: '' }), 'i-1', TAGS).Name).toBe('kiln-b-1-0');
  });

  it('block device sizes written as strings reach EC2 as numbers; a run-time size is left to EC2', () => {
    const build = planned({
      ami_block_device_mappings: [
        { device_name: '/dev/sdb', volume_size: '40', delete_on_termination: 'f' },
        { device_name: '/dev/sdc', volume_size: '{{ .Size }}' },
      ],
    });
    const mappings = buildCreateImageRequest(build, 'i-1', TAGS).BlockDeviceMappings;
    expect(mappings?.[0]?.Ebs).toMatchObject({ VolumeSize: 40, DeleteOnTermination: false });
    expect(mappings?.[1]?.Ebs?.VolumeSize).toBeUndefined();
  });
});
