/**
 * The plan carries typed configuration: an amazon-ebs build its options decoded and its facts derived once, and
 * stages narrow a build or provisioner once, with a named error on the wrong kind instead of empty reads.
 */
import { describe, expect, it } from 'vitest';
import { planTemplate } from '../../../core/plan/plan.ts';
import { amiBuild, isAmiBuild, provisionerOf } from '../../../core/plan/typed.ts';
import type { PlannedBuild } from '../../../core/plan/types.ts';
import { build, EBS_CONFIG, template } from './template-builders.ts';

const NOW = new Date('2026-01-02T03:04:05Z');

function planned(...builds: Parameters<typeof build>[0][]): readonly PlannedBuild[] {
  // HCL: plan-time `{{ }}` functions left in values are rendered by the planner (JSON's front end does it itself).
  return planTemplate(template(builds.map(build), { format: 'hcl' }), { now: NOW }).builds;
}

describe('typed plan entries', () => {
  it('derives the ec2-ami facts once at plan time: region, rendered AMI name, copy regions without duplicates', () => {
    const [b] = planned({
      builderType: 'amazon-ebs',
      config: { ...EBS_CONFIG, ami_regions: ['eu-west-1', 'us-east-1', 'eu-west-1'] },
      provisioners: [{ type: 'shell', config: { inline: ['echo hi'], valid_exit_codes: [0] } }],
    });
    const ebs = amiBuild(b as PlannedBuild);
    expect(ebs.ami).toEqual({
      region: 'us-east-1',
      name: `kiln-base-${NOW.getTime() / 1000}`,
      copyRegions: ['eu-west-1', 'us-east-1'],
    });
    // The summary `kiln plan` shows is made of the same facts.
    expect(ebs.summary).toMatchObject({ amiName: ebs.ami.name, regions: ['us-east-1', 'eu-west-1'] });
    const shell = provisionerOf(ebs.provisioners[0] as PlannedBuild['provisioners'][number], 'shell');
    expect(shell.config).toMatchObject({ inline: ['echo hi'], valid_exit_codes: ['0'] });
    // What PrepareBuild stores reads back the same.
    expect(JSON.parse(JSON.stringify(ebs)).ami).toEqual(ebs.ami);
  });

  it('leaves the region and the AMI name to run time when the template sets neither', () => {
    const { region: _r, ami_name: _n, ...rest } = EBS_CONFIG;
    const [b] = planned({ builderType: 'amazon-ebs', config: rest });
    expect(amiBuild(b as PlannedBuild).ami).toEqual({ copyRegions: ['eu-west-1'] });
  });

  it('refuses to read a docker build as an amazon-ebs build, naming both', () => {
    const [b] = planned({ builderType: 'docker', config: { image: 'alpine', commit: true } });
    expect(isAmiBuild(b as PlannedBuild)).toBe(false);
    expect(() => amiBuild(b as PlannedBuild)).toThrow(
      expect.objectContaining({
        name: 'Kiln.DriverUnavailable',
        message: expect.stringMatching(/docker build \(driver ec2-docker\).*amazon-ebs/),
      }),
    );
  });

  it('refuses to read a provisioner as another type', () => {
    const [b] = planned({
      builderType: 'amazon-ebs',
      config: EBS_CONFIG,
      provisioners: [{ type: 'file', config: { source: 'files/app.conf', destination: '/etc/app.conf' } }],
    });
    const p = b?.provisioners[0];
    if (!p) throw new Error('planned');
    expect(() => provisionerOf(p, 'shell')).toThrow(
      expect.objectContaining({
        name: 'Kiln.ProvisionerFailed',
        message: 'Provisioner #0 is a file provisioner, not shell',
      }),
    );
  });
});
