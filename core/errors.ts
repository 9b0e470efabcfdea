/**
 * Typed Kiln errors. The `name` of each class is what Step Functions `ErrorEquals` matches, so every name is
 * listed in KILN_ERROR_NAMES and a test checks that each ASL `ErrorEquals` uses only these or built-ins.
 * Bundle with esbuild `keepNames` so the names survive minification.
 */
export const KILN_ERROR_NAMES = [
  'Kiln.TemplateInvalid',
  'Kiln.InputInvalid',
  'Kiln.NotFound',
  'Kiln.AmiNameInUse',
  'Kiln.LaunchFailed',
  'Kiln.InstanceNotManaged',
  /** The builder's network cannot reach Systems Manager (no route, no endpoints, no public IP, no egress 443). */
  'Kiln.BuilderUnreachable',
  'Kiln.ProvisionerFailed',
  'Kiln.ImageFailed',
  'Kiln.DistributeFailed',
  'Kiln.Timeout',
  'Kiln.DriverUnavailable',
  'Kiln.Transient',
  'Kiln.LimitExceeded',
  /** A docker build's image is not in its registry after the push (ECR repository or tag missing), or ECR refused it. */
  'Kiln.PublishFailed',
  /** The execution's own failure when any build failed (a Fail state, after Finalize). */
  'Kiln.BuildFailed',
  /** Agent builds (the agent gateway's SendTaskFailure): packer failed on the agent. */
  'Kiln.AgentBuildFailed',
  /** The agent holding the job stopped heartbeating and the job's leases are spent. */
  'Kiln.AgentLost',
  /** No online agent could take the job within the queue time; the cause says which labels or capability. */
  'Kiln.NoAgentAvailable',
  /** The build was cancelled while an agent held it (`kiln builds cancel`). */
  'Kiln.BuildCancelled',
  /** A build waited longer than the fleet's maxWaitSeconds for a slot (core/fleet/slots.ts) and was not started. */
  'Kiln.FleetWaitTimedOut',
] as const;

export type KilnErrorName = (typeof KILN_ERROR_NAMES)[number];

export abstract class KilnError extends Error {
  abstract override readonly name: KilnErrorName;
  /** Whether Step Functions should retry (throttling, eventual consistency). */
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class TemplateInvalidError extends KilnError {
  override readonly name = 'Kiln.TemplateInvalid' as const;
}
export class InputInvalidError extends KilnError {
  override readonly name = 'Kiln.InputInvalid' as const;
}
export class NotFoundError extends KilnError {
  override readonly name = 'Kiln.NotFound' as const;
}
export class AmiNameInUseError extends KilnError {
  override readonly name = 'Kiln.AmiNameInUse' as const;
}
export class LaunchFailedError extends KilnError {
  override readonly name = 'Kiln.LaunchFailed' as const;
}
export class InstanceNotManagedError extends KilnError {
  override readonly name = 'Kiln.InstanceNotManaged' as const;
}
export class BuilderUnreachableError extends KilnError {
  override readonly name = 'Kiln.BuilderUnreachable' as const;
}
export class ProvisionerFailedError extends KilnError {
  override readonly name = 'Kiln.ProvisionerFailed' as const;
}
export class ImageFailedError extends KilnError {
  override readonly name = 'Kiln.ImageFailed' as const;
}
export class DistributeFailedError extends KilnError {
  override readonly name = 'Kiln.DistributeFailed' as const;
}
export class TimeoutError extends KilnError {
  override readonly name = 'Kiln.Timeout' as const;
}
export class DriverUnavailableError extends KilnError {
  override readonly name = 'Kiln.DriverUnavailable' as const;
}
export class TransientError extends KilnError {
  override readonly name = 'Kiln.Transient' as const;
  override readonly retryable = true;
}
export class LimitExceededError extends KilnError {
  override readonly name = 'Kiln.LimitExceeded' as const;
}
export class PublishFailedError extends KilnError {
  override readonly name = 'Kiln.PublishFailed' as const;
}
export class FleetWaitTimedOutError extends KilnError {
  override readonly name = 'Kiln.FleetWaitTimedOut' as const;
}

/** Step Functions and Lambda built-in error names that ASL may also match. */
export const BUILTIN_ERROR_NAMES = [
  'States.ALL',
  'States.TaskFailed',
  'States.Timeout',
  'States.HeartbeatTimeout',
  'States.Permissions',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.BranchFailed',
  'States.NoChoiceMatched',
  'States.IntrinsicFailure',
  'States.ExceedToleratedFailureThreshold',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
