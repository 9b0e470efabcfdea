import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ALL_KILN_DETAIL_TYPES,
  DEFAULT_NOTIFIED_DETAIL_TYPES,
  KILN_EVENT_SOURCE,
  type KilnDetailType,
} from '../../aws/events-contract.ts';
import { tagComponent } from './component-tag.ts';
import { acknowledge } from './nag-acknowledge.ts';

/**
 * Optional notifications of Kiln's events (stack prop `notifications`, context `kiln:notifications`): an
 * EventBridge rule on Kiln's source and the chosen detail-types, forwarding each event (its JSON) to an SNS topic.
 */
export interface KilnNotifications {
  /** Email addresses subscribed to the topic Kiln creates (each confirms by email, as SNS requires). */
  readonly email?: readonly string[];
  /**
   * An existing topic to publish to instead of creating one. Its access policy must let
   * `events.amazonaws.com` publish (and, when it is KMS-encrypted, its key policy let EventBridge use the key).
   */
  readonly topicArn?: string;
  /** @default ['Kiln Build Failed', 'Kiln Artifact Revoked', 'Kiln Schedule Disabled'] */
  readonly detailTypes?: readonly KilnDetailType[];
}

export class Notifications extends Construct {
  public readonly topic: sns.ITopic;
  public readonly rule: events.Rule;
  /** The key of the topic Kiln created (absent with `topicArn`). */
  public readonly key?: kms.Key;
  /** Events the rule could not deliver to the topic (after EventBridge's retries, up to a day), and messages an
   * email subscription could not deliver (SNS redrive). */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: KilnNotifications) {
    super(scope, id);
    const detailTypes = [...(props.detailTypes ?? DEFAULT_NOTIFIED_DETAIL_TYPES)];
    const unknown = detailTypes.filter((t) => !ALL_KILN_DETAIL_TYPES.includes(t));
    if (detailTypes.length === 0 || unknown.length > 0) {
      throw new Error(
        `KilnStack: notifications.detailTypes must name Kiln events (${ALL_KILN_DETAIL_TYPES.join(', ')})${unknown.length > 0 ? `, not ${unknown.join(', ')}` : ''}`,
      );
    }
    const email = [...(props.email ?? [])];
    const bad = email.filter((e) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e));
    if (bad.length > 0) throw new Error(`KilnStack: notifications.email has invalid addresses: ${bad.join(', ')}`);
    if (props.topicArn && email.length > 0) {
      throw new Error('KilnStack: notifications takes email (Kiln creates the topic) or topicArn (yours), not both');
    }

    this.deadLetterQueue = new sqs.Queue(this, 'Undelivered', {
      // SQS-managed SSE: EventBridge can write to it without a key policy for its principal.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const rule of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      acknowledge(
        this.deadLetterQueue,
        rule,
        'This queue is itself the dead-letter queue of the notifications rule and subscriptions.',
      );
    }
    if (props.topicArn) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.topicArn);
    } else {
      // A key of its own: EventBridge must be allowed to use it, which the data key's users must not share.
      this.key = new kms.Key(this, 'Key', {
        description: 'Kiln notifications topic',
        enableKeyRotation: true,
        rotationPeriod: Duration.days(365),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowEventBridgeToPublishEncrypted',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      const topic = new sns.Topic(this, 'Topic', {
        displayName: 'Kiln notifications',
        masterKey: this.key,
        // Denies every publish or subscribe that is not over TLS (aws:SecureTransport false) in the topic policy.
        enforceSSL: true,
      });
      for (const address of email)
        topic.addSubscription(new subscriptions.EmailSubscription(address, { deadLetterQueue: this.deadLetterQueue }));
      this.topic = topic;
    }

    this.rule = new events.Rule(this, 'Rule', {
      description: `Kiln events to the notifications topic: ${detailTypes.join(', ')}`,
      eventPattern: { source: [KILN_EVENT_SOURCE], detailType: detailTypes },
      targets: [new targets.SnsTopic(this.topic, { deadLetterQueue: this.deadLetterQueue })],
    });
    tagComponent(this, 'notifications');
  }
}
