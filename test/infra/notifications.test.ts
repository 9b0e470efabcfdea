/**
 * The optional notifications (`kiln:notifications`): a KMS-encrypted, TLS-only SNS topic with email subscriptions,
 * and an EventBridge rule on Kiln's source and the chosen detail-types targeting it; or an existing topic. cdk-nag
 * runs in every synthesis here (a finding fails it).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readKilnContext } from '../../infra/context.ts';
import { logicalId, synthFixtureStack } from './helpers.ts';

describe('notifications', () => {
  it('creates nothing without the prop', () => {
    const { stack, template } = synthFixtureStack();
    expect(stack.notifications).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('"kiln"]');
  });

  it('creates an encrypted, TLS-only topic, email subscriptions and a rule on the default detail-types', () => {
    const { stack, template } = synthFixtureStack({
      'kiln:notifications': JSON.stringify({ email: ['ops@example.com', 'dev@example.com'] }),
    });
    const n = stack.notifications;
    if (!n?.key) throw new Error('no notifications');
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, n.key), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'Kiln notifications topic',
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowEventBridgeToPublishEncrypted',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    // enforceSSL: a Deny of every sns action when aws:SecureTransport is false; EventBridge may publish.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'events.amazonaws.com' },
          }),
        ]),
      },
    });
    const subs = Object.values(template.findResources('AWS::SNS::Subscription')).map((r) => r.Properties);
    expect(subs.map((p) => [p.Protocol, p.Endpoint]).sort()).toEqual([
      ['email', 'dev@example.com'],
      ['email', 'ops@example.com'],
    ]);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['kiln'],
        'detail-type': ['Kiln Build Failed', 'Kiln Artifact Revoked', 'Kiln Schedule Disabled'],
      },
      Targets: [Match.objectLike({ Arn: { Ref: logicalId(stack, n.topic) } })],
    });
    // What cannot be delivered is kept: the rule's target and each subscription redrive to the queue.
    const dlq = { 'Fn::GetAtt': [logicalId(stack, n.deadLetterQueue), 'Arn'] };
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: dlq } })],
    });
    for (const p of subs) expect(p.RedrivePolicy).toEqual({ deadLetterTargetArn: dlq });
    template.hasOutput('NotificationsTopicArn', { Value: { Ref: logicalId(stack, n.topic) } });
  });

  it('forwards the chosen detail-types to an existing topic, creating no topic or key', () => {
    const topicArn = 'arn:aws:sns:us-east-1:111122223333:ops';
    const { template } = synthFixtureStack({
      'kiln:notifications': { topicArn, detailTypes: ['Kiln Build Succeeded', 'Kiln Channel Updated'] },
    });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['kiln'], 'detail-type': ['Kiln Build Succeeded', 'Kiln Channel Updated'] },
      Targets: [Match.objectLike({ Arn: topicArn })],
    });
    expect(
      Object.values(template.findResources('AWS::KMS::Key')).some(
        (k) => k.Properties.Description === 'Kiln notifications topic',
      ),
    ).toBe(false);
  });

  it('refuses unknown detail-types, bad addresses, and email with a topic ARN, saying what to give', () => {
    expect(() => synthFixtureStack({ 'kiln:notifications': { detailTypes: ['Build Failed'] } })).toThrow(
      /notifications.detailTypes must name Kiln events .*not Build Failed/,
    );
    expect(() => synthFixtureStack({ 'kiln:notifications': { email: ['not-an-address'] } })).toThrow(
      /invalid addresses: not-an-address/,
    );
    expect(() =>
      synthFixtureStack({ 'kiln:notifications': { email: ['a@b.co'], topicArn: 'arn:aws:sns:us-east-1:1:t' } }),
    ).toThrow(/email .* or topicArn .*, not both/);
    expect(() => readKilnContext((k) => (k === 'kiln:notifications' ? '{oops' : undefined))).toThrow(
      /kiln:notifications must be JSON/,
    );
    expect(() => readKilnContext((k) => (k === 'kiln:notifications' ? { emails: [] } : undefined))).toThrow(
      /unknown keys emails/,
    );
  });
});
