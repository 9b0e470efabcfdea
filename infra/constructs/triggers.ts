import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  checkScheduleName,
  checkTimezone,
  DEFAULT_RETRY_ATTEMPTS,
  MAX_EVENT_AGE_SECONDS,
  SCHEDULE_GROUP,
  SCHEDULE_GROUP_TAGS,
  STACK_MANAGED_MARK,
  scheduleExpression,
  scheduleTarget,
} from '../../aws/schedules.ts';
import { TEMPLATE_SUFFIXES } from '../../aws/trigger-contract.ts';
import { tagComponent } from './component-tag.ts';
import { acknowledge } from './nag-acknowledge.ts';

export { scheduleExpression, TEMPLATE_SUFFIXES };

/** A periodic rebuild of one template. */
export interface ScheduledBuild {
  /** Schedule name: letters, digits, `-`, `_`, `.`; at most 64. */
  readonly name: string;
  /** `cron(...)` or `rate(...)` expression, or the six bare cron fields (`0 3 ? * MON *`). */
  readonly cron: string;
  readonly template: { readonly bucket: string; readonly key: string };
  /** IANA time zone of the cron expression. @default 'UTC' */
  readonly timezone?: string;
  /** Build only when an input moved since the template's last successful build (README). @default false */
  readonly onlyIfChanged?: boolean;
}

export interface TriggersProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly templateBucket: s3.IBucket;
  /** Key prefix whose uploads start builds. */
  readonly templatesPrefix: string;
  /** @default [] */
  readonly schedules?: readonly ScheduledBuild[];
  /** Attempts EventBridge and Scheduler make to start an execution before the event goes to the DLQ. @default 8 */
  readonly retryAttempts?: number;
  /** The schedule group of every Kiln schedule (these and `kiln schedules add`'s). @default 'kiln' */
  readonly scheduleGroupName?: string;
}

/**
 * What starts a build: an upload to the template bucket (S3 → EventBridge → StartExecution with the event as
 * input) and EventBridge Scheduler rebuilds. Both input shapes are owned by aws/trigger-contract.ts, which
 * PrepareBuild parses with.
 * Starts that keep failing land in one encrypted dead-letter queue.
 */
export class Triggers extends Construct {
  public readonly uploadRule: events.Rule;
  public readonly deadLetterQueue: sqs.Queue;
  /** Role EventBridge and Scheduler assume; it may start the build state machine and nothing else. */
  public readonly startRole: iam.Role;
  public readonly schedules: readonly scheduler.CfnSchedule[];
  /**
   * The group `kiln schedules` creates schedules in; its tags say what they target (aws/schedules.ts), so the CLI
   * needs no stack outputs, and IAM for Finalize's auto-disable is scoped to it.
   */
  public readonly scheduleGroup: scheduler.CfnScheduleGroup;

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    const schedules = props.schedules ?? [];
    const retryAttempts = props.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS;
    const groupName = checkScheduleName(props.scheduleGroupName ?? SCHEDULE_GROUP);
    validate(schedules, retryAttempts, props.templatesPrefix);
    const account = Stack.of(this).account;

    this.deadLetterQueue = new sqs.Queue(this, 'StartFailures', {
      // SQS-managed SSE: EventBridge and Scheduler can write to it without a key policy for their principals.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const rule of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      acknowledge(this.deadLetterQueue, rule, 'This queue is itself the dead-letter queue of the build triggers.');
    }

    this.startRole = new iam.Role(this, 'StartBuildRole', {
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal('events.amazonaws.com'),
        new iam.ServicePrincipal('scheduler.amazonaws.com'),
      ).withConditions({ StringEquals: { 'aws:SourceAccount': account } }),
      description: 'Kiln triggers: start the build state machine',
    });
    this.startRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartBuildExecutions',
        actions: ['states:StartExecution'],
        resources: [props.stateMachine.stateMachineArn],
      }),
    );

    this.uploadRule = new events.Rule(this, 'TemplateUploaded', {
      description: 'Start a Kiln build when a template is uploaded',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.templateBucket.bucketName] },
          object: { key: TEMPLATE_SUFFIXES.map((suffix) => ({ wildcard: `${props.templatesPrefix}*${suffix}` })) },
        },
      },
    });
    this.uploadRule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        input: events.RuleTargetInput.fromEventPath('$'),
        role: this.startRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts,
        maxEventAge: Duration.seconds(MAX_EVENT_AGE_SECONDS),
      }),
    );

    const target = {
      stateMachineArn: props.stateMachine.stateMachineArn,
      startRoleArn: this.startRole.roleArn,
      deadLetterQueueArn: this.deadLetterQueue.queueArn,
      templateBucket: props.templateBucket.bucketName,
    };
    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', {
      name: groupName,
      tags: Object.entries(SCHEDULE_GROUP_TAGS).map(([field, key]) => ({
        key,
        value: target[field as keyof typeof SCHEDULE_GROUP_TAGS],
      })),
    });
    this.schedules = schedules.map((schedule) => {
      const created = this.createSchedule(schedule, target, retryAttempts);
      created.node.addDependency(this.scheduleGroup);
      return created;
    });
    // Run-time schedules (`kiln schedules add`) send their undeliverable starts here too.
    this.deadLetterQueue.grantSendMessages(this.startRole);
    tagComponent(this, 'triggers');
  }

  private createSchedule(
    s: ScheduledBuild,
    target: { stateMachineArn: string; startRoleArn: string; deadLetterQueueArn: string },
    retryAttempts: number,
  ): scheduler.CfnSchedule {
    // The same target and input builder as `kiln schedules add` (aws/schedules.ts), so both start identical builds.
    const t = scheduleTarget({
      ...target,
      retryAttempts,
      request: {
        schedule: s.name,
        bucket: s.template.bucket,
        key: s.template.key,
        ...(s.onlyIfChanged ? { onlyIfChanged: true } : {}),
      },
    });
    return new scheduler.CfnSchedule(this, `Schedule-${s.name}`, {
      name: s.name,
      groupName: this.scheduleGroup.name,
      description: `Kiln rebuild of s3://${s.template.bucket}/${s.template.key} ${STACK_MANAGED_MARK}`,
      scheduleExpression: scheduleExpression(s.cron),
      scheduleExpressionTimezone: s.timezone ?? 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: t.Arn,
        roleArn: t.RoleArn,
        input: t.Input,
        deadLetterConfig: { arn: target.deadLetterQueueArn },
        retryPolicy: {
          maximumRetryAttempts: t.RetryPolicy.MaximumRetryAttempts,
          maximumEventAgeInSeconds: t.RetryPolicy.MaximumEventAgeInSeconds,
        },
      },
    });
  }
}

function validate(schedules: readonly ScheduledBuild[], retryAttempts: number, prefix: string): void {
  if (!prefix.endsWith('/')) throw new Error(`Triggers: templatesPrefix "${prefix}" must end with "/"`);
  if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
    throw new Error('Triggers: retryAttempts must be 0..185');
  }
  const names = new Set<string>();
  for (const s of schedules) {
    checkScheduleName(s.name);
    if (names.has(s.name)) throw new Error(`Triggers: duplicate schedule "${s.name}"`);
    names.add(s.name);
    if (!s.template.bucket || !s.template.key) throw new Error(`Triggers: schedule "${s.name}" needs bucket and key`);
    scheduleExpression(s.cron);
    if (s.timezone) checkTimezone(s.timezone);
  }
}
