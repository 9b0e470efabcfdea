/** The SSM shim's command records and how they render in SSM's JSON API shapes (pure, no I/O). */

export type InvocationStatus = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';

export interface InvocationRecord {
  readonly instanceId: string;
  status: InvocationStatus;
  statusDetails: string;
  /** Exit code of the script; -1 until it ends, or when it timed out or was cancelled (as SSM reports). */
  exitCode: number;
  stdout?: string;
  stderr?: string;
  stdoutUrl?: string;
  stderrUrl?: string;
  startedAt?: Date;
  endedAt?: Date;
}

export interface CommandRecord {
  readonly commandId: string;
  readonly region: string;
  readonly documentName: string;
  readonly comment?: string;
  readonly parameters: Record<string, string[]>;
  readonly instanceIds: readonly string[];
  readonly outputBucket?: string;
  readonly outputPrefix?: string;
  readonly outputRegion: string;
  readonly timeoutSeconds: number;
  readonly requestedAt: Date;
  readonly invocations: Map<string, InvocationRecord>;
}

/** An SSM API error: rendered as HTTP 400 with `__type`, which the SDK turns into a named exception. */
export class ShimError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Limits of GetCommandInvocation's inline output (the full text is in S3). */
export const STDOUT_LIMIT = 24_000;
export const STDERR_LIMIT = 8_000;

const TERMINAL: readonly InvocationStatus[] = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

/** A command's status from its invocations: the worst terminal one once all ended, else still running. */
export function commandStatus(command: CommandRecord): InvocationStatus {
  const statuses = [...command.invocations.values()].map((i) => i.status);
  if (statuses.every((s) => s === 'Pending')) return 'Pending';
  if (!statuses.every((s) => TERMINAL.includes(s))) return 'InProgress';
  for (const worst of ['Failed', 'TimedOut', 'Cancelled'] as const) if (statuses.includes(worst)) return worst;
  return 'Success';
}

const epochSeconds = (date: Date | undefined): number | undefined =>
  date === undefined ? undefined : date.getTime() / 1000;

export function commandView(command: CommandRecord): Record<string, unknown> {
  const invocations = [...command.invocations.values()];
  const ended = invocations.filter((i) => TERMINAL.includes(i.status));
  const status = commandStatus(command);
  return {
    CommandId: command.commandId,
    DocumentName: command.documentName,
    DocumentVersion: '1',
    Comment: command.comment,
    Parameters: command.parameters,
    InstanceIds: command.instanceIds,
    Targets: [],
    RequestedDateTime: epochSeconds(command.requestedAt),
    Status: status,
    StatusDetails: status,
    OutputS3Region: command.outputRegion,
    OutputS3BucketName: command.outputBucket,
    OutputS3KeyPrefix: command.outputPrefix,
    TimeoutSeconds: command.timeoutSeconds,
    TargetCount: invocations.length,
    CompletedCount: ended.length,
    ErrorCount: ended.filter((i) => i.status === 'Failed').length,
    DeliveryTimedOutCount: 0,
  };
}

/**
 * ListCommandInvocations item (`details` adds CommandPlugins with the output), or GetCommandInvocation's flat
 * shape (`'get'`), which carries dates as strings where the list uses epoch seconds.
 */
export function invocationView(
  command: CommandRecord,
  invocation: InvocationRecord,
  details: boolean,
  shape: 'list' | 'get' = 'list',
): Record<string, unknown> {
  const stdout = (invocation.stdout ?? '').slice(0, STDOUT_LIMIT);
  const stderr = (invocation.stderr ?? '').slice(0, STDERR_LIMIT);
  if (shape === 'get') {
    const elapsed =
      invocation.startedAt && invocation.endedAt
        ? invocation.endedAt.getTime() - invocation.startedAt.getTime()
        : undefined;
    return {
      CommandId: command.commandId,
      InstanceId: invocation.instanceId,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: '1',
      PluginName: 'aws:runShellScript',
      ResponseCode: invocation.exitCode,
      ExecutionStartDateTime: invocation.startedAt?.toISOString() ?? '',
      ExecutionElapsedTime: elapsed === undefined ? '' : formatElapsed(elapsed),
      ExecutionEndDateTime: invocation.endedAt?.toISOString() ?? '',
      Status: invocation.status,
      StatusDetails: invocation.statusDetails,
      StandardOutputContent: stdout,
      StandardOutputUrl: invocation.stdoutUrl ?? '',
      StandardErrorContent: stderr,
      StandardErrorUrl: invocation.stderrUrl ?? '',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: false },
    };
  }
  return {
    CommandId: command.commandId,
    InstanceId: invocation.instanceId,
    Comment: command.comment,
    DocumentName: command.documentName,
    DocumentVersion: '1',
    RequestedDateTime: epochSeconds(command.requestedAt),
    Status: invocation.status,
    StatusDetails: invocation.statusDetails,
    StandardOutputUrl: invocation.stdoutUrl ?? '',
    StandardErrorUrl: invocation.stderrUrl ?? '',
    CommandPlugins: details
      ? [
          {
            Name: 'aws:runShellScript',
            Status: invocation.status,
            StatusDetails: invocation.statusDetails,
            ResponseCode: invocation.exitCode,
            ResponseStartDateTime: epochSeconds(invocation.startedAt),
            ResponseFinishDateTime: epochSeconds(invocation.endedAt),
            // The list API inlines at most 2,500 characters of output.
            Output: `${stdout}${stderr ? `\n----------ERROR-------\n${stderr}` : ''}`.slice(0, 2_500),
            StandardOutputUrl: invocation.stdoutUrl ?? '',
            StandardErrorUrl: invocation.stderrUrl ?? '',
            OutputS3Region: command.outputRegion,
            OutputS3BucketName: command.outputBucket,
            OutputS3KeyPrefix: command.outputPrefix,
          },
        ]
      : [],
  };
}

/** SSM's `PT0.123S` duration form. */
function formatElapsed(ms: number): string {
  return `PT${(ms / 1000).toFixed(3)}S`;
}

/**
 * `Filters: [{Key, Values}]` or the older `InstanceInformationFilterList: [{key, valueSet}]`. Every shim
 * instance is an online Linux EC2 instance, so the other supported keys either keep all or drop all.
 */
export function parseInstanceFilters(request: Record<string, unknown>): { ids?: string[]; matchesOnline: boolean } {
  const filters = (request.Filters as { Key: string; Values: string[] }[] | undefined) ?? [];
  const legacy = (request.InstanceInformationFilterList as { key: string; valueSet: string[] }[] | undefined) ?? [];
  const all = [
    ...filters.map((f) => ({ key: f.Key, values: f.Values })),
    ...legacy.map((f) => ({ key: f.key, values: f.valueSet })),
  ];
  const ourValue: Record<string, string> = {
    PingStatus: 'Online',
    PlatformTypes: 'Linux',
    ResourceType: 'EC2Instance',
  };
  let matchesOnline = true;
  for (const filter of all) {
    if (filter.key === 'InstanceIds') continue;
    const value = ourValue[filter.key];
    if (value === undefined) {
      throw new ShimError('InvalidInstanceInformationFilterValue', `The local SSM shim cannot filter on ${filter.key}`);
    }
    if (!filter.values.includes(value)) matchesOnline = false;
  }
  const ids = all.filter((f) => f.key === 'InstanceIds').flatMap((f) => f.values);
  return ids.length > 0 ? { ids, matchesOnline } : { matchesOnline };
}
