import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  BUILD_RECORD_KEY,
  BUILD_START_CONDITION,
  buildOutcomeUpdate,
  buildStartItem,
  parseBuildRecord,
} from '../../../aws/build-records.ts';

const start = {
  buildId: 'kb-1',
  executionName: 'exec-1',
  template: { bucket: 'templates', key: 'templates/web.pkr.hcl', versionId: 'v7' },
  trigger: 's3-upload',
  createdAt: '2026-12-02T10:00:00.000Z',
  builds: [
    { index: 0, name: 'amazon-ebs.web', driver: 'ec2-ami' },
    { index: 1, name: 'docker.app', driver: 'ec2-docker' },
  ],
};

/** What DynamoDB does with the `SET #s = :s, a = :a, ...` update Finalize sends (names and values substituted). */
function applySet(item: Record<string, AttributeValue>, update: ReturnType<typeof buildOutcomeUpdate>) {
  const out = { ...item };
  const set = update.UpdateExpression.replace(/^SET /, '').split(', ');
  for (const assignment of set) {
    const [lhs = '', rhs = ''] = assignment.split(' = ');
    const name = (update.ExpressionAttributeNames as Record<string, string>)[lhs] ?? lhs;
    const value = (update.ExpressionAttributeValues as Record<string, AttributeValue>)[rhs];
    if (!value) throw new Error(`no value for ${rhs}`);
    out[name] = value;
  }
  return out;
}

describe('build records (PrepareBuild and Finalize write, the CLI reads)', () => {
  it("keeps a direct start's trigger metadata (what and who asked), and none for an upload", () => {
    const requested = { ...start, trigger: 'request', requestedVia: { source: 'kiln-submit', requestedBy: 'ops' } };
    expect(parseBuildRecord(buildStartItem(requested)).requestedVia).toEqual({
      source: 'kiln-submit',
      requestedBy: 'ops',
    });
    expect(buildStartItem(start).requestedVia).toBeUndefined();
    expect(parseBuildRecord(buildStartItem(start)).requestedVia).toBeUndefined();
  });

  it('reads back what PrepareBuild writes', () => {
    const item = buildStartItem(start);
    expect(item[BUILD_RECORD_KEY]).toEqual({ S: 'kb-1' });
    expect(BUILD_START_CONDITION).toBe('attribute_not_exists(buildId)');
    expect(parseBuildRecord(item)).toEqual({ ...start, status: 'RUNNING' });
  });

  it('reads back the outcome Finalize adds to the same item', () => {
    const update = buildOutcomeUpdate('kb-1', {
      status: 'PARTIAL',
      finishedAt: '2026-12-02T10:30:00.000Z',
      manifestKey: 'manifests/kb-1/manifest.json',
      outcomes: [
        { name: 'amazon-ebs.web', status: 'SUCCEEDED', artifactId: 'us-east-1:ami-1' },
        { name: 'docker.app', status: 'FAILED', error: 'Kiln.DriverUnavailable' },
      ],
    });
    expect(update.Key).toEqual({ buildId: { S: 'kb-1' } });
    const record = parseBuildRecord(applySet(buildStartItem(start), update));
    expect(record).toMatchObject({
      buildId: 'kb-1',
      status: 'PARTIAL',
      finishedAt: '2026-12-02T10:30:00.000Z',
      manifestKey: 'manifests/kb-1/manifest.json',
      outcomes: [
        { name: 'amazon-ebs.web', status: 'SUCCEEDED', artifactId: 'us-east-1:ami-1' },
        { name: 'docker.app', status: 'FAILED', error: 'Kiln.DriverUnavailable' },
      ],
    });
  });

  it('omits the version of an unversioned template and refuses an item that is not a build record', () => {
    const item = buildStartItem({ ...start, template: { bucket: 'b', key: 'k' } });
    expect(item.templateVersion).toBeUndefined();
    expect(parseBuildRecord(item).template).toEqual({ bucket: 'b', key: 'k' });
    expect(() => parseBuildRecord({ ...item, status: { S: 'DONE' } })).toThrow();
    const { executionName: _dropped, ...missing } = item;
    expect(() => parseBuildRecord(missing)).toThrow();
  });
});
