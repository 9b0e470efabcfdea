/**
 * The schedule contract: names, expressions and time zones checked offline with messages that say what to fix,
 * the target both the CDK app and `kiln schedules add` create (its input is what PrepareBuild parses), and the
 * auto-disable rule.
 */
import { describe, expect, it } from 'vitest';
import {
  checkScheduleName,
  checkTimezone,
  consecutiveFailures,
  DEFAULT_SCHEDULE_FAILURE_LIMIT,
  defaultScheduleName,
  failureLimitFrom,
  ScheduleError,
  scheduleDisabledDetail,
  scheduleExpression,
  scheduleTarget,
  shouldDisable,
} from '../../../aws/schedules.ts';
import { normalizeInput, prepareInputSchema } from '../../../functions/common/prepare-build/input.ts';

function errorOf(f: () => unknown): ScheduleError {
  try {
    f();
  } catch (err) {
    if (err instanceof ScheduleError) return err;
    throw err;
  }
  throw new Error('expected a ScheduleError');
}

describe('scheduleExpression', () => {
  it.each([
    ['cron(0 3 ? * MON *)', 'cron(0 3 ? * MON *)'],
    ['  0 3 ? * MON *  ', 'cron(0 3 ? * MON *)'],
    ['cron(0/15 8-18 ? * MON-FRI *)', 'cron(0/15 8-18 ? * MON-FRI *)'],
    ['cron(0 3 1,15 * ? *)', 'cron(0 3 1,15 * ? *)'],
    ['cron(30 2 L * ? *)', 'cron(30 2 L * ? *)'],
    ['cron(0 9 ? * 6L *)', 'cron(0 9 ? * 6L *)'],
    ['cron(0 9 ? * 2#1 2027)', 'cron(0 9 ? * 2#1 2027)'],
    ['cron(0 9 15W JAN,JUL ? *)', 'cron(0 9 15W JAN,JUL ? *)'],
    ['rate(1 day)', 'rate(1 day)'],
    ['rate(12 hours)', 'rate(12 hours)'],
    ['at(2027-01-01T03:00:00)', 'at(2027-01-01T03:00:00)'],
  ])('accepts %j as %j', (input, expected) => {
    expect(scheduleExpression(input)).toBe(expected);
  });

  it.each([
    ['every night', /6 fields/],
    ['0 3 * * *', /6 fields.*this has 5/],
    ['cron(0 3 * * MON *)', /exactly one of day-of-month \(field 3\) and day-of-week \(field 5\) must be "\?"/],
    ['cron(0 3 ? * ? *)', /exactly one of day-of-month/],
    ['cron(60 3 ? * MON *)', /field 1 \(minutes\) 60 is outside 0-59/],
    ['cron(0 24 ? * MON *)', /field 2 \(hours\) 24 is outside 0-23/],
    ['cron(0 3 ? FOO MON *)', /field 4 \(month\) "FOO" is not a number or one of JAN/],
    ['cron(0 3 ? * MON 1960)', /field 6 \(year\) 1960 is outside 1970-2199/],
    ['cron(0 ? ? * MON *)', /field 2 \(hours\) "\?" is only allowed in day-of-month and day-of-week/],
    ['cron(0/0 3 ? * MON *)', /increment after "\/" must be a positive number/],
    ['cron(0 3 ? * 2#6 *)', /the week after # must be 1-5/],
    ['rate(1 days)', /write rate\(1 day\) or rate\(1 days\)/],
    ['rate(5 hour)', /write rate\(1 hour\) or rate\(5 hours\)/],
    ['rate(5 weeks)', /rate\(\.\.\.\) takes a whole number and minute\(s\), hour\(s\) or day\(s\)/],
    ['at(2027-13-45T03:00)', /at\(\.\.\.\) takes yyyy-mm-ddThh:mm:ss/],
  ])('refuses %j saying %s, with an example of a good one', (input, why) => {
    const err = errorOf(() => scheduleExpression(input));
    expect(err.code).toBe('InvalidExpression');
    expect(err.message).toMatch(why);
    expect(err.message).toContain('e.g. "cron(0 3 ? * MON *)"');
  });
});

describe('names and time zones', () => {
  it('takes IANA zones and refuses a typo with examples', () => {
    expect(checkTimezone('Europe/Paris')).toBe('Europe/Paris');
    expect(checkTimezone('UTC')).toBe('UTC');
    const err = errorOf(() => checkTimezone('Europe/Pari'));
    expect(err.code).toBe('InvalidTimezone');
    expect(err.message).toMatch(/unknown time zone "Europe\/Pari": use an IANA name such as UTC, Europe\/Paris/);
  });

  it("follows Scheduler's name rule", () => {
    expect(checkScheduleName('team-web.nightly_1')).toBe('team-web.nightly_1');
    expect(errorOf(() => checkScheduleName('team/web')).code).toBe('InvalidName');
    expect(errorOf(() => checkScheduleName('x'.repeat(65))).message).toMatch(/1 to 64 letters/);
  });

  it('names a schedule after its template key', () => {
    expect(defaultScheduleName('templates/team/web.pkr.hcl', 'templates/')).toBe('team-web');
    expect(defaultScheduleName('templates/app.tar.gz', 'templates/')).toBe('app');
    expect(defaultScheduleName('templates/é/ü.json', 'templates/')).toBe('template');
    expect(defaultScheduleName(`templates/${'a'.repeat(80)}.pkr.hcl`, 'templates/')).toHaveLength(64);
  });
});

describe('scheduleTarget', () => {
  const spec = {
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Build',
    startRoleArn: 'arn:aws:iam::123456789012:role/Start',
    deadLetterQueueArn: 'arn:aws:sqs:us-east-1:123456789012:dlq',
  };

  it('starts the build machine with an input PrepareBuild parses as a scheduled build of the template', () => {
    const target = scheduleTarget({
      ...spec,
      request: { schedule: 'team-web', bucket: 'tpl', key: 'templates/team/web.pkr.hcl', onlyIfChanged: true },
    });
    expect(target).toMatchObject({
      Arn: spec.stateMachineArn,
      RoleArn: spec.startRoleArn,
      DeadLetterConfig: { Arn: spec.deadLetterQueueArn },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
    });
    // The ASL wraps the execution input as { input, executionName } before PrepareBuild reads it.
    const event = prepareInputSchema.parse({ input: JSON.parse(target.Input), executionName: 'e1' });
    expect(normalizeInput(event.input)).toEqual({
      template: { bucket: 'tpl', key: 'templates/team/web.pkr.hcl' },
      vars: [],
      varFiles: [],
      only: [],
      except: [],
      trigger: 'schedule',
      schedule: 'team-web',
      onlyIfChanged: true,
    });
  });

  it('leaves onlyIfChanged out when it is off, as the inputs of older schedules are', () => {
    const target = scheduleTarget({ ...spec, request: { schedule: 's', bucket: 'b', key: 'templates/a.pkr.hcl' } });
    const input = JSON.parse(target.Input);
    expect(input.detail).toEqual({ schedule: 's', bucket: { name: 'b' }, object: { key: 'templates/a.pkr.hcl' } });
    const event = prepareInputSchema.parse({ input, executionName: 'e' });
    expect(normalizeInput(event.input).onlyIfChanged).toBeUndefined();
  });
});

describe('auto-disable rule', () => {
  const b = (buildId: string, status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'PARTIAL' | 'SKIPPED') => ({
    buildId,
    status,
  });

  it('counts failed and partial builds back to the last success, passing over running and skipped ones', () => {
    expect(
      consecutiveFailures([
        b('k5', 'FAILED'),
        b('k4', 'RUNNING'),
        b('k3', 'PARTIAL'),
        b('k2', 'SKIPPED'),
        b('k1', 'FAILED'),
      ]),
    ).toEqual(['k5', 'k3', 'k1']);
    expect(consecutiveFailures([b('k3', 'FAILED'), b('k2', 'SUCCEEDED'), b('k1', 'FAILED')])).toEqual(['k3']);
    expect(consecutiveFailures([b('k1', 'SUCCEEDED')])).toEqual([]);
  });

  it('disables only when the build that just failed reaches the limit', () => {
    expect(shouldDisable('k3', ['k3', 'k2', 'k1'], 3)).toBe(true);
    expect(shouldDisable('k3', ['k3', 'k2'], 3)).toBe(false);
    // An older build's retried Finalize does not disable a schedule resumed since.
    expect(shouldDisable('k1', ['k3', 'k2', 'k1'], 3)).toBe(false);
  });

  it('reads the limit from the environment: default 3, whole numbers of at least 1', () => {
    expect(failureLimitFrom(undefined)).toBe(DEFAULT_SCHEDULE_FAILURE_LIMIT);
    expect(failureLimitFrom('5')).toBe(5);
    expect(() => failureLimitFrom('0')).toThrow(
      /KILN_SCHEDULE_FAILURE_LIMIT must be a whole number of at least 1, got "0"/,
    );
    expect(() => failureLimitFrom('2.5')).toThrow(/whole number/);
  });

  it('describes the disabled schedule with the command that resumes it', () => {
    const detail = scheduleDisabledDetail({
      schedule: 'team-web',
      group: 'kiln',
      template: { bucket: 'b', key: 'templates/team/web.pkr.hcl' },
      failedBuilds: ['k3', 'k2', 'k1'],
      limit: 3,
      disabledAt: '2027-01-01T00:00:00.000Z',
    });
    expect(detail.consecutiveFailures).toBe(3);
    expect(detail.resume).toBe('kiln schedules resume team-web');
    expect(scheduleDisabledDetail({ ...detail, group: 'other' }).resume).toBe(
      'kiln schedules resume team-web --group other',
    );
  });
});
