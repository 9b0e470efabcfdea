import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { scheduledBuildInput, TEMPLATE_SUFFIXES } from '../../aws/trigger-contract.ts';
import { tagComponent } from './component-tag.ts';
import { acknowledge } from './nag-acknowledge.ts';

export { TEMPLATE_SUFFIXES };

/** A periodic rebuild of one template. */
export interface ScheduledBuild {
  /** Schedule name: letters, digits, `-`, `_`, `.`; at most 64. */
  readonly name: string;
  /** `cron(...)` or `rate(...)` expression, or the six bare cron fields (`0 3 ? * MON *`). */
  readonly cron: string;
  readonly template: { readonly bucket: string; readonly key: string };
  /** IANA time zone of the cron expression. @default 'UTC' */
  readonly timezone?: string;
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
}

const SCHEDULE_NAME = /^[0-9a-zA-Z_.-]{1,64}$/;

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

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    const schedules = props.schedules ?? [];
    const retryAttempts = props.retryAttempts ?? 8;
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
        maxEventAge: Duration.hours(6),
      }),
    );

    this.schedules = schedules.map((schedule) => this.createSchedule(schedule, props.stateMachine, retryAttempts));
    if (schedules.length > 0) this.deadLetterQueue.grantSendMessages(this.startRole);
    tagComponent(this, 'triggers');
  }

  private createSchedule(s: ScheduledBuild, machine: sfn.IStateMachine, retryAttempts: number): scheduler.CfnSchedule {
    const input = scheduledBuildInput(s.name, s.template.bucket, s.template.key);
    return new scheduler.CfnSchedule(this, `Schedule-${s.name}`, {
      name: s.name,
      description: `Kiln rebuild of s3://${s.template.bucket}/${s.template.key}`,
      scheduleExpression: scheduleExpression(s.cron),
      scheduleExpressionTimezone: s.timezone ?? 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: machine.stateMachineArn,
        roleArn: this.startRole.roleArn,
        input: JSON.stringify(input),
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        retryPolicy: { maximumRetryAttempts: retryAttempts, maximumEventAgeInSeconds: 6 * 3600 },
      },
    });
  }
}

/** `cron(...)`/`rate(...)` pass through; six bare cron fields are wrapped. */
export function scheduleExpression(cron: string): string {
  const trimmed = cron.trim();
  if (/^(cron|rate|at)\(.+\)$/.test(trimmed)) return trimmed;
  if (trimmed.split(/\s+/).length === 6) return `cron(${trimmed})`;
  throw new Error(`Triggers: "${cron}" is neither cron(...)/rate(...) nor six cron fields`);
}

function validate(schedules: readonly ScheduledBuild[], retryAttempts: number, prefix: string): void {
  if (!prefix.endsWith('/')) throw new Error(`Triggers: templatesPrefix "${prefix}" must end with "/"`);
  if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
    throw new Error('Triggers: retryAttempts must be 0..185');
  }
  const names = new Set<string>();
  for (const s of schedules) {
    if (!SCHEDULE_NAME.test(s.name)) throw new Error(`Triggers: bad schedule name "${s.name}"`);
    if (names.has(s.name)) throw new Error(`Triggers: duplicate schedule "${s.name}"`);
    names.add(s.name);
    if (!s.template.bucket || !s.template.key) throw new Error(`Triggers: schedule "${s.name}" needs bucket and key`);
    scheduleExpression(s.cron);
  }
}
