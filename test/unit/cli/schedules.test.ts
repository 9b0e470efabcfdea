/**
 * `kiln schedules` through runCli with a mocked Scheduler client: the exact requests each command sends, what a
 * person sees, `--json`, and the errors that say what to do next (nothing is sent when a flag is wrong).
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListSchedulesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { scheduledBuildInput } from '../../../aws/trigger-contract.ts';
import { bufferedIO } from '../../../cli/io.ts';
import { commandHandlers, runCli } from '../../../cli/program.ts';

const GROUP_ARN = 'arn:aws:scheduler:eu-west-1:111122223333:schedule-group/kiln';
const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:Build';
const ROLE = 'arn:aws:iam::111122223333:role/Kiln-StartBuildRole';
const DLQ = 'arn:aws:sqs:eu-west-1:111122223333:Kiln-StartFailures';

const scheduler = mockClient(SchedulerClient);
let regions: string[] = [];

async function kiln(argv: string[]) {
  const io = bufferedIO({ env: { AWS_REGION: 'eu-west-1' } });
  const client = new SchedulerClient({ region: 'eu-west-1' });
  const code = await runCli(
    argv,
    io,
    commandHandlers(io, undefined, (region) => {
      regions.push(region);
      return client;
    }),
  );
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

function deployedGroup(): void {
  scheduler.on(GetScheduleGroupCommand, { Name: 'kiln' }).resolves({ Arn: GROUP_ARN, Name: 'kiln', State: 'ACTIVE' });
  scheduler.on(ListTagsForResourceCommand, { ResourceArn: GROUP_ARN }).resolves({
    Tags: [
      { Key: 'kiln:state-machine-arn', Value: MACHINE },
      { Key: 'kiln:start-role-arn', Value: ROLE },
      { Key: 'kiln:dead-letter-queue-arn', Value: DLQ },
      { Key: 'kiln:template-bucket', Value: 'kiln-templates' },
      { Key: 'kiln:component', Value: 'triggers' },
    ],
  });
}

const stored = (name: string, over: Record<string, unknown> = {}) => ({
  Name: name,
  GroupName: 'kiln',
  Arn: `arn:aws:scheduler:eu-west-1:111122223333:schedule/kiln/${name}`,
  State: 'ENABLED' as const,
  ScheduleExpression: 'cron(0 3 ? * MON *)',
  ScheduleExpressionTimezone: 'Europe/Paris',
  Description: 'Kiln rebuild of s3://kiln-templates/templates/team/web.pkr.hcl',
  FlexibleTimeWindow: { Mode: 'OFF' as const },
  StartDate: new Date('2027-01-01T00:00:00Z'),
  Target: {
    Arn: MACHINE,
    RoleArn: ROLE,
    Input: JSON.stringify(
      scheduledBuildInput({
        schedule: name,
        bucket: 'kiln-templates',
        key: 'templates/team/web.pkr.hcl',
        onlyIfChanged: true,
      }),
    ),
  },
  ...over,
});

beforeEach(() => {
  scheduler.reset();
  regions = [];
});

describe('kiln schedules add', () => {
  it('creates an enabled schedule in the kiln group that starts the build machine with the scheduled input', async () => {
    deployedGroup();
    scheduler
      .on(CreateScheduleCommand)
      .resolves({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:111122223333:schedule/kiln/team-web' });
    const r = await kiln([
      'schedules',
      'add',
      'templates/team/web.pkr.hcl',
      '--cron',
      '0 3 ? * MON *',
      '--timezone',
      'Europe/Paris',
      '--only-if-changed',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(regions).toEqual(['eu-west-1']);
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    expect(scheduler).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: 'team-web',
      GroupName: 'kiln',
      Description: 'Kiln rebuild of s3://kiln-templates/templates/team/web.pkr.hcl (only if changed)',
      ScheduleExpression: 'cron(0 3 ? * MON *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: MACHINE,
        RoleArn: ROLE,
        Input: JSON.stringify(
          scheduledBuildInput({
            schedule: 'team-web',
            bucket: 'kiln-templates',
            key: 'templates/team/web.pkr.hcl',
            onlyIfChanged: true,
          }),
        ),
        DeadLetterConfig: { Arn: DLQ },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
      },
    });
    expect(r.stdout).toBe(
      'Created schedule team-web (ENABLED): cron(0 3 ? * MON *) Europe/Paris, rebuilds ' +
        's3://kiln-templates/templates/team/web.pkr.hcl only if an input changed\n',
    );
  });

  it('takes a name, a bucket and --json; rate expressions run in UTC', async () => {
    deployedGroup();
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    const r = await kiln([
      'schedules',
      'add',
      's3://other-bucket/templates/app.zip',
      '--cron',
      'rate(12 hours)',
      '--name',
      'app-twice-daily',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'app-twice-daily',
      group: 'kiln',
      arn: 'arn:x',
      state: 'ENABLED',
      expression: 'rate(12 hours)',
      timezone: 'UTC',
      description: 'Kiln rebuild of s3://other-bucket/templates/app.zip',
      template: { bucket: 'other-bucket', key: 'templates/app.zip' },
      onlyIfChanged: false,
    });
    const input = JSON.parse(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target?.Input ?? '');
    expect(input.detail).toEqual({
      schedule: 'app-twice-daily',
      bucket: { name: 'other-bucket' },
      object: { key: 'templates/app.zip' },
    });
  });

  it.each([
    [['templates/web.pkr.hcl', '--cron', '0 3 * * MON *'], /exactly one of day-of-month/],
    [
      ['templates/web.pkr.hcl', '--cron', 'rate(1 day)', '--timezone', 'Mars/Olympus'],
      /unknown time zone "Mars\/Olympus"/,
    ],
    [
      ['web.pkr.hcl', '--cron', 'rate(1 day)'],
      /"web.pkr.hcl" is not under templates\/.*did you mean templates\/web.pkr.hcl\?/,
    ],
    [['templates/vars.pkrvars.json', '--cron', 'rate(1 day)'], /is a variable file, not a template: name the template/],
    [['templates/web.pkr.hcl', '--cron', 'rate(1 day)', '--name', 'a/b'], /schedule name "a\/b" is not allowed/],
  ])('refuses %j before any call: %s', async (args, message) => {
    const r = await kiln(['schedules', 'add', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.startsWith('Error: ')).toBe(true);
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('says to deploy the stack when the group is missing, and to pick another name on a clash', async () => {
    scheduler
      .on(GetScheduleGroupCommand)
      .rejects(new ResourceNotFoundException({ message: 'no', Message: 'no', $metadata: {} }));
    const missing = await kiln(['schedules', 'add', 'templates/web.pkr.hcl', '--cron', 'rate(1 day)']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/schedule group "kiln" was not found in eu-west-1: deploy the Kiln stack there/);

    scheduler.reset();
    deployedGroup();
    scheduler
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    const clash = await kiln(['schedules', 'add', 'templates/web.pkr.hcl', '--cron', 'rate(1 day)']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toBe(
      'Error: a schedule named "web" already exists in group kiln: pick another --name, or remove it first ' +
        '(kiln schedules delete web)\n',
    );
  });

  it("refuses a group without the stack's tags", async () => {
    scheduler.on(GetScheduleGroupCommand).resolves({ Arn: GROUP_ARN });
    scheduler.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'kiln:template-bucket', Value: 'b' }] });
    const r = await kiln(['schedules', 'add', 'templates/web.pkr.hcl', '--cron', 'rate(1 day)']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /lacks the tag\(s\) kiln:state-machine-arn, kiln:start-role-arn, kiln:dead-letter-queue-arn/,
    );
    expect(scheduler).not.toHaveReceivedCommand(CreateScheduleCommand);
  });
});

describe('kiln schedules list', () => {
  it('tabulates each schedule with what it rebuilds, read back from its input', async () => {
    scheduler
      .on(ListSchedulesCommand)
      .resolvesOnce({ Schedules: [{ Name: 'web' }], NextToken: 't' })
      .resolvesOnce({
        Schedules: [{ Name: 'base' }],
      });
    scheduler.on(GetScheduleCommand, { Name: 'web' }).resolves(stored('web'));
    scheduler.on(GetScheduleCommand, { Name: 'base' }).resolves(
      stored('base', {
        State: 'DISABLED',
        ScheduleExpression: 'rate(1 day)',
        ScheduleExpressionTimezone: 'UTC',
        Description: 'Kiln rebuild of s3://b/templates/base.pkr.hcl (managed by the Kiln stack)',
        Target: {
          Arn: MACHINE,
          RoleArn: ROLE,
          Input: JSON.stringify(scheduledBuildInput({ schedule: 'base', bucket: 'b', key: 'templates/base.pkr.hcl' })),
        },
      }),
    );
    const r = await kiln(['schedules', 'list']);
    expect(r.code).toBe(0);
    expect(scheduler).toHaveReceivedNthCommandWith(ListSchedulesCommand, 2, { GroupName: 'kiln', NextToken: 't' });
    expect(r.stdout).toBe(
      [
        'NAME  STATE     EXPRESSION           TIMEZONE      ONLY IF CHANGED  TEMPLATE',
        '----  --------  -------------------  ------------  ---------------  ----------------------------------------------',
        'base  DISABLED  rate(1 day)          UTC           no               s3://b/templates/base.pkr.hcl (stack)',
        'web   ENABLED   cron(0 3 ? * MON *)  Europe/Paris  yes              s3://kiln-templates/templates/team/web.pkr.hcl',
        '',
      ].join('\n'),
    );
  });

  it('says how to add one when there is none', async () => {
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [] });
    const r = await kiln(['schedules', 'list', '--group', 'kiln-eu']);
    expect(r.stdout).toMatch(/^No schedules in group kiln-eu \(eu-west-1\); add one with kiln schedules add/);
    expect(scheduler).toHaveReceivedCommandWith(ListSchedulesCommand, { GroupName: 'kiln-eu' });
  });
});

describe('kiln schedules pause | resume | delete', () => {
  it('pauses by sending the whole definition back with State DISABLED (UpdateSchedule replaces it)', async () => {
    scheduler.on(GetScheduleCommand).resolves(stored('web'));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    const r = await kiln(['schedules', 'pause', 'web']);
    expect(r.code).toBe(0);
    const s = stored('web');
    expect(scheduler).toHaveReceivedCommandWith(UpdateScheduleCommand, {
      Name: 'web',
      GroupName: 'kiln',
      ScheduleExpression: s.ScheduleExpression,
      ScheduleExpressionTimezone: s.ScheduleExpressionTimezone,
      StartDate: s.StartDate,
      Description: s.Description,
      FlexibleTimeWindow: s.FlexibleTimeWindow,
      Target: s.Target,
      State: 'DISABLED',
    });
    expect(r.stdout).toMatch(/^Paused schedule web \(DISABLED\): cron\(0 3 \? \* MON \*\) Europe\/Paris/);
  });

  it('changes nothing when the schedule is already in that state', async () => {
    scheduler.on(GetScheduleCommand).resolves(stored('web'));
    const r = await kiln(['schedules', 'resume', 'web', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'web', state: 'ENABLED', changed: false });
    expect(scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
  });

  it('names the missing schedule and the command that lists them', async () => {
    scheduler
      .on(GetScheduleCommand)
      .rejects(new ResourceNotFoundException({ message: 'no', Message: 'no', $metadata: {} }));
    const r = await kiln(['schedules', 'resume', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: no schedule "nope" in group kiln: `kiln schedules list` shows the schedules\n');
  });

  it('deletes a schedule made with add, and refuses one the CDK app declares', async () => {
    scheduler.on(GetScheduleCommand, { Name: 'web' }).resolves(stored('web'));
    scheduler
      .on(GetScheduleCommand, { Name: 'base' })
      .resolves(
        stored('base', { Description: 'Kiln rebuild of s3://b/templates/base.pkr.hcl (managed by the Kiln stack)' }),
      );
    scheduler.on(DeleteScheduleCommand).resolves({});
    const ok = await kiln(['schedules', 'delete', 'web']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('Deleted schedule web from group kiln.\n');
    expect(scheduler).toHaveReceivedCommandWith(DeleteScheduleCommand, { GroupName: 'kiln', Name: 'web' });

    const refused = await kiln(['schedules', 'delete', 'base']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/declared in the CDK app .*remove it there and deploy, or pause it/);
    expect(scheduler).toHaveReceivedCommandTimes(DeleteScheduleCommand, 1);
  });
});

describe('kiln schedules --help', () => {
  it('documents every subcommand and the add flags', async () => {
    const top = await kiln(['schedules', '--help']);
    for (const sub of ['add', 'list', 'pause', 'resume', 'delete']) expect(top.stdout).toContain(sub);
    expect(top.stdout).toMatch(/only-if-changed[\s\S]*Kiln Schedule\s+Disabled/);
    const add = await kiln(['schedules', 'add', '--help']);
    expect(add.stdout).toMatch(
      /<template-key>[\s\S]*--cron <expression>[\s\S]*--timezone <zone>[\s\S]*--only-if-changed[\s\S]*--name <name>/,
    );
  });
});
