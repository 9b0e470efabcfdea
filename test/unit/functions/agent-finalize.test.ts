import { describe, expect, it } from 'vitest';
import { artifactIdFor, assertArtifact } from '../../../core/image-registry/artifact.ts';
import { channelParameters } from '../../../core/image-registry/parameter.ts';
import { artifactOf } from '../../../functions/common/finalize/registry.ts';
import { type AgentState, buildStateSchema } from '../../../functions/lib/build-state.ts';

function agentState(artifacts: unknown[] | undefined): AgentState {
  const state = buildStateSchema.parse({
    buildId: 'kb-agent',
    executionName: 'exec',
    planKey: 'builds/kb-agent/plan.json',
    index: 0,
    name: 'vmware-iso.ubuntu',
    driver: 'agent',
    ...(artifacts ? { agent: { jobId: 'kj-1', agentId: 'ag-lab', attempt: 1, artifacts } } : {}),
  });
  if (state.driver !== 'agent') throw new Error('not an agent state');
  return state;
}

describe('agent artifacts in the image registry (Finalize)', () => {
  it('lists the files packer reported: uploaded ones by their S3 location, the others on the agent host', () => {
    const state = agentState([
      {
        builderId: 'mitchellh.vmware',
        artifactId: 'VM files in directory: output-vmware',
        files: [
          { name: 'output-vmware/disk.vmdk', size: 10, key: 'agent-artifacts/kb-agent/vmware-iso.ubuntu/disk.vmdk' },
          { name: 'output-vmware/ubuntu.vmx' },
        ],
      },
      // The same file again under a second artifact (as packer's machine-readable output can report it).
      { builderId: 'mitchellh.vmware', artifactId: 'again', files: [{ name: 'output-vmware/ubuntu.vmx' }] },
    ]);
    const artifact = artifactOf('lab/ubuntu', state, '2026-12-02T00:00:00.000Z', undefined, 'kiln-artifacts');
    expect(artifact).toEqual({
      artifactId: artifactIdFor('kb-agent', 'vmware-iso.ubuntu'),
      template: 'lab/ubuntu',
      build: 'vmware-iso.ubuntu',
      buildId: 'kb-agent',
      createdAt: '2026-12-02T00:00:00.000Z',
      content: {
        kind: 'agent',
        files: [
          {
            name: 'output-vmware/disk.vmdk',
            location: 's3://kiln-artifacts/agent-artifacts/kb-agent/vmware-iso.ubuntu/disk.vmdk',
          },
          { name: 'output-vmware/ubuntu.vmx', location: 'agent://ag-lab/output-vmware/ubuntu.vmx' },
        ],
      },
    });
    // A sound record, and its channel publishes the artifact id (a text parameter in the home region).
    expect(() => assertArtifact(artifact as NonNullable<typeof artifact>)).not.toThrow();
    const params = channelParameters(
      { template: 'lab/ubuntu', build: 'vmware-iso.ubuntu', channel: 'latest' },
      artifact as NonNullable<typeof artifact>,
      'us-east-1',
    );
    expect(params).toEqual([
      expect.objectContaining({ region: 'us-east-1', value: artifact?.artifactId, dataType: 'text' }),
    ]);
  });

  it('records nothing for a build without files (the null builder) or without a job outcome', () => {
    expect(
      artifactOf('t', agentState([{ builderId: 'packer.null', artifactId: 'Null', files: [] }]), 'now'),
    ).toBeUndefined();
    expect(artifactOf('t', agentState(undefined), 'now')).toBeUndefined();
  });
});
