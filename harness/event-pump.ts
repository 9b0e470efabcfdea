/**
 * S3 upload → build, locally. In AWS the stack's EventBridge rule starts the state machine itself. moto matches
 * the rule (patterns, wildcards, S3 "Object Created" events) but cannot deliver to a state machine target. So
 * for every rule with a state machine target, the harness adds a mirror rule with the SAME event pattern whose
 * target is an SQS queue, and this pump reads the queue and calls StartExecution with the event as input (the
 * target's InputPath or constant Input applied), which is exactly what the real rule's target does.
 * The stack's own rule stays deployed as synthesized; moto_launcher.py makes moto skip its undeliverable target
 * without hiding the event from the mirror.
 */
import { createHash } from 'node:crypto';
import {
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_REGION, localClientConfig } from './clients.ts';

export interface MirroredRule {
  readonly ruleName: string;
  readonly mirrorRuleName: string;
  readonly queueUrl: string;
  readonly stateMachineArn: string;
  readonly inputPath?: string;
  readonly input?: string;
}

export interface PumpedStart {
  readonly ruleName: string;
  readonly executionArn?: string;
  readonly error?: string;
  readonly input: string;
}

export interface EventPump {
  readonly mirrors: readonly MirroredRule[];
  readonly starts: readonly PumpedStart[];
  stop(): Promise<void>;
}

const MIRROR_PREFIX = 'kiln-local-';

export async function mirrorStateMachineRules(endpoint: string, region = LOCAL_REGION): Promise<MirroredRule[]> {
  const events = new EventBridgeClient(localClientConfig(endpoint, region));
  const sqs = new SQSClient(localClientConfig(endpoint, region));
  const rules = (await events.send(new ListRulesCommand({}))).Rules ?? [];
  const mirrors: MirroredRule[] = [];
  for (const rule of rules) {
    if (!rule.Name || !rule.EventPattern || rule.Name.startsWith(MIRROR_PREFIX)) continue;
    const targets = (await events.send(new ListTargetsByRuleCommand({ Rule: rule.Name }))).Targets ?? [];
    for (const target of targets) {
      if (!target.Arn?.includes(':states:') || !target.Arn.includes(':stateMachine:')) continue;
      if (target.InputTransformer) {
        throw new Error(`event pump: rule ${rule.Name} uses an InputTransformer, which the harness does not mirror`);
      }
      // Rule names are capped at 64 characters and queue names at 80: a short stable hash names the pair.
      const suffix = createHash('sha256').update(`${rule.Name}/${target.Id}`).digest('hex').slice(0, 16);
      const name = `${MIRROR_PREFIX}${suffix}`;
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      await events.send(
        new PutRuleCommand({
          Name: name,
          EventPattern: rule.EventPattern,
          State: rule.State ?? 'ENABLED',
          Description: `Local mirror of ${rule.Name} (state machine target delivered by the harness's event pump)`,
        }),
      );
      await events.send(
        new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'event-pump', Arn: attributes.Attributes?.QueueArn }] }),
      );
      mirrors.push({
        ruleName: rule.Name,
        mirrorRuleName: name,
        queueUrl: QueueUrl ?? '',
        stateMachineArn: target.Arn,
        ...(target.InputPath ? { inputPath: target.InputPath } : {}),
        ...(target.Input ? { input: target.Input } : {}),
      });
    }
  }
  return mirrors;
}

export function startEventPump(
  endpoint: string,
  mirrors: readonly MirroredRule[],
  options: { region?: string; onStart?: (start: PumpedStart) => void } = {},
): EventPump {
  const region = options.region ?? LOCAL_REGION;
  const sqs = new SQSClient(localClientConfig(endpoint, region));
  const sfn = new SFNClient(localClientConfig(endpoint, region));
  const starts: PumpedStart[] = [];
  let running = true;

  const pumpOne = async (mirror: MirroredRule): Promise<void> => {
    while (running) {
      const received = await sqs
        .send(new ReceiveMessageCommand({ QueueUrl: mirror.queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }))
        .catch(() => undefined); // moto reset or stopping: try again or leave
      for (const message of received?.Messages ?? []) {
        const event = JSON.parse(message.Body ?? '{}') as unknown;
        const input = mirror.input ?? JSON.stringify(selectPath(event, mirror.inputPath ?? '$'));
        const start: PumpedStart = await sfn
          .send(new StartExecutionCommand({ stateMachineArn: mirror.stateMachineArn, input }))
          .then((out) => ({
            ruleName: mirror.ruleName,
            input,
            ...(out.executionArn ? { executionArn: out.executionArn } : {}),
          }))
          .catch((error: unknown) => ({ ruleName: mirror.ruleName, input, error: String(error) }));
        starts.push(start);
        options.onStart?.(start);
        // A failed delete only means the message may come again; the loop must keep pumping.
        await sqs
          .send(new DeleteMessageCommand({ QueueUrl: mirror.queueUrl, ReceiptHandle: message.ReceiptHandle }))
          .catch(() => undefined);
      }
      if (!received) await new Promise((r) => setTimeout(r, 200));
    }
  };
  const loops = mirrors.map((mirror) => pumpOne(mirror));
  return {
    mirrors,
    starts,
    stop: async () => {
      running = false;
      await Promise.allSettled(loops);
    },
  };
}

/** EventBridge `InputPath`: `$` or a dotted path (`$.detail.object`). */
export function selectPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path)) throw new Error(`event pump: unsupported InputPath ${path}`);
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], event);
}
