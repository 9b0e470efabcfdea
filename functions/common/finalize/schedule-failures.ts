/**
 * Auto-disable: after a scheduled build ends, Finalize asks whether its schedule has now failed `limit` times in
 * a row; if so it disables the schedule (Scheduler UpdateSchedule, State DISABLED) and puts a `Kiln Schedule
 * Disabled` event on the default bus. No counter is kept: the run of failures is read from the schedule's build
 * records (the builds table's byTemplate index; aws/schedules.ts decides what counts), so a retried Finalize
 * computes the same answer, and a resumed schedule starts from its next build.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { recentScheduledBuilds } from '../../../aws/build-history.ts';
import type { BuildStatus } from '../../../aws/build-records.ts';
import { setScheduleState } from '../../../aws/schedule-store.ts';
import {
  consecutiveFailures,
  KILN_EVENT_SOURCE,
  SCHEDULE_DISABLED_DETAIL_TYPE,
  type ScheduleDisabledDetail,
  ScheduleError,
  scheduleDisabledDetail,
  shouldDisable,
} from '../../../aws/schedules.ts';

export interface ScheduleFailureDeps {
  readonly dynamo: DynamoDBClient;
  readonly buildsTable: string;
  readonly scheduler: SchedulerClient;
  readonly events: EventBridgeClient;
  /** The stack's schedule group (IAM lets Finalize update schedules of this group only). */
  readonly group: string;
  /** Failed builds in a row that disable a schedule. */
  readonly limit: number;
}

export interface ScheduledBuildEnd {
  readonly buildId: string;
  readonly schedule: string;
  readonly template: { readonly bucket: string; readonly key: string };
  readonly status: BuildStatus;
  readonly at: string;
}

/** What Finalize reports (in its result's `schedule`): the run of failures and whether it disabled the schedule. */
export interface ScheduleHealth {
  readonly schedule: string;
  readonly consecutiveFailures: number;
  readonly limit: number;
  readonly disabled: boolean;
  /** Why nothing was disabled although the limit was reached (the schedule is gone, or was already disabled). */
  readonly note?: string;
  readonly event?: ScheduleDisabledDetail;
}

export async function checkScheduleHealth(deps: ScheduleFailureDeps, end: ScheduledBuildEnd): Promise<ScheduleHealth> {
  const base = { schedule: end.schedule, limit: deps.limit };
  if (end.status === 'SUCCEEDED' || end.status === 'SKIPPED' || end.status === 'RUNNING') {
    return { ...base, consecutiveFailures: 0, disabled: false };
  }
  // Read until the run is known to be long enough (counting this build), or a success ends it.
  const builds = await recentScheduledBuilds(
    deps.dynamo,
    deps.buildsTable,
    end.template,
    end.schedule,
    (read) =>
      consecutiveFailures(read.filter((b) => b.buildId !== end.buildId)).length + 1 >= deps.limit ||
      read.some((b) => b.status === 'SUCCEEDED' && b.buildId !== end.buildId),
  );
  // The index is eventually consistent: the outcome just written may not be in it yet, so this build's status is
  // the one Finalize knows.
  const current = { buildId: end.buildId, status: end.status };
  const known = builds.some((b) => b.buildId === end.buildId)
    ? builds.map((b) => (b.buildId === end.buildId ? current : b))
    : [current, ...builds];
  const failed = consecutiveFailures(known);
  if (!shouldDisable(end.buildId, failed, deps.limit)) {
    return { ...base, consecutiveFailures: failed.length, disabled: false };
  }
  let previous: 'ENABLED' | 'DISABLED';
  try {
    previous = (await setScheduleState(deps.scheduler, deps.group, end.schedule, 'DISABLED')).previous;
  } catch (err) {
    if (err instanceof ScheduleError && err.code === 'NotFound') {
      return { ...base, consecutiveFailures: failed.length, disabled: false, note: err.message };
    }
    throw err;
  }
  if (previous === 'DISABLED') {
    return { ...base, consecutiveFailures: failed.length, disabled: false, note: 'the schedule was already disabled' };
  }
  const detail = scheduleDisabledDetail({
    schedule: end.schedule,
    group: deps.group,
    template: end.template,
    failedBuilds: failed,
    limit: deps.limit,
    disabledAt: end.at,
  });
  // After the schedule is disabled, a failed PutEvents must not fail Finalize: a retry would find the schedule
  // already disabled and could not tell it was its own doing. The result says the event was not sent instead.
  try {
    const out = await deps.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: KILN_EVENT_SOURCE,
            DetailType: SCHEDULE_DISABLED_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0];
      return { ...disabled(detail), note: `the event was not accepted: ${entry?.ErrorCode} ${entry?.ErrorMessage}` };
    }
  } catch (err) {
    return { ...disabled(detail), note: `the event was not sent: ${err instanceof Error ? err.message : String(err)}` };
  }
  return disabled(detail);
}

function disabled(detail: ScheduleDisabledDetail): ScheduleHealth {
  return {
    schedule: detail.schedule,
    limit: detail.limit,
    consecutiveFailures: detail.consecutiveFailures,
    disabled: true,
    event: detail,
  };
}
