/**
 * `kiln schedules add | list | pause | resume | delete`: scheduled rebuilds at run time, in the stack's
 * EventBridge Scheduler group (`kiln`), through aws/schedule-store.ts. The group's tags name the build state
 * machine, the role Scheduler assumes and the template bucket, so only the region (and the group, when the stack
 * was deployed with another) is needed. Tables for people, `--json` for scripts.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { clientConfig, homeRegion } from '../aws/clients.ts';
import {
  createSchedule,
  deleteSchedule,
  describeSchedule,
  groupTarget,
  type KilnSchedule,
  listSchedules,
  setScheduleState,
} from '../aws/schedule-store.ts';
import {
  checkScheduleName,
  checkTimezone,
  defaultScheduleName,
  SCHEDULE_GROUP,
  ScheduleError,
  STACK_MANAGED_MARK,
  scheduleExpression,
} from '../aws/schedules.ts';
import { STORE_LAYOUT } from '../aws/store-layout.ts';
import { notATemplate } from '../aws/trigger-contract.ts';
import type { CliIO } from './io.ts';
import { renderTable } from './table.ts';

export interface SchedulesOptions {
  readonly group?: string;
  readonly region?: string;
  readonly json: boolean;
}

export interface AddScheduleOptions extends SchedulesOptions {
  readonly cron: string;
  readonly timezone?: string;
  readonly onlyIfChanged: boolean;
  readonly name?: string;
  /** The template bucket; default: the group's `kiln:template-bucket` tag (the stack's TemplateBucketName). */
  readonly bucket?: string;
}

/** The Scheduler client of a region; tests pass one for the emulator or a mock. */
export type SchedulesConnect = (region: string) => SchedulerClient;
export const schedulerFromEnvironment: SchedulesConnect = (region) => new SchedulerClient(clientConfig(region));

interface Ctx {
  readonly client: SchedulerClient;
  readonly group: string;
  readonly region: string;
}

/** An AWS failure as one line that says what to check; undefined for anything else (a bug: let it throw). */
function awsErrorMessage(error: unknown, ctx: Ctx): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'CredentialsProviderError') {
    return `no AWS credentials: ${error.message} (set AWS_PROFILE or AWS_ACCESS_KEY_ID, as for the AWS CLI)`;
  }
  if (error.name === 'AccessDeniedException' || error.name === 'UnrecognizedClientException') {
    return `AWS refused the call (${error.name}): ${error.message}`;
  }
  if (error.name === 'ValidationException') {
    return `EventBridge Scheduler refused the schedule in ${ctx.region}: ${error.message}`;
  }
  if ('$metadata' in error) return `AWS ${error.name}: ${error.message}`;
  return undefined;
}

/** Runs one command: schedule and AWS errors become `Error: …` on stderr and exit code 1. */
async function run(
  options: SchedulesOptions,
  io: CliIO,
  connect: SchedulesConnect,
  body: (ctx: Ctx) => Promise<void>,
): Promise<number> {
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  let ctx: Ctx | undefined;
  try {
    const group = checkScheduleName(options.group ?? SCHEDULE_GROUP);
    ctx = { client: connect(region), group, region };
    await body(ctx);
    return 0;
  } catch (error) {
    if (error instanceof ScheduleError) {
      io.err(`Error: ${error.message}\n`);
      return 1;
    }
    const aws = ctx ? awsErrorMessage(error, ctx) : undefined;
    if (aws) {
      io.err(`Error: ${aws}\n`);
      return 1;
    }
    throw error;
  }
}

/** `s3://bucket/key` or a key in the template bucket; the key must be a template under `templates/`. */
export function templateLocation(arg: string, bucket: string | undefined): { bucket?: string; key: string } {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(arg);
  const key = s3?.[2] ?? arg.replace(/^\/+/, '');
  const prefix = STORE_LAYOUT.templatesPrefix;
  if (!key.startsWith(prefix)) {
    throw new ScheduleError(
      'InvalidTemplate',
      `"${key}" is not under ${prefix}: builds read templates from that prefix of the template bucket ` +
        `(did you mean ${prefix}${key}?)`,
    );
  }
  const why = notATemplate(key);
  if (why) throw new ScheduleError('InvalidTemplate', `${why}: name the template or bundle a schedule rebuilds`);
  const chosen = s3?.[1] ?? bucket;
  return chosen ? { bucket: chosen, key } : { key };
}

function print(schedule: KilnSchedule, verb: string, io: CliIO, json: boolean): void {
  if (json) {
    io.out(`${JSON.stringify(schedule, null, 2)}\n`);
    return;
  }
  const what = schedule.template ? `s3://${schedule.template.bucket}/${schedule.template.key}` : '(not a Kiln input)';
  io.out(
    `${verb} schedule ${schedule.name} (${schedule.state}): ${schedule.expression} ${schedule.timezone}, ` +
      `rebuilds ${what}${schedule.onlyIfChanged ? ' only if an input changed' : ''}\n`,
  );
}

export function runSchedulesAdd(
  templateArg: string,
  options: AddScheduleOptions,
  io: CliIO,
  connect: SchedulesConnect = schedulerFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    // Everything checkable offline is checked before the first call.
    const location = templateLocation(templateArg, options.bucket);
    const expression = scheduleExpression(options.cron);
    const timezone = checkTimezone(options.timezone ?? 'UTC');
    const name = checkScheduleName(options.name ?? defaultScheduleName(location.key, STORE_LAYOUT.templatesPrefix));
    const target = await groupTarget(ctx.client, ctx.group, ctx.region);
    const created = await createSchedule(ctx.client, target, {
      name,
      group: ctx.group,
      expression,
      timezone,
      bucket: location.bucket ?? target.templateBucket,
      key: location.key,
      onlyIfChanged: options.onlyIfChanged,
    });
    print(created, 'Created', io, options.json);
  });
}

export function runSchedulesList(
  options: SchedulesOptions,
  io: CliIO,
  connect: SchedulesConnect = schedulerFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    const schedules = await listSchedules(ctx.client, ctx.group);
    if (options.json) {
      io.out(`${JSON.stringify(schedules, null, 2)}\n`);
      return;
    }
    if (schedules.length === 0) {
      io.out(
        `No schedules in group ${ctx.group} (${ctx.region}); add one with ` +
          'kiln schedules add templates/<template> --cron "cron(0 3 ? * MON *)".\n',
      );
      return;
    }
    io.out(
      renderTable(
        ['NAME', 'STATE', 'EXPRESSION', 'TIMEZONE', 'ONLY IF CHANGED', 'TEMPLATE'],
        schedules.map((s) => [
          s.name,
          s.state,
          s.expression,
          s.timezone,
          s.onlyIfChanged ? 'yes' : 'no',
          `${s.template ? `s3://${s.template.bucket}/${s.template.key}` : '-'}${s.description?.includes(STACK_MANAGED_MARK) ? ' (stack)' : ''}`,
        ]),
      ),
    );
  });
}

export function runSchedulesSetState(
  name: string,
  state: 'ENABLED' | 'DISABLED',
  options: SchedulesOptions,
  io: CliIO,
  connect: SchedulesConnect = schedulerFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    const { previous, schedule } = await setScheduleState(ctx.client, ctx.group, checkScheduleName(name), state);
    if (options.json) {
      io.out(`${JSON.stringify({ ...schedule, changed: previous !== state }, null, 2)}\n`);
      return;
    }
    if (previous === state) {
      io.out(`Schedule ${name} is already ${state === 'ENABLED' ? 'enabled' : 'paused'}; nothing changed.\n`);
      return;
    }
    print(schedule, state === 'ENABLED' ? 'Resumed' : 'Paused', io, false);
  });
}

export function runSchedulesDelete(
  name: string,
  options: SchedulesOptions,
  io: CliIO,
  connect: SchedulesConnect = schedulerFromEnvironment,
): Promise<number> {
  return run(options, io, connect, async (ctx) => {
    const schedule = await describeSchedule(ctx.client, ctx.group, checkScheduleName(name));
    if (schedule.description?.includes(STACK_MANAGED_MARK)) {
      throw new ScheduleError(
        'StackManaged',
        `schedule ${name} is declared in the CDK app (kiln:schedules or the schedules prop): remove it there and ` +
          'deploy, or pause it with kiln schedules pause',
      );
    }
    await deleteSchedule(ctx.client, ctx.group, name);
    if (options.json) {
      io.out(`${JSON.stringify({ deleted: name, group: ctx.group }, null, 2)}\n`);
      return;
    }
    io.out(`Deleted schedule ${name} from group ${ctx.group}.\n`);
  });
}
