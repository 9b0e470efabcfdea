/**
 * EventBridge schedules for the local stack: moto creates `AWS::Events::Rule`s with a `ScheduleExpression` but
 * never fires them. The timer fires each enabled schedule rule of the synthesized template (api-template.ts) on
 * its own interval (the rule's `rate(...)`, or `intervalSeconds` for every rule, e.g. 2 s in tests), invoking each
 * Lambda target asynchronously (`Event`, as EventBridge does) with a scheduled event, through the router's Lambda
 * invoker. The target needs an `AWS::Lambda::Permission` for `events.amazonaws.com` whose SourceArn is the rule
 * (as in AWS, where EventBridge cannot invoke without it): a target without one is not invoked and is reported
 * in `refused`. A `cron(...)` rule fires only with `intervalSeconds` (the harness does not evaluate cron).
 */
import { randomUUID } from 'node:crypto';
import { EVENTS_PRINCIPAL, permits, rateSeconds, type TemplateSchedule } from './api-template.ts';
import type { InvokeResult } from './lambda-invoker.ts';

export interface ScheduleTimerOptions {
  readonly schedules: readonly TemplateSchedule[];
  readonly region: string;
  readonly account: string;
  /** Logical id → physical id (rule names, function names). */
  readonly physicalIds: ReadonlyMap<string, string>;
  /** Invokes a deployed function with an invocation type (the router's Lambda invoker). */
  readonly invoke: (functionName: string, payload: string, invocationType: 'Event') => Promise<InvokeResult>;
  /** Fire every rule this often instead of its own rate. */
  readonly intervalSeconds?: number;
}

export interface ScheduledFiring {
  readonly at: Date;
  readonly ruleId: string;
  readonly functionName: string;
  /** The Invoke answer (202 for an accepted asynchronous invocation). */
  readonly status: number;
}

export interface ScheduleTimer {
  readonly firings: readonly ScheduledFiring[];
  /** Rules and targets not fired, with why (no invoke permission, cron without an interval, disabled). */
  readonly refused: readonly { readonly ruleId: string; readonly reason: string }[];
  stop(): void;
}

export function startScheduleTimer(options: ScheduleTimerOptions): ScheduleTimer {
  const firings: ScheduledFiring[] = [];
  const refused: { ruleId: string; reason: string }[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (const schedule of options.schedules) {
    if (!schedule.enabled) {
      refused.push({ ruleId: schedule.ruleId, reason: 'the rule is DISABLED' });
      continue;
    }
    const seconds = options.intervalSeconds ?? rateSeconds(schedule.expression);
    if (seconds === undefined || !(seconds > 0)) {
      refused.push({ ruleId: schedule.ruleId, reason: `${schedule.expression}: only rate() is timed locally` });
      continue;
    }
    const ruleName = options.physicalIds.get(schedule.ruleId) ?? schedule.ruleId;
    const ruleArn = `arn:aws:events:${options.region}:${options.account}:rule/${ruleName}`;
    const targets = schedule.functionIds.flatMap((functionId) => {
      const functionName = options.physicalIds.get(functionId);
      if (!functionName) {
        refused.push({ ruleId: schedule.ruleId, reason: `${functionId} is not deployed` });
        return [];
      }
      if (!permits(schedule.permissions, functionId, EVENTS_PRINCIPAL, `{ref:${schedule.ruleId}}`)) {
        refused.push({
          ruleId: schedule.ruleId,
          reason: `no AWS::Lambda::Permission lets ${EVENTS_PRINCIPAL} invoke ${functionId} for this rule`,
        });
        return [];
      }
      return [functionName];
    });
    if (targets.length === 0) continue;
    const fire = () => {
      const event = scheduledEvent(ruleArn, options.region, options.account);
      for (const functionName of targets) {
        void options
          .invoke(functionName, JSON.stringify(event), 'Event')
          .then((result) => result.status)
          .catch(() => 500)
          .then((status) => firings.push({ at: new Date(), ruleId: schedule.ruleId, functionName, status }));
      }
    };
    const timer = setInterval(fire, seconds * 1000);
    timer.unref();
    timers.push(timer);
  }
  return {
    firings,
    refused,
    stop: () => {
      for (const timer of timers) clearInterval(timer);
      timers.length = 0;
    },
  };
}

/** What EventBridge delivers to a schedule rule's target. */
export function scheduledEvent(ruleArn: string, region: string, account: string): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    // EventBridge writes the scheduled time to the second.
    time: `${new Date().toISOString().slice(0, 19)}Z`,
    region,
    resources: [ruleArn],
    detail: {},
  };
}
