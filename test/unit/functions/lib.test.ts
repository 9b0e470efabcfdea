import { describe, expect, it } from 'vitest';
import { numberEnv, requireEnv } from '../../../aws/env.ts';
import { mergeTags, toTags } from '../../../aws/tags.ts';
import { LaunchFailedError } from '../../../core/errors.ts';
import {
  redactText as redact,
  redactForLog,
  redactSensitiveKeys,
  redactValue,
} from '../../../core/template/sensitive.ts';
import { classifyAwsError, isNotFoundAwsError } from '../../../functions/lib/aws-errors.ts';
import { nextWaitSeconds, pollingDeadline } from '../../../functions/lib/polling.ts';

const awsError = (name: string, status = 400) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
const launch = (m: string, cause: unknown) => new LaunchFailedError(m, { cause });

describe('polling back-off', () => {
  it('starts at the minimum, grows with elapsed time and caps at 5 minutes', () => {
    const wait = (elapsed: number) =>
      nextWaitSeconds({ elapsedSeconds: elapsed, minSeconds: 15, deadlineSeconds: 7200 });
    expect([0, 15, 30, 90, 300, 3000].map(wait)).toEqual([15, 15, 20, 60, 200, 300]);
  });

  it('never sleeps past the deadline by more than the minimum', () => {
    expect(nextWaitSeconds({ elapsedSeconds: 590, minSeconds: 15, deadlineSeconds: 600 })).toBe(15);
    expect(nextWaitSeconds({ elapsedSeconds: 500, minSeconds: 1, deadlineSeconds: 600 })).toBe(100);
  });

  it('costs about a dozen polls for 30 minutes and ~30 for 2 hours (vs 120 / 480 at a fixed 15 s)', () => {
    const polls = (total: number) => {
      let t = 0;
      let n = 0;
      while (t < total) {
        t += nextWaitSeconds({ elapsedSeconds: t, minSeconds: 15, deadlineSeconds: 1e9 });
        n++;
      }
      return n;
    };
    expect(polls(1800)).toBeLessThanOrEqual(13);
    expect(polls(7200)).toBeLessThanOrEqual(30);
  });

  it('reads aws_polling', () => {
    expect(pollingDeadline({ aws_polling: { delay_seconds: 10, max_attempts: 90 } }, 3600)).toBe(900);
    expect(pollingDeadline({}, 3600)).toBe(3600);
  });
});

describe('AWS error classification', () => {
  it('makes throttling and 5xx Kiln.Transient (retryable) and the rest the stage error with a hint', () => {
    expect(classifyAwsError(awsError('RequestLimitExceeded'), 'launching', launch)).toMatchObject({
      name: 'Kiln.Transient',
      retryable: true,
    });
    expect(classifyAwsError(awsError('Whatever', 503), 'launching', launch)).toMatchObject({ name: 'Kiln.Transient' });
    const denied = classifyAwsError(awsError('UnauthorizedOperation', 403), 'launching', launch);
    expect(denied).toMatchObject({ name: 'Kiln.LaunchFailed', retryable: false });
    expect(denied.message).toMatch(/^launching: UnauthorizedOperation: .*IAM policy/);
  });

  it('passes Kiln errors through and recognizes NotFound codes', () => {
    const own = new LaunchFailedError('mine');
    expect(classifyAwsError(own, 'x', launch)).toBe(own);
    expect(
      ['InvalidInstanceID.NotFound', 'InvalidAMIID.Unavailable', 'NoSuchKey', 'InvalidSnapshot.NotFound'].every((c) =>
        isNotFoundAwsError(awsError(c)),
      ),
    ).toBe(true);
    expect(isNotFoundAwsError(awsError('InvalidSnapshot.InUse'))).toBe(false);
  });
});

describe('redaction', () => {
  it('replaces every secret, longest first, in text and nested values', () => {
    expect(redact('pw=abcdef and abc', ['abc', 'abcdef'])).toBe('pw=<sensitive> and <sensitive>');
    expect(redactValue({ a: ['x hunter2 y'], n: 1 }, ['hunter2'])).toEqual({ a: ['x <sensitive> y'], n: 1 });
    expect(redactSensitiveKeys({ db_password: 'p', nested: { api_token: 't', name: 'n' } })).toEqual({
      db_password: '<sensitive>',
      nested: { api_token: '<sensitive>', name: 'n' },
    });
  });

  it('hides every user var value and sensitive-looking keys in what handlers log', () => {
    const event = {
      input: { template: { bucket: 'b', key: 'k' }, vars: { region: 'us-east-1', db: 'pw' } },
      executionName: 'e',
      api_token: 'x',
    };
    expect(redactForLog(event)).toEqual({
      input: { template: { bucket: 'b', key: 'k' }, vars: { region: '<sensitive>', db: '<sensitive>' } },
      executionName: 'e',
      api_token: '<sensitive>',
    });
  });

  it('leaves very short values alone so messages stay readable', () => {
    expect(redact('exit 1', ['1'])).toBe('exit 1');
  });
});

describe('environment and tags', () => {
  it('names the missing variable and rejects a malformed number', () => {
    expect(() => requireEnv('KILN_X', {})).toThrow('Environment variable KILN_X is required');
    expect(numberEnv('KILN_N', 15, {})).toBe(15);
    expect(numberEnv('KILN_N', 15, { KILN_N: '1' })).toBe(1);
    expect(() => numberEnv('KILN_N', 15, { KILN_N: 'fast' })).toThrow(/positive number/);
  });

  it('converts decoded template tag maps, later lists winning', () => {
    expect(toTags({ A: 1, B: 'x' })).toEqual([
      { Key: 'A', Value: '1' },
      { Key: 'B', Value: 'x' },
    ]);
    // A map left for run time (a string in the plan) cannot be used: no tags, rather than characters as tags.
    expect(toTags('<unknown: local.tags>')).toEqual([]);
    expect(toTags(undefined)).toEqual([]);
    expect(mergeTags([{ Key: 'kiln:build-id', Value: 'forged' }], [{ Key: 'kiln:build-id', Value: 'real' }])).toEqual([
      { Key: 'kiln:build-id', Value: 'real' },
    ]);
  });
});
