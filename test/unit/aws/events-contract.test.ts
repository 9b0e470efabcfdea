import { describe, expect, it } from 'vitest';
import {
  ALL_KILN_DETAIL_TYPES,
  artifactRevokedEvent,
  buildEndedEvent,
  buildStartedEvent,
  channelUpdatedEvent,
  checkDetail,
  KILN_DETAIL_SCHEMAS,
  KILN_DETAIL_TYPES,
  MAX_EVENT_CAUSE,
} from '../../../aws/events-contract.ts';
import { SCHEDULE_DISABLED_DETAIL_TYPE, scheduleDisabledDetail } from '../../../aws/schedules.ts';

const template = { bucket: 'tpl', key: 'templates/web.pkr.hcl', versionId: 'v1' };
const ended = {
  buildId: 'kb-1',
  executionName: 'e-1',
  template,
  registryTemplate: 'web',
  trigger: 's3-upload',
  finishedAt: '2026-12-02T10:00:00.000Z',
  summary: '1 of 2 builds failed: b (Kiln.Timeout)',
  manifest: { bucket: 'art', key: 'manifests/kb-1/manifest.json', uri: 's3://art/manifests/kb-1/manifest.json' },
};

describe('Kiln event contract', () => {
  it('has one source, and a schema for each of the six detail-types', () => {
    expect(ALL_KILN_DETAIL_TYPES).toEqual([
      'Kiln Build Started',
      'Kiln Build Succeeded',
      'Kiln Build Failed',
      'Kiln Channel Updated',
      'Kiln Artifact Revoked',
      'Kiln Schedule Disabled',
    ]);
    expect(Object.keys(KILN_DETAIL_SCHEMAS).sort()).toEqual([...ALL_KILN_DETAIL_TYPES].sort());
    expect(SCHEDULE_DISABLED_DETAIL_TYPE).toBe(KILN_DETAIL_TYPES.scheduleDisabled);
  });

  it('builds a schema-valid Build Started', () => {
    const event = buildStartedEvent({
      buildId: 'kb-1',
      executionName: 'e-1',
      template,
      registryTemplate: 'web',
      trigger: 'schedule',
      schedule: 'nightly',
      startedAt: '2026-12-02T09:00:00.000Z',
      builds: [{ index: 0, name: 'amazon-ebs.web', driver: 'ec2-ami' }],
    });
    expect(event.detailType).toBe('Kiln Build Started');
    expect(event.detail).toMatchObject({ schemaVersion: 1, schedule: 'nightly' });
    expect(() => checkDetail(event.detailType, event.detail)).not.toThrow();
  });

  it('picks Succeeded or Failed by the status, and trims each cause', () => {
    const ok = buildEndedEvent({ ...ended, status: 'SUCCEEDED', builds: [{ name: 'a', status: 'SUCCEEDED' }] });
    expect(ok.detailType).toBe('Kiln Build Succeeded');
    const partial = buildEndedEvent({
      ...ended,
      status: 'PARTIAL',
      builds: [
        { name: 'a', status: 'SUCCEEDED', artifactId: 'us-east-1:ami-1' },
        { name: 'b', status: 'FAILED', error: 'Kiln.Timeout', cause: 'x'.repeat(5000) },
      ],
    });
    expect(partial.detailType).toBe('Kiln Build Failed');
    const cause = (partial.detail as { builds: { cause?: string }[] }).builds[1]?.cause ?? '';
    expect(cause).toHaveLength(MAX_EVENT_CAUSE);
    expect(cause.endsWith('…')).toBe(true);
    expect(buildEndedEvent({ ...ended, status: 'FAILED', builds: [] }).detailType).toBe('Kiln Build Failed');
    for (const e of [ok, partial]) expect(() => checkDetail(e.detailType, e.detail)).not.toThrow();
  });

  it('builds Channel Updated from a channel change, without previousArtifactId on a first assignment', () => {
    const change = {
      template: 'web',
      build: 'amazon-ebs.web',
      channel: 'prod',
      version: 1,
      action: 'promote' as const,
      artifactId: 'ka-0123456789abcdef',
      at: '2026-12-02T10:00:00.000Z',
    };
    const parameters = [
      {
        region: 'us-east-1',
        name: '/kiln/web/amazon-ebs.web/prod',
        value: 'ami-1',
        dataType: 'aws:ec2:image' as const,
      },
    ];
    const first = channelUpdatedEvent(change, parameters, { by: 'cli' });
    expect(first.detail).not.toHaveProperty('previousArtifactId');
    expect(first.detail).not.toHaveProperty('buildId');
    const second = channelUpdatedEvent(
      { ...change, version: 2, action: 'rollback', replaced: 'ka-1111111111111111' },
      parameters,
      { by: 'pipeline', buildId: 'kb-9' },
    );
    expect(second.detail).toMatchObject({
      previousArtifactId: 'ka-1111111111111111',
      channelVersion: 2,
      by: 'pipeline',
      buildId: 'kb-9',
    });
    for (const e of [first, second]) expect(() => checkDetail(e.detailType, e.detail)).not.toThrow();
  });

  it('builds Artifact Revoked for AMIs and container images (pinned by digest), naming the cascade root', () => {
    const base = { artifactId: 'ka-2', template: 'web', build: 'b', buildId: 'kb-2' };
    const ami = artifactRevokedEvent(
      {
        ...base,
        content: { kind: 'ami', images: [{ region: 'us-east-1', imageId: 'ami-1', snapshotIds: ['snap-1'] } as never] },
      },
      { revokedAt: '2026-12-02T10:00:00.000Z', reason: 'CVE-2026-1', cascadeFrom: 'ka-1' },
    );
    expect(ami.detail).toMatchObject({
      kind: 'ami',
      images: [{ region: 'us-east-1', imageId: 'ami-1' }],
      cascadeFrom: 'ka-1',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    const image = artifactRevokedEvent(
      { ...base, content: { kind: 'container-image', imageUri: '1.dkr.ecr.us-east-1.amazonaws.com/app:v1', digest } },
      { revokedAt: '2026-12-02T10:00:00.000Z', cascadeFrom: 'ka-2' },
    );
    expect(image.detail).toMatchObject({
      kind: 'container-image',
      images: [],
      imageUri: `1.dkr.ecr.us-east-1.amazonaws.com/app@${digest}`,
    });
    // The root of a cascade is not its own cascade.
    expect(image.detail).not.toHaveProperty('cascadeFrom');
    for (const e of [ami, image]) expect(() => checkDetail(e.detailType, e.detail)).not.toThrow();
  });

  it("checks Schedule Disabled's existing detail, and refuses a detail missing a field", () => {
    const detail = scheduleDisabledDetail({
      schedule: 's',
      group: 'kiln',
      template: { bucket: 'b', key: 'k' },
      failedBuilds: ['kb-3', 'kb-2', 'kb-1'],
      limit: 3,
      disabledAt: '2026-12-02T10:00:00.000Z',
    });
    expect(() => checkDetail(KILN_DETAIL_TYPES.scheduleDisabled, detail)).not.toThrow();
    const { buildId: _gone, ...missing } = buildStartedEvent({
      buildId: 'kb-1',
      executionName: 'e',
      template,
      registryTemplate: 'web',
      trigger: 'request',
      startedAt: 'now',
      builds: [],
    }).detail as { buildId: string };
    expect(() => checkDetail(KILN_DETAIL_TYPES.buildStarted, missing)).toThrow(/buildId/);
  });
});
