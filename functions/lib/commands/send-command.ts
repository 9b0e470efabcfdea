/**
 * Sends a provisioner's script with SSM SendCommand, once per (execution, build, provisioner, attempt): the
 * command carries a deterministic Comment, and a retried invocation finds it with ListCommands instead of
 * running the script a second time.
 */
import { ListCommandsCommand, SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ProvisionerFailedError } from '../../../core/errors.ts';
import { awsCall } from '../aws-errors.ts';

export type DocumentName = 'AWS-RunShellScript' | 'AWS-RunPowerShellScript';

/** SSM's own limit for executionTimeout is 172800 s (48 h); Packer's shell has no timeout by default. */
export const MAX_EXECUTION_TIMEOUT_SECONDS = 172_800;

export interface SendRequest {
  readonly instanceId: string;
  readonly document: DocumentName;
  readonly commands: readonly string[];
  readonly timeoutSeconds?: number;
  readonly comment: string;
  readonly outputBucket: string;
  readonly outputKeyPrefix: string;
  readonly logGroup?: string;
}

export function commandComment(buildId: string, buildIndex: number, provisioner: number, attempt: number): string {
  // SSM Comment is at most 100 characters.
  return `kiln ${buildId} b${buildIndex} p${provisioner} a${attempt}`.slice(0, 100);
}

const failed = (m: string, cause: unknown) => new ProvisionerFailedError(m, { cause });

export async function findSentCommand(
  ssm: SSMClient,
  instanceId: string,
  comment: string,
): Promise<string | undefined> {
  let token: string | undefined;
  for (let page = 0; page < 5; page++) {
    const out = await awsCall('listing earlier commands', failed, () =>
      ssm.send(
        new ListCommandsCommand({ InstanceId: instanceId, MaxResults: 50, ...(token ? { NextToken: token } : {}) }),
      ),
    );
    const match = out.Commands?.find((c) => c.Comment === comment);
    if (match?.CommandId) return match.CommandId;
    token = out.NextToken;
    if (!token) return undefined;
  }
  return undefined;
}

export async function sendOnce(ssm: SSMClient, req: SendRequest): Promise<string> {
  const existing = await findSentCommand(ssm, req.instanceId, req.comment);
  if (existing) return existing;
  const timeout = Math.min(
    Math.max(Math.ceil(req.timeoutSeconds ?? MAX_EXECUTION_TIMEOUT_SECONDS), 1),
    MAX_EXECUTION_TIMEOUT_SECONDS,
  );
  const out = await awsCall(`sending the provisioner to ${req.instanceId}`, failed, () =>
    ssm.send(
      new SendCommandCommand({
        InstanceIds: [req.instanceId],
        DocumentName: req.document,
        Comment: req.comment,
        Parameters: { commands: [...req.commands], executionTimeout: [String(timeout)] },
        OutputS3BucketName: req.outputBucket,
        OutputS3KeyPrefix: req.outputKeyPrefix,
        ...(req.logGroup
          ? { CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: req.logGroup } }
          : {}),
      }),
    ),
  );
  const commandId = out.Command?.CommandId;
  if (!commandId) throw new ProvisionerFailedError('SendCommand returned no command id');
  return commandId;
}
