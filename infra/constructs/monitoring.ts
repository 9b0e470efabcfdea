import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { tagComponent } from './component-tag.ts';

export interface MonitoringProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Alarms made elsewhere (state machine failures, timeouts) that should share the alarm action. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  readonly deadLetterQueue: sqs.IQueue;
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /**
   * Topic notified when any alarm fires.
   * @default - alarms without actions (visible in the console and the dashboard)
   */
  readonly alarmTopic?: sns.ITopic;
  /** @default true */
  readonly dashboard?: boolean;
}

/**
 * Alarms for the ways a build can be lost (failed or timed-out executions, triggers that could not start one),
 * plus a one-page dashboard.
 */
export class Monitoring extends Construct {
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.deadLetterAlarm = props.deadLetterQueue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'TriggerDeadLetters', {
        alarmDescription: 'Kiln: an upload or schedule could not start a build (see the triggers dead-letter queue)',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    if (props.alarmTopic) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const alarm of [this.deadLetterAlarm, ...props.alarms]) {
        if (alarm instanceof cloudwatch.Alarm) alarm.addAlarmAction(action);
      }
    }
    if (props.dashboard ?? true) {
      const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(7) });
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Builds',
          left: [
            props.stateMachine.metricStarted(),
            props.stateMachine.metricSucceeded(),
            props.stateMachine.metricFailed(),
            props.stateMachine.metricTimedOut(),
          ],
          width: 12,
        }),
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: [this.deadLetterAlarm, ...props.alarms],
          width: 12,
        }),
      );
      if (props.functions.size > 0) {
        dashboard.addWidgets(
          new cloudwatch.GraphWidget({
            title: 'Function errors',
            left: [...props.functions.entries()].map(([fid, fn]) => fn.metricErrors({ label: fid })),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Function duration p95',
            left: [...props.functions.entries()].map(([fid, fn]) =>
              fn.metricDuration({ label: fid, statistic: 'p95' }),
            ),
            width: 12,
          }),
        );
      }
      this.dashboard = dashboard;
    }
    tagComponent(this, 'monitoring');
  }
}
