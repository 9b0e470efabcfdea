/**
 * SSM Run Command, simulated for the local harness. moto records SendCommand as an instant success and runs
 * nothing, and has no DescribeInstanceInformation or ListCommandInvocations. This shim owns the whole Run
 * Command surface instead (SendCommand, ListCommands, ListCommandInvocations, GetCommandInvocation,
 * CancelCommand, DescribeInstanceInformation); nothing of it is forwarded to moto, so every answer comes from
 * one source. Everything else in SSM (parameters) stays moto's.
 *
 * - A managed instance is one moto reports `running` with an instance profile (SSM's precondition in AWS),
 *   and only `onlineDelaySeconds` after its launch: the agent needs time to boot and register, and a
 *   SendCommand before that fails with InvalidInstanceId as on AWS.
 * - SendCommand's request is validated as the SSM API and the AWS-RunShellScript document do (Comment length,
 *   InstanceIds count and pattern, document name, `executionTimeout` range, `workingDirectory` type).
 * - `AWS-RunShellScript` really runs the commands as a bash script in a sandbox directory per instance
 *   (command-runner.ts), with the execution timeout; status and exit code are the script's.
 * - Output is truncated like SSM's API (24,000 / 8,000 characters) and written in full to the output bucket
 *   under SSM's key layout, with the instance's credentials (its instance profile role), as the agent does.
 * - The commands get those credentials in their environment, as an instance profile would give them.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fixedClientConfig, type LocalCredentials, localClientConfig } from './clients.ts';
import { type RunningCommand, runShellScript } from './command-runner.ts';
import {
  type CommandRecord,
  commandStatus,
  commandView,
  type InvocationRecord,
  invocationView,
  parseInstanceFilters,
  ShimError,
} from './ssm-records.ts';

export const SHIM_ACTIONS = [
  'SendCommand',
  'ListCommands',
  'ListCommandInvocations',
  'GetCommandInvocation',
  'CancelCommand',
  'DescribeInstanceInformation',
] as const;
export type ShimAction = (typeof SHIM_ACTIONS)[number];

export interface SsmShimOptions {
  readonly motoEndpoint: string;
  /** One sub-directory per instance is created here. */
  readonly sandboxRoot: string;
  /** Credentials of an instance (its instance profile's role, assumed). */
  readonly instanceCredentials: (instanceId: string, region: string) => Promise<LocalCredentials>;
  /**
   * Environment of a command on an instance (its AWS endpoint and those credentials; PATH may gain tools the
   * instance's AMI has, such as `docker` on a docker host: `instance` is what moto reports for it).
   */
  readonly instanceEnv: (
    instanceId: string,
    region: string,
    credentials: LocalCredentials,
    instance: Instance | undefined,
  ) => Record<string, string> | Promise<Record<string, string>>;
  readonly onCommandEnd?: (command: CommandRecord, invocation: InvocationRecord) => void;
  /** Seconds after launch before an instance reports Online (default `DEFAULT_ONLINE_DELAY_SECONDS`). */
  readonly onlineDelaySeconds?: number;
}

/** A real agent takes tens of seconds; a few seconds keep the local runs quick but still make waiting real. */
export const DEFAULT_ONLINE_DELAY_SECONDS = 3;

export interface ShimResponse {
  readonly status: number;
  readonly body: unknown;
}

type Json = Record<string, unknown>;

export class SsmShim {
  private commands = new Map<string, CommandRecord>();
  private readonly running = new Map<string, RunningCommand>();
  private readonly ec2 = new Map<string, EC2Client>();

  constructor(private readonly options: SsmShimOptions) {}

  static handles(action: string): action is ShimAction {
    return (SHIM_ACTIONS as readonly string[]).includes(action);
  }

  async handle(action: ShimAction, region: string, request: Json): Promise<ShimResponse> {
    try {
      return { status: 200, body: await this.dispatch(action, region, request) };
    } catch (error) {
      if (error instanceof ShimError) return { status: 400, body: { __type: error.type, message: error.message } };
      throw error;
    }
  }

  /** Every command (for tests and the CLI's summary). */
  allCommands(): readonly CommandRecord[] {
    return [...this.commands.values()];
  }

  /** Waits for running scripts (they finish or time out). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** `/moto-api/reset`: cancel what runs and forget every command. */
  reset(): void {
    for (const run of this.running.values()) run.cancel();
    this.running.clear();
    this.commands = new Map();
  }

  private async dispatch(action: ShimAction, region: string, request: Json): Promise<Json> {
    switch (action) {
      case 'DescribeInstanceInformation':
        return { InstanceInformationList: await this.instanceInformation(region, request) };
      case 'SendCommand':
        return { Command: commandView(await this.send(region, request)) };
      case 'ListCommands':
        return { Commands: this.find(region, request).map(commandView) };
      case 'ListCommandInvocations': {
        const details = request.Details === true;
        const instanceId = request.InstanceId as string | undefined;
        const invocations = this.find(region, request).flatMap((c) =>
          [...c.invocations.values()]
            .filter((i) => !instanceId || i.instanceId === instanceId)
            .map((i) => invocationView(c, i, details)),
        );
        return { CommandInvocations: invocations };
      }
      case 'GetCommandInvocation':
        return this.getInvocation(request);
      case 'CancelCommand':
        return this.cancel(request);
    }
  }

  private async managedInstances(region: string): Promise<Instance[]> {
    const ec2 = clientFor(this.ec2, region, (r) => new EC2Client(localClientConfig(this.options.motoEndpoint, r)));
    const out = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }),
    );
    const delayMs = (this.options.onlineDelaySeconds ?? DEFAULT_ONLINE_DELAY_SECONDS) * 1000;
    const now = Date.now();
    return (out.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.IamInstanceProfile?.Arn !== undefined)
      .filter((i) => i.LaunchTime === undefined || now - i.LaunchTime.getTime() >= delayMs);
  }

  private async instanceInformation(region: string, request: Json): Promise<Json[]> {
    const filter = parseInstanceFilters(request);
    if (!filter.matchesOnline) return [];
    const instances = (await this.managedInstances(region)).filter(
      (i) => filter.ids === undefined || filter.ids.includes(i.InstanceId ?? ''),
    );
    return instances.map((i) => ({
      InstanceId: i.InstanceId,
      PingStatus: 'Online',
      LastPingDateTime: Date.now() / 1000,
      AgentVersion: '3.3.0.0-kiln-shim',
      IsLatestVersion: true,
      PlatformType: 'Linux',
      PlatformName: 'Kiln local sandbox',
      PlatformVersion: '0',
      ResourceType: 'EC2Instance',
      IPAddress: i.PrivateIpAddress,
      ComputerName: i.PrivateDnsName,
      AssociationStatus: 'Success',
    }));
  }

  private async send(region: string, request: Json): Promise<CommandRecord> {
    validateSendCommand(request);
    const documentName = String(request.DocumentName ?? '');
    if (documentName !== 'AWS-RunShellScript') {
      throw new ShimError('InvalidDocument', `The local SSM shim runs only AWS-RunShellScript, not ${documentName}`);
    }
    if (request.Targets !== undefined) {
      throw new ShimError('ValidationException', 'The local SSM shim supports InstanceIds, not Targets');
    }
    const instanceIds = (request.InstanceIds as string[] | undefined) ?? [];
    if (instanceIds.length === 0) throw new ShimError('ValidationException', 'InstanceIds is required');
    const managed = new Map((await this.managedInstances(region)).map((i) => [i.InstanceId, i]));
    const unmanaged = instanceIds.filter((id) => !managed.has(id));
    if (unmanaged.length > 0) {
      throw new ShimError('InvalidInstanceId', `Instances not in a valid state for account: ${unmanaged.join(', ')}`);
    }
    const parameters = (request.Parameters as Record<string, string[]> | undefined) ?? {};
    const commands = parameters.commands ?? [];
    if (commands.length === 0) throw new ShimError('InvalidParameters', 'Parameter "commands" is required');
    const timeoutSeconds = Number(parameters.executionTimeout?.[0] ?? 3600);
    const command: CommandRecord = {
      commandId: randomUUID(),
      region,
      documentName,
      comment: request.Comment as string | undefined,
      parameters,
      instanceIds,
      outputBucket: request.OutputS3BucketName as string | undefined,
      outputPrefix: request.OutputS3KeyPrefix as string | undefined,
      outputRegion: (request.OutputS3Region as string | undefined) ?? region,
      timeoutSeconds,
      requestedAt: new Date(),
      invocations: new Map(),
    };
    for (const instanceId of instanceIds) {
      command.invocations.set(instanceId, { instanceId, status: 'Pending', statusDetails: 'Pending', exitCode: -1 });
    }
    const credentials = await Promise.all(instanceIds.map((id) => this.options.instanceCredentials(id, region)));
    const envs = await Promise.all(
      instanceIds.map((id, i) =>
        this.options.instanceEnv(id, region, credentials[i] as LocalCredentials, managed.get(id)),
      ),
    );
    this.commands.set(command.commandId, command);
    instanceIds.forEach((instanceId, i) => {
      this.start(command, instanceId, commands, parameters, credentials[i] as LocalCredentials, envs[i] ?? {});
    });
    return command;
  }

  private start(
    command: CommandRecord,
    instanceId: string,
    commands: string[],
    parameters: Json,
    credentials: LocalCredentials,
    env: Record<string, string>,
  ): void {
    const invocation = command.invocations.get(instanceId);
    if (!invocation) return;
    const run = runShellScript({
      sandboxDir: join(this.options.sandboxRoot, instanceId),
      commandId: command.commandId,
      commands,
      workingDirectory: (parameters.workingDirectory as string[] | undefined)?.[0] || undefined,
      timeoutSeconds: command.timeoutSeconds,
      env,
    });
    const key = `${command.commandId}/${instanceId}`;
    this.running.set(key, run);
    Object.assign(invocation, { status: 'InProgress', statusDetails: 'InProgress', startedAt: new Date() });
    void run.done.then(async (outcome) => {
      // Output reaches S3 before the status turns terminal, as a poller that then reads S3 expects.
      const urls = await this.uploadOutput(command, instanceId, outcome.stdout, outcome.stderr, credentials).catch(
        (error: unknown) => ({ error: String(error) }),
      );
      if (this.commands.get(command.commandId) !== command) return; // reset meanwhile
      this.running.delete(key);
      const [status, statusDetails] = outcome.cancelled
        ? ['Cancelled', 'Cancelled']
        : outcome.timedOut
          ? ['TimedOut', 'ExecutionTimedOut']
          : outcome.exitCode === 0
            ? ['Success', 'Success']
            : ['Failed', 'Failed'];
      Object.assign(invocation, {
        status,
        statusDetails,
        exitCode: outcome.timedOut || outcome.cancelled ? -1 : outcome.exitCode,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        startedAt: outcome.startedAt,
        endedAt: outcome.endedAt,
        ...('error' in urls
          ? { stderr: `${outcome.stderr}\n[kiln ssm shim] output upload failed: ${urls.error}` }
          : urls),
      });
      this.options.onCommandEnd?.(command, invocation);
    });
  }

  private async uploadOutput(
    command: CommandRecord,
    instanceId: string,
    stdout: string,
    stderr: string,
    credentials: LocalCredentials,
  ): Promise<{ stdoutUrl?: string; stderrUrl?: string }> {
    const bucket = command.outputBucket;
    if (!bucket) return {};
    const region = command.outputRegion;
    const s3 = new S3Client(fixedClientConfig(this.options.motoEndpoint, region, credentials));
    const prefix = command.outputPrefix ? `${command.outputPrefix.replace(/\/$/, '')}/` : '';
    const base = `${prefix}${command.commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript`;
    const urls: { stdoutUrl?: string; stderrUrl?: string } = {};
    for (const [name, content] of [
      ['stdout', stdout],
      ['stderr', stderr],
    ] as const) {
      if (content.length === 0) continue; // SSM writes only streams that have output
      const Key = `${base}/${name}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: content, ContentType: 'text/plain' }));
      urls[name === 'stdout' ? 'stdoutUrl' : 'stderrUrl'] = `https://s3.${region}.amazonaws.com/${bucket}/${Key}`;
    }
    return urls;
  }

  private find(region: string, request: Json): CommandRecord[] {
    const commandId = request.CommandId as string | undefined;
    const instanceId = request.InstanceId as string | undefined;
    return [...this.commands.values()]
      .filter((c) => c.region === region)
      .filter((c) => !commandId || c.commandId === commandId)
      .filter((c) => !instanceId || c.invocations.has(instanceId))
      .sort((a, b) => b.requestedAt.getTime() - a.requestedAt.getTime());
  }

  private getInvocation(request: Json): Json {
    const command = this.commands.get(String(request.CommandId));
    const invocation = command?.invocations.get(String(request.InstanceId));
    if (!command || !invocation) throw new ShimError('InvocationDoesNotExist', 'Invocation does not exist');
    return invocationView(command, invocation, true, 'get');
  }

  private cancel(request: Json): Json {
    const command = this.commands.get(String(request.CommandId));
    if (!command) throw new ShimError('InvalidCommandId', 'Invalid command id');
    const ids = (request.InstanceIds as string[] | undefined) ?? [...command.invocations.keys()];
    for (const id of ids) this.running.get(`${command.commandId}/${id}`)?.cancel();
    return {};
  }
}

export { commandStatus };

/** AWS-RunShellScript's `executionTimeout` allowedPattern: an integer from 1 to 172800 (48 hours). */
const EXECUTION_TIMEOUT = /^([1-9][0-9]{0,4}|1[0-6][0-9]{4}|17[01][0-9]{3}|172[0-7][0-9]{2}|172800)$/;
const INSTANCE_ID = /^(i-(\w{8}|\w{17})|mi-\w{17})$/;
const DOCUMENT_NAME = /^[a-zA-Z0-9_\-.:/]{3,128}$/;

/** The SendCommand constraints of the SSM API reference and the AWS-RunShellScript document. */
export function validateSendCommand(request: Json): void {
  const invalid = (type: string, message: string) => new ShimError(type, message);
  const comment = request.Comment;
  if (typeof comment === 'string' && comment.length > 100) {
    throw invalid(
      'ValidationException',
      `Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100`,
    );
  }
  if (!DOCUMENT_NAME.test(String(request.DocumentName ?? ''))) {
    throw invalid(
      'ValidationException',
      `Value at 'documentName' failed to satisfy constraint: Member must satisfy regular expression pattern`,
    );
  }
  const ids = request.InstanceIds;
  if (Array.isArray(ids)) {
    if (ids.length > 50) {
      throw invalid(
        'ValidationException',
        `Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50`,
      );
    }
    const bad = ids.find((id) => typeof id !== 'string' || !INSTANCE_ID.test(id));
    if (bad !== undefined) throw invalid('InvalidInstanceId', `Invalid instance id ${String(bad)}`);
  }
  const prefix = request.OutputS3KeyPrefix;
  if (typeof prefix === 'string' && prefix.length > 500) {
    throw invalid(
      'ValidationException',
      `Value at 'outputS3KeyPrefix' failed to satisfy constraint: Member must have length less than or equal to 500`,
    );
  }
  const parameters = (request.Parameters as Record<string, unknown> | undefined) ?? {};
  const known = new Set(['commands', 'workingDirectory', 'executionTimeout']);
  for (const [name, value] of Object.entries(parameters)) {
    if (!known.has(name)) throw invalid('InvalidParameters', `Parameter "${name}" is not defined in the document`);
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw invalid('InvalidParameters', `Parameter "${name}" must be a list of strings`);
    }
  }
  const timeout = parameters.executionTimeout as string[] | undefined;
  if (timeout !== undefined && (timeout.length !== 1 || !EXECUTION_TIMEOUT.test(timeout[0] ?? ''))) {
    throw invalid(
      'InvalidParameters',
      `Parameter "executionTimeout" "${timeout.join(',')}" does not match the allowed pattern (1 to 172800 seconds)`,
    );
  }
  const wd = parameters.workingDirectory as string[] | undefined;
  if (wd !== undefined && wd.length > 1) {
    throw invalid('InvalidParameters', 'Parameter "workingDirectory" takes one value');
  }
}

function clientFor<T>(cache: Map<string, T>, region: string, make: (region: string) => T): T {
  let client = cache.get(region);
  if (!client) {
    client = make(region);
    cache.set(region, client);
  }
  return client;
}
