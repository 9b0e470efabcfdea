import { describe, expect, it } from 'vitest';
import { InputInvalidError } from '../../../core/errors.ts';
import { amiArtifactId, buildManifest, parseManifest } from '../../../core/manifest/manifest.ts';

const T = new Date('2026-01-02T03:04:05Z');

describe('manifest', () => {
  it('writes the AMI artifact id as sorted region:ami pairs', () => {
    expect(amiArtifactId({ 'us-west-2': 'ami-2', 'eu-west-1': 'ami-1' })).toBe('eu-west-1:ami-1,us-west-2:ami-2');
  });

  it('builds Packer-shaped entries: unix build_time, null files and custom_data when absent', () => {
    const m = buildManifest(
      [
        {
          name: 'amazon-ebs.ubuntu',
          builderType: 'amazon-ebs',
          buildTime: T,
          runUuid: 'run-1',
          amis: { 'us-east-1': 'ami-9' },
        },
      ],
      'run-1',
    );
    expect(m).toEqual({
      builds: [
        {
          name: 'amazon-ebs.ubuntu',
          builder_type: 'amazon-ebs',
          build_time: T.getTime() / 1000,
          files: null,
          artifact_id: 'us-east-1:ami-9',
          packer_run_uuid: 'run-1',
          custom_data: null,
        },
      ],
      last_run_uuid: 'run-1',
    });
  });

  it('keeps files and custom data, stripping paths when asked', () => {
    const [entry] = buildManifest(
      [
        {
          name: 'vmware-iso',
          builderType: 'vmware-iso',
          buildTime: T,
          runUuid: 'r',
          artifactId: 'VM',
          files: [{ name: 'output-vmware/disk.vmdk', size: 10 }],
          customData: { team: 'web' },
          stripPath: true,
        },
      ],
      'r',
    ).builds;
    expect(entry?.files).toEqual([{ name: 'disk.vmdk', size: 10 }]);
    expect(entry?.custom_data).toEqual({ team: 'web' });
    expect(entry?.artifact_id).toBe('VM');
  });

  it("keeps an agent upload's key per file as kiln_uploaded, only where there is one", () => {
    const [entry] = buildManifest(
      [
        {
          name: 'file.example',
          builderType: 'file',
          buildTime: T,
          runUuid: 'r',
          artifactId: 'File',
          files: [
            { name: 'out/notes.txt', size: 3, kiln_uploaded: 'agent-artifacts/b-1/file.example/out/notes.txt' },
            { name: 'out/other.txt', size: 1 },
          ],
        },
      ],
      'r',
    ).builds;
    expect(entry?.files).toEqual([
      { name: 'out/notes.txt', size: 3, kiln_uploaded: 'agent-artifacts/b-1/file.example/out/notes.txt' },
      { name: 'out/other.txt', size: 1 },
    ]);
  });

  it('appends to an existing manifest and moves last_run_uuid, without mutating it', () => {
    const first = buildManifest(
      [{ name: 'a', builderType: 'docker', buildTime: T, runUuid: 'r1', artifactId: 'sha256:1' }],
      'r1',
    );
    const second = buildManifest(
      [{ name: 'a', builderType: 'docker', buildTime: T, runUuid: 'r2', artifactId: 'sha256:2' }],
      'r2',
      first,
    );
    expect(second.builds.map((b) => [b.packer_run_uuid, b.artifact_id])).toEqual([
      ['r1', 'sha256:1'],
      ['r2', 'sha256:2'],
    ]);
    expect(second.last_run_uuid).toBe('r2');
    expect(first.builds).toHaveLength(1);
  });

  it('parses an existing manifest file, treating an empty file as none and rejecting other shapes', () => {
    expect(parseManifest(undefined)).toBeUndefined();
    expect(parseManifest('  ')).toBeUndefined();
    expect(parseManifest('{"builds":[],"last_run_uuid":"x"}')?.last_run_uuid).toBe('x');
    expect(() => parseManifest('{"nope":1}')).toThrow(InputInvalidError);
  });
});
