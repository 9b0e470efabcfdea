/**
 * The only-if-changed rule (aws/build-fingerprint.ts) and the fingerprint's place in the build record
 * (aws/build-records.ts): equal inputs skip, anything moved or unresolved builds, with the reason.
 */
import { describe, expect, it } from 'vitest';
import {
  compareFingerprints,
  fingerprintJson,
  type InputFingerprint,
  parseFingerprint,
} from '../../../aws/build-fingerprint.ts';
import { BUILD_TEMPLATE_INDEX, buildStartItem, parseBuildRecord } from '../../../aws/build-records.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const DIGEST = `sha256:${'d'.repeat(64)}`;

const fp = (over: Partial<InputFingerprint> = {}): InputFingerprint => ({
  version: 1,
  template: { sha256: SHA_A },
  builds: [
    {
      name: 'amazon-ebs.base',
      driver: 'ec2-ami',
      source: { kind: 'ami', region: 'us-east-1', id: 'ami-0aaa', from: 'source_ami_filter' },
    },
    {
      name: 'docker.app',
      driver: 'ec2-docker',
      source: { kind: 'image', reference: `python@${DIGEST}`, digest: DIGEST },
    },
  ],
  ...over,
});

const withSource = (name: string, source: InputFingerprint['builds'][number]['source']) =>
  fp({ builds: fp().builds.map((b) => (b.name === name ? { ...b, source } : b)) });

describe('compareFingerprints', () => {
  it('skips when every input is the same, naming the build and the sources', () => {
    const v = compareFingerprints(fp(), { buildId: 'kb-prev', fingerprint: fp() });
    expect(v).toEqual({
      changed: false,
      comparedWith: 'kb-prev',
      reason:
        'unchanged since build kb-prev: same template (sha256 aaaaaaaaaaaa), amazon-ebs.base from ami-0aaa (us-east-1), ' +
        `docker.app from python@${DIGEST} (${DIGEST})`,
    });
  });

  it.each<
    [string, InputFingerprint, { buildId: string; fingerprint: InputFingerprint | undefined } | undefined, RegExp]
  >([
    ['no successful build yet', fp(), undefined, /^no successful build of this template is recorded yet$/],
    [
      'an unreadable earlier fingerprint',
      fp(),
      { buildId: 'kb-old', fingerprint: undefined },
      /build kb-old recorded no input fingerprint/,
    ],
    [
      'the template or a file beside it',
      fp({ template: { sha256: SHA_B } }),
      { buildId: 'kb-prev', fingerprint: fp() },
      /template or a file beside it changed since build kb-prev \(sha256 aaaaaaaaaaaa → bbbbbbbbbbbb\)/,
    ],
    [
      'a new source AMI',
      withSource('amazon-ebs.base', { kind: 'ami', region: 'us-east-1', id: 'ami-0bbb', from: 'source_ami_filter' }),
      { buildId: 'kb-prev', fingerprint: fp() },
      /amazon-ebs.base: source AMI moved from ami-0aaa \(us-east-1\) to ami-0bbb \(us-east-1\)/,
    ],
    [
      'a filter that could not be resolved',
      withSource('amazon-ebs.base', { kind: 'unresolved', what: 'source_ami_filter', reason: 'AccessDenied' }),
      { buildId: 'kb-prev', fingerprint: fp() },
      /amazon-ebs.base: source_ami_filter could not be resolved \(AccessDenied\), so it cannot be shown unchanged/,
    ],
    [
      'a base image tag (never resolved to a digest)',
      withSource('docker.app', { kind: 'image', reference: 'python:3.12-slim' }),
      { buildId: 'kb-prev', fingerprint: withSource('docker.app', { kind: 'image', reference: 'python:3.12-slim' }) },
      /docker.app: base image python:3.12-slim is a tag, not resolved to a digest.*pin it as name@sha256/,
    ],
    [
      'another base image digest',
      withSource('docker.app', { kind: 'image', reference: 'python:3.12', digest: `sha256:${'e'.repeat(64)}` }),
      {
        buildId: 'kb-prev',
        fingerprint: withSource('docker.app', { kind: 'image', reference: 'python:3.12', digest: DIGEST }),
      },
      /docker.app: base image moved from python:3.12 \(sha256:d+\) to python:3.12 \(sha256:e+\)/,
    ],
    [
      'a build more or less',
      fp({ builds: fp().builds.slice(0, 1) }),
      { buildId: 'kb-prev', fingerprint: fp() },
      /the planned builds changed since build kb-prev: no longer docker.app/,
    ],
  ])('builds after %s, saying why', (_label, now, last, reason) => {
    const v = compareFingerprints(now, last);
    expect(v.changed).toBe(true);
    expect(v.reason).toMatch(reason);
    expect(v.comparedWith).toBe(last?.buildId);
  });

  it('stores equal inputs as equal strings, whatever the build order, and reads them back', () => {
    const reordered = fp({ builds: [...fp().builds].reverse() });
    expect(fingerprintJson(reordered)).toBe(fingerprintJson(fp()));
    expect(parseFingerprint(fingerprintJson(fp()))).toEqual(fp());
    expect(parseFingerprint('{"version":2}')).toBeUndefined();
    expect(parseFingerprint('not json')).toBeUndefined();
  });
});

describe('the build record keeps the fingerprint, the verdict and the schedule', () => {
  const start = {
    buildId: 'kb-2',
    executionName: 'exec-2',
    template: { bucket: 'tpl', key: 'templates/web.pkr.hcl' },
    trigger: 'schedule',
    createdAt: '2027-01-01T03:00:00.000Z',
    builds: [{ index: 0, name: 'amazon-ebs.base', driver: 'ec2-ami' }],
    schedule: 'web-nightly',
    fingerprint: fp(),
    changeCheck: { changed: false, reason: 'unchanged since build kb-1', comparedWith: 'kb-1' },
  };

  it('records a skipped build as SKIPPED and finished, indexed under its template', () => {
    const item = buildStartItem(start, '2027-01-01T03:00:05.000Z');
    expect(item[BUILD_TEMPLATE_INDEX.partitionKey]).toEqual({ S: 'tpl/templates/web.pkr.hcl' });
    expect(item.status).toEqual({ S: 'SKIPPED' });
    expect(parseBuildRecord(item)).toEqual({
      ...start,
      status: 'SKIPPED',
      finishedAt: '2027-01-01T03:00:05.000Z',
    });
  });

  it('records a running build with its fingerprint and no verdict when none was asked', () => {
    const { changeCheck: _c, schedule: _s, ...upload } = start;
    const record = parseBuildRecord(buildStartItem({ ...upload, trigger: 's3-upload' }));
    expect(record.status).toBe('RUNNING');
    expect(record.fingerprint).toEqual(fp());
    expect(record.changeCheck).toBeUndefined();
    expect(record.schedule).toBeUndefined();
  });
});
