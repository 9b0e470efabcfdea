/**
 * A bounded wait for one SSM command inside a single Lambda invocation (Cleanup's error-cleanup-provisioner and
 * container removal): poll GetCommandInvocation until the command ends or `waitSeconds` pass. The pipeline's
 * own commands are polled by the state machine instead (CheckCommand), which costs no Lambda time.
 */
import { GetCommandInvocationCommand, type SSMClient } from '@aws-sdk/client-ssm';

const FINISHED = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

export type CommandEnd =
  | { readonly finished: true; readonly status: string; readonly exitCode: number }
  | { readonly finished: false };

export async function awaitCommand(
  ssm: SSMClient,
  command: { readonly commandId: string; readonly instanceId: string },
  wait: { readonly seconds: number; readonly pollMs: number; readonly sleep: (ms: number) => Promise<void> },
): Promise<CommandEnd> {
  const deadline = Date.now() + wait.seconds * 1000;
  while (Date.now() < deadline) {
    const out = await ssm
      .send(new GetCommandInvocationCommand({ CommandId: command.commandId, InstanceId: command.instanceId }))
      .catch(() => undefined);
    if (out?.Status && FINISHED.has(out.Status)) {
      return { finished: true, status: out.Status, exitCode: out.ResponseCode ?? -1 };
    }
    await wait.sleep(wait.pollMs);
  }
  return { finished: false };
}
