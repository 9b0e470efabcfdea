/**
 * Kiln's schedules in EventBridge Scheduler: create, read, list, enable/disable, delete, in the stack's schedule
 * group, and what the group's tags say a schedule targets. `kiln schedules` and Finalize's auto-disable call
 * these; the forms (names, expressions, target, input) come from aws/schedules.ts and aws/trigger-contract.ts.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  type GetScheduleOutput,
  ListSchedulesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  checkScheduleName,
  checkTimezone,
  SCHEDULE_GROUP_TAGS,
  ScheduleError,
  type ScheduleGroupTarget,
  scheduleExpression,
  scheduleTarget,
} from './schedules.ts';
import { type ScheduledBuildInput, scheduledBuildSchema } from './trigger-contract.ts';

/** A schedule as `kiln schedules list` shows it. */
export interface KilnSchedule {
  readonly name: string;
  readonly group: string;
  readonly arn?: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly expression: string;
  readonly timezone: string;
  readonly description?: string;
  /** What it builds, read back from its target input; undefined when the input is not Kiln's. */
  readonly template?: { readonly bucket: string; readonly key: string };
  readonly onlyIfChanged: boolean;
  readonly lastModified?: string;
}

/** The target input a schedule carries, parsed with PrepareBuild's own schema; undefined when it is not one. */
export function scheduleInput(input: string | undefined): ScheduledBuildInput | undefined {
  if (!input) return undefined;
  try {
    const parsed = scheduledBuildSchema.safeParse(JSON.parse(input));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function toKilnSchedule(out: GetScheduleOutput, fallbackGroup: string): KilnSchedule {
  const input = scheduleInput(out.Target?.Input);
  return {
    name: out.Name ?? '',
    group: out.GroupName ?? fallbackGroup,
    ...(out.Arn ? { arn: out.Arn } : {}),
    state: out.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    expression: out.ScheduleExpression ?? '',
    timezone: out.ScheduleExpressionTimezone ?? 'UTC',
    ...(out.Description ? { description: out.Description } : {}),
    ...(input ? { template: { bucket: input.detail.bucket.name, key: input.detail.object.key } } : {}),
    onlyIfChanged: input?.detail.onlyIfChanged === true,
    ...(out.LastModificationDate ? { lastModified: out.LastModificationDate.toISOString() } : {}),
  };
}

const notFound = (name: string, group: string) =>
  new ScheduleError('NotFound', `no schedule "${name}" in group ${group}: \`kiln schedules list\` shows the schedules`);

/** What the stack's group says schedules target (its tags), or a NotDeployed error saying what to do. */
export async function groupTarget(
  client: SchedulerClient,
  group: string,
  region: string,
): Promise<ScheduleGroupTarget> {
  let arn: string | undefined;
  try {
    arn = (await client.send(new GetScheduleGroupCommand({ Name: group }))).Arn;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) {
      throw new ScheduleError(
        'NotDeployed',
        `schedule group "${group}" was not found in ${region}: deploy the Kiln stack there (it creates the group), ` +
          'or pass the --region and --group it was deployed with',
      );
    }
    throw err;
  }
  const tags = (await client.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags ?? [];
  const value = (key: string) => tags.find((t) => t.Key === key)?.Value;
  const missing = Object.values(SCHEDULE_GROUP_TAGS).filter((key) => !value(key));
  if (missing.length > 0) {
    throw new ScheduleError(
      'NotDeployed',
      `schedule group "${group}" lacks the tag(s) ${missing.join(', ')} the Kiln stack sets: it is not Kiln's ` +
        'group (pass --group) or the stack predates scheduled rebuilds (deploy it again)',
    );
  }
  return {
    stateMachineArn: value(SCHEDULE_GROUP_TAGS.stateMachineArn) as string,
    startRoleArn: value(SCHEDULE_GROUP_TAGS.startRoleArn) as string,
    deadLetterQueueArn: value(SCHEDULE_GROUP_TAGS.deadLetterQueueArn) as string,
    templateBucket: value(SCHEDULE_GROUP_TAGS.templateBucket) as string,
  };
}

export interface NewSchedule {
  readonly name: string;
  readonly group: string;
  readonly expression: string;
  readonly timezone: string;
  readonly bucket: string;
  readonly key: string;
  readonly onlyIfChanged: boolean;
}

/** Creates an enabled schedule targeting the build state machine with `scheduledBuildInput`. */
export async function createSchedule(
  client: SchedulerClient,
  target: ScheduleGroupTarget,
  s: NewSchedule,
): Promise<KilnSchedule> {
  const name = checkScheduleName(s.name);
  const expression = scheduleExpression(s.expression);
  const timezone = checkTimezone(s.timezone);
  const description = `Kiln rebuild of s3://${s.bucket}/${s.key}${s.onlyIfChanged ? ' (only if changed)' : ''}`;
  try {
    const out = await client.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: s.group,
        Description: description,
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: timezone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: scheduleTarget({
          stateMachineArn: target.stateMachineArn,
          startRoleArn: target.startRoleArn,
          deadLetterQueueArn: target.deadLetterQueueArn,
          request: { schedule: name, bucket: s.bucket, key: s.key, onlyIfChanged: s.onlyIfChanged },
        }),
      }),
    );
    return {
      name,
      group: s.group,
      ...(out.ScheduleArn ? { arn: out.ScheduleArn } : {}),
      state: 'ENABLED',
      expression,
      timezone,
      description,
      template: { bucket: s.bucket, key: s.key },
      onlyIfChanged: s.onlyIfChanged,
    };
  } catch (err) {
    if (err instanceof ConflictException) {
      throw new ScheduleError(
        'AlreadyExists',
        `a schedule named "${name}" already exists in group ${s.group}: pick another --name, or remove it first ` +
          `(kiln schedules delete ${name})`,
      );
    }
    throw err;
  }
}

export async function getSchedule(client: SchedulerClient, group: string, name: string): Promise<GetScheduleOutput> {
  try {
    return await client.send(new GetScheduleCommand({ GroupName: group, Name: name }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException) throw notFound(name, group);
    throw err;
  }
}

export async function describeSchedule(client: SchedulerClient, group: string, name: string): Promise<KilnSchedule> {
  return toKilnSchedule(await getSchedule(client, group, name), group);
}

/** Every schedule of the group, with its expression and template (one GetSchedule each: List omits them). */
export async function listSchedules(client: SchedulerClient, group: string): Promise<KilnSchedule[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(
      new ListSchedulesCommand({ GroupName: group, ...(token ? { NextToken: token } : {}) }),
    );
    for (const s of out.Schedules ?? []) if (s.Name) names.push(s.Name);
    token = out.NextToken || undefined;
  } while (token);
  names.sort();
  const out: KilnSchedule[] = [];
  for (const name of names) out.push(await describeSchedule(client, group, name));
  return out;
}

/**
 * Sets a schedule's state. UpdateSchedule replaces the whole definition, so everything read is sent back
 * unchanged but the state. Returns the state it had (so a caller knows whether it changed anything).
 */
export async function setScheduleState(
  client: SchedulerClient,
  group: string,
  name: string,
  state: 'ENABLED' | 'DISABLED',
): Promise<{ previous: 'ENABLED' | 'DISABLED'; schedule: KilnSchedule }> {
  const current = await getSchedule(client, group, name);
  const previous = current.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
  if (previous !== state) {
    await client.send(
      new UpdateScheduleCommand({
        Name: name,
        GroupName: current.GroupName ?? group,
        ScheduleExpression: current.ScheduleExpression,
        ...(current.ScheduleExpressionTimezone
          ? { ScheduleExpressionTimezone: current.ScheduleExpressionTimezone }
          : {}),
        ...(current.StartDate ? { StartDate: current.StartDate } : {}),
        ...(current.EndDate ? { EndDate: current.EndDate } : {}),
        ...(current.Description !== undefined ? { Description: current.Description } : {}),
        ...(current.KmsKeyArn ? { KmsKeyArn: current.KmsKeyArn } : {}),
        ...(current.ActionAfterCompletion ? { ActionAfterCompletion: current.ActionAfterCompletion } : {}),
        FlexibleTimeWindow: current.FlexibleTimeWindow ?? { Mode: 'OFF' },
        Target: current.Target,
        State: state,
      }),
    );
  }
  return { previous, schedule: { ...toKilnSchedule(current, group), state } };
}

export async function deleteSchedule(client: SchedulerClient, group: string, name: string): Promise<void> {
  try {
    await client.send(new DeleteScheduleCommand({ GroupName: group, Name: name }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException) throw notFound(name, group);
    throw err;
  }
}
