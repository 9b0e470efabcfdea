import { describe, expect, it } from 'vitest';
import { PLAN_COLUMNS, planRows, renderPlanText } from '../../../cli/plan-render.ts';
import type { BuildPlan, PlannedBuild } from '../../../core/plan/types.ts';

const planned = (name: string, driver: PlannedBuild['driver'], summary: PlannedBuild['summary']): PlannedBuild => {
  const common = {
    name,
    provisioners: [{ index: 0, type: 'shell' as const, config: {}, files: [], maxRetries: 0 }],
    postProcessors: [],
    summary,
    sensitivePaths: [],
  };
  return driver === 'ec2-ami'
    ? { ...common, builderType: 'amazon-ebs', driver, config: {}, ami: { copyRegions: [] } }
    : { ...common, builderType: name, driver, config: {} };
};

const plan: BuildPlan = {
  version: 1,
  format: 'json',
  templatePath: 'examples/x.json',
  builds: [
    planned('amazon-ebs', 'ec2-ami', {
      instanceType: 't3.micro',
      sourceAmi: 'ami-123',
      amiName: 'web-{{timestamp}}',
      regions: ['us-east-1', 'eu-west-1'],
    }),
    planned('docker', 'ec2-docker', { image: 'python:3.9-slim', ecrRepository: 'my-python-app' }),
    planned('vmware-iso', 'agent', { agentLabels: ['builder:vmware-iso'] }),
  ],
  files: [{ path: '/t/setup.sh', relativePath: 'setup.sh', size: 12 }],
  warnings: [],
};

describe('plan rendering', () => {
  it('gives one row per build with the driver-specific facts, dashes where they do not apply', () => {
    expect(planRows(plan)).toEqual([
      ['amazon-ebs', 'ec2-ami', 't3.micro', 'ami-123', 'web-{{timestamp}}', 'us-east-1, eu-west-1', '-', '-'],
      ['docker', 'ec2-docker', '-', 'python:3.9-slim', '-', '-', 'my-python-app', '-'],
      ['vmware-iso', 'agent', '-', '-', '-', '-', '-', 'builder:vmware-iso'],
    ]);
  });

  it('prints the header, each build and the staged files', () => {
    const text = renderPlanText(plan);
    for (const column of PLAN_COLUMNS) expect(text).toContain(column);
    expect(text).toContain('docker: 1 provisioner(s): shell');
    expect(text).toContain('setup.sh (12 bytes)');
  });
});
