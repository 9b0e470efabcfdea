/**
 * RunProvisioner → ShellLocal, a synchronous Lambda invoke rather than a state: the request carries the
 * provisioner's real values, and a state's input and output are recorded in the execution history.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ProvisionerFailedError } from '../../../core/errors.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import type { ShellLocalRequest, ShellLocalResult } from '../../lib/shell-local-contract.ts';

export function invokeShellLocal(lambda: LambdaClient, functionName: string) {
  return async (req: ShellLocalRequest): Promise<ShellLocalResult> => {
    const out = await awsCall(
      'invoking the ShellLocal function',
      (m, c) => new ProvisionerFailedError(m, { cause: c }),
      () =>
        lambda.send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'RequestResponse',
            Payload: new TextEncoder().encode(JSON.stringify(req)),
          }),
        ),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      // Only the error type: its message could quote the request.
      let type = 'Error';
      try {
        type = String((JSON.parse(text) as { errorType?: unknown }).errorType ?? type);
      } catch {
        // keep the generic type
      }
      throw new ProvisionerFailedError(`The ShellLocal function failed (${type}); see its log group`);
    }
    return JSON.parse(text) as ShellLocalResult;
  };
}
