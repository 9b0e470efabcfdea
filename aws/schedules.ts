/**
 * Scheduled rebuilds at run time: the contract between the stack (which creates the schedule group, the role
 * Scheduler assumes and the dead-letter queue), `kiln schedules` (which creates schedules in that group) and
 * Finalize (which disables a schedule that keeps failing). Names, expression and time-zone rules, the group's
 * tags that tell the CLI what a schedule targets, the target itself and the `Kiln Schedule Disabled` event are
 * owned here. Pure: no AWS call.
 */
import { KILN_DETAIL_TYPES } from './events-contract.ts';
import { type ScheduledBuildRequest, scheduledBuildInput } from './trigger-contract.ts';

/** The schedule group the stack creates; every Kiln schedule lives in it (IAM scopes to it). */
export const SCHEDULE_GROUP = 'kiln';

/**
 * Tags on the schedule group: what a schedule in it targets. The CLI reads them, so `kiln schedules add` needs
 * no stack outputs; the stack writes them from the same keys.
 */
export const SCHEDULE_GROUP_TAGS = {
  stateMachineArn: 'kiln:state-machine-arn',
  startRoleArn: 'kiln:start-role-arn',
  deadLetterQueueArn: 'kiln:dead-letter-queue-arn',
  templateBucket: 'kiln:template-bucket',
} as const;
export type ScheduleGroupTarget = { readonly [K in keyof typeof SCHEDULE_GROUP_TAGS]: string };

/** Schedules the CDK app declares say so in their description; the CLI refuses to delete them (drift). */
export const STACK_MANAGED_MARK = '(managed by the Kiln stack)';

/** Attempts Scheduler makes to start an execution before the event goes to the dead-letter queue. */
export const DEFAULT_RETRY_ATTEMPTS = 8;
/** An event older than this is dropped (to the dead-letter queue) instead of starting a stale build. */
export const MAX_EVENT_AGE_SECONDS = 6 * 3600;

export type ScheduleErrorCode =
  | 'InvalidName'
  | 'InvalidExpression'
  | 'InvalidTimezone'
  | 'InvalidTemplate'
  | 'NotFound'
  | 'AlreadyExists'
  | 'NotDeployed'
  | 'StackManaged';

/** A schedule request Kiln refuses; `message` says what to change. The CLI prints it, scripts branch on `code`. */
export class ScheduleError extends Error {
  override readonly name = 'Kiln.ScheduleError';
  constructor(
    readonly code: ScheduleErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Scheduler's own rule for schedule (and group) names. */
const NAME = /^[0-9a-zA-Z_.-]{1,64}$/;

export function checkScheduleName(name: string): string {
  if (!NAME.test(name)) {
    throw new ScheduleError(
      'InvalidName',
      `schedule name "${name}" is not allowed: use 1 to 64 letters, digits, "-", "_" or "."`,
    );
  }
  return name;
}

/**
 * The default name of a template's schedule: its key without `templates/` and the template suffix, other
 * characters as `-` (`templates/team/web.pkr.hcl` → `team-web`), cut to 64.
 */
export function defaultScheduleName(key: string, templatesPrefix: string): string {
  const base = key
    .replace(new RegExp(`^${templatesPrefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), '')
    .replace(/\.(pkr\.hcl|pkr\.json|json|zip|tar\.gz|tgz)$/i, '');
  const name = base
    .replace(/[^0-9a-zA-Z_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return name || 'template';
}

interface CronField {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Special tokens this field accepts besides numbers, ranges, steps and lists. */
  readonly question?: boolean;
  readonly last?: boolean;
  readonly weekday?: boolean;
  readonly nth?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** EventBridge Scheduler's six cron fields (minutes hours day-of-month month day-of-week year). */
const CRON_FIELDS: readonly CronField[] = [
  { label: 'minutes', min: 0, max: 59 },
  { label: 'hours', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31, question: true, last: true, weekday: true },
  { label: 'month', min: 1, max: 12, names: MONTHS },
  { label: 'day-of-week', min: 1, max: 7, names: DAYS, question: true, last: true, nth: true },
  { label: 'year', min: 1970, max: 2199 },
];

function cronValue(token: string, f: CronField): string | undefined {
  const upper = token.toUpperCase();
  const named = f.names?.indexOf(upper) ?? -1;
  if (named >= 0) return undefined;
  if (!/^\d+$/.test(token)) {
    return `"${token}" is not a number${f.names ? ` or one of ${f.names.join(', ')}` : ''}`;
  }
  const n = Number(token);
  return n < f.min || n > f.max ? `${n} is outside ${f.min}-${f.max}` : undefined;
}

/** Why one item of a cron field (between commas) is wrong, or undefined. */
function cronItemProblem(item: string, f: CronField, alone: boolean): string | undefined {
  if (item === '*') return undefined;
  if (item === '?') {
    if (!f.question) return '"?" is only allowed in day-of-month and day-of-week';
    return alone ? undefined : '"?" must be the whole field';
  }
  if (f.last && item.toUpperCase() === 'L') return undefined;
  if (f.weekday && /^\d+W$/i.test(item)) return cronValue(item.slice(0, -1), f);
  if (f.weekday && item.toUpperCase() === 'LW') return undefined;
  if (f.last && f.nth && /^\w+L$/i.test(item)) return cronValue(item.slice(0, -1), f);
  if (f.nth && item.includes('#')) {
    const [day = '', nth = ''] = item.split('#');
    if (!/^[1-5]$/.test(nth)) return `"${item}": the week after # must be 1-5`;
    return cronValue(day, f);
  }
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined) return `"${item}" has more than one "/"`;
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1)) {
    return `"${item}": the increment after "/" must be a positive number`;
  }
  if (range === '*') return undefined;
  const bounds = range.split('-');
  if (bounds.length > 2) return `"${item}" is not a value or a range a-b`;
  for (const b of bounds) {
    const problem = cronValue(b, f);
    if (problem) return problem;
  }
  return undefined;
}

const RATE = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/**
 * A schedule expression as Scheduler wants it, or a ScheduleError saying what is wrong: `cron(...)` (six fields),
 * `rate(N unit)`, `at(yyyy-mm-ddThh:mm:ss)`, or six bare cron fields (wrapped in `cron(...)`). Checked here so a
 * typo fails on the user's machine with the field named, not as Scheduler's ValidationException.
 */
export function scheduleExpression(raw: string): string {
  const trimmed = raw.trim();
  const invalid = (why: string) =>
    new ScheduleError(
      'InvalidExpression',
      `"${raw}" is not a schedule expression: ${why}. Use cron(minutes hours day-of-month month day-of-week year), ` +
        'e.g. "cron(0 3 ? * MON *)" (03:00 every Monday), or rate(N minutes|hours|days), e.g. "rate(12 hours)"',
    );
  if (trimmed.startsWith('rate(')) {
    const m = RATE.exec(trimmed);
    if (!m) throw invalid('rate(...) takes a whole number and minute(s), hour(s) or day(s)');
    const n = Number(m[1]);
    const unit = m[2] ?? '';
    if (n < 1) throw invalid('the rate must be at least 1');
    if ((n === 1) !== !unit.endsWith('s'))
      throw invalid(`write rate(1 ${unit.replace(/s$/, '')}) or rate(${n} ${unit.replace(/s?$/, 's')})`);
    return trimmed;
  }
  if (trimmed.startsWith('at(')) {
    const m = AT.exec(trimmed);
    if (!m || Number.isNaN(Date.parse(`${trimmed.slice(3, -1)}Z`))) throw invalid('at(...) takes yyyy-mm-ddThh:mm:ss');
    return trimmed;
  }
  const body = /^cron\((.*)\)$/.exec(trimmed)?.[1] ?? trimmed;
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw invalid(
      `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), this has ${fields.length}`,
    );
  }
  fields.forEach((field, i) => {
    const f = CRON_FIELDS[i] as CronField;
    const items = field.split(',');
    for (const item of items) {
      const problem = cronItemProblem(item, f, items.length === 1);
      if (problem) throw invalid(`field ${i + 1} (${f.label}) ${problem}`);
    }
  });
  const dom = fields[2];
  const dow = fields[4];
  if ((dom === '?') === (dow === '?')) {
    throw invalid('exactly one of day-of-month (field 3) and day-of-week (field 5) must be "?"');
  }
  return `cron(${fields.join(' ')})`;
}

/** An IANA time zone Node knows (the same database Scheduler uses), or a ScheduleError naming an example. */
export function checkTimezone(zone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    throw new ScheduleError(
      'InvalidTimezone',
      `unknown time zone "${zone}": use an IANA name such as UTC, Europe/Paris or America/New_York`,
    );
  }
}

/** What `kiln schedules add` and the CDK app both create: the schedule's target and its input. */
export interface ScheduleTargetSpec extends Pick<ScheduleGroupTarget, 'stateMachineArn' | 'startRoleArn'> {
  readonly deadLetterQueueArn?: string;
  readonly retryAttempts?: number;
  readonly request: ScheduledBuildRequest;
}

/** Scheduler's `Target` (the Step Functions StartExecution templated target), in the SDK's field names. */
export function scheduleTarget(spec: ScheduleTargetSpec) {
  return {
    Arn: spec.stateMachineArn,
    RoleArn: spec.startRoleArn,
    Input: JSON.stringify(scheduledBuildInput(spec.request)),
    ...(spec.deadLetterQueueArn ? { DeadLetterConfig: { Arn: spec.deadLetterQueueArn } } : {}),
    RetryPolicy: {
      MaximumRetryAttempts: spec.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
      MaximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Auto-disable: a schedule whose builds fail N times in a row disables itself and says so.

/** How many consecutive failed builds disable a schedule (Finalize's environment; the CDK prop fills it). */
export const SCHEDULE_FAILURE_LIMIT_ENV = 'KILN_SCHEDULE_FAILURE_LIMIT';
export const DEFAULT_SCHEDULE_FAILURE_LIMIT = 3;

/** The event Finalize puts on the account's default bus when it disables a schedule (aws/events-contract.ts). */
export { KILN_EVENT_SOURCE } from './events-contract.ts';
export const SCHEDULE_DISABLED_DETAIL_TYPE = KILN_DETAIL_TYPES.scheduleDisabled;

/** `detail` of `Kiln Schedule Disabled` (documented in README, "Scheduled rebuilds"). */
export interface ScheduleDisabledDetail {
  readonly schedule: string;
  readonly group: string;
  readonly template: { readonly bucket: string; readonly key: string };
  /** Failed builds in a row, newest first (their build ids), at least `limit` of them. */
  readonly failedBuilds: readonly string[];
  readonly consecutiveFailures: number;
  readonly limit: number;
  readonly disabledAt: string;
  /** The command that turns it back on. */
  readonly resume: string;
}

/** The statuses a schedule's build can have, as the build record stores them. */
export type ScheduledBuildStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'PARTIAL' | 'SKIPPED';

/**
 * Failed builds in a row, newest first, from a schedule's builds ordered newest first: FAILED and PARTIAL count
 * (the execution failed), SUCCEEDED ends the run, and RUNNING (a concurrent execution) and SKIPPED (unchanged
 * inputs: nothing was tried) are passed over without ending it.
 */
export function consecutiveFailures(
  newestFirst: readonly { readonly buildId: string; readonly status: ScheduledBuildStatus }[],
): string[] {
  const failed: string[] = [];
  for (const b of newestFirst) {
    if (b.status === 'SUCCEEDED') break;
    if (b.status === 'FAILED' || b.status === 'PARTIAL') failed.push(b.buildId);
  }
  return failed;
}

/**
 * Whether the build that just ended makes its schedule disable itself: it failed, and with it the last `limit`
 * builds of the schedule did. Only the build that reaches the limit decides, so a retried Finalize of an older
 * build never disables a schedule that was resumed since.
 */
export function shouldDisable(buildId: string, failedInARow: readonly string[], limit: number): boolean {
  return failedInARow[0] === buildId && failedInARow.length >= limit;
}

export function scheduleDisabledDetail(
  r: Omit<ScheduleDisabledDetail, 'consecutiveFailures' | 'resume'>,
): ScheduleDisabledDetail {
  return {
    ...r,
    consecutiveFailures: r.failedBuilds.length,
    resume: `kiln schedules resume ${r.schedule}${r.group === SCHEDULE_GROUP ? '' : ` --group ${r.group}`}`,
  };
}

/** The failure limit from the environment: a whole number of at least 1, default 3. */
export function failureLimitFrom(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_SCHEDULE_FAILURE_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`${SCHEDULE_FAILURE_LIMIT_ENV} must be a whole number of at least 1, got "${raw}"`);
  }
  return n;
}
