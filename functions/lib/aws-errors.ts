/**
 * Classifies AWS SDK errors into Kiln errors: throttling, 5xx and network trouble become `Kiln.Transient`
 * (the ASL retries it with backoff); anything else becomes the stage's domain error, with a message that
 * says what the user should fix. Domain errors pass through untouched.
 */
import { KilnError, TransientError } from '../../core/errors.ts';

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'Unavailable',
  'EC2ThrottledException',
]);

const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'TimeoutError', 'EAI_AGAIN']);

interface AwsLikeError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function asAwsError(err: unknown): AwsLikeError {
  return typeof err === 'object' && err !== null ? (err as AwsLikeError) : { message: String(err) };
}

export function awsErrorCode(err: unknown): string {
  const e = asAwsError(err);
  return e.name ?? e.Code ?? e.code ?? 'Error';
}

export function isTransientAwsError(err: unknown): boolean {
  const e = asAwsError(err);
  const code = awsErrorCode(err);
  const status = e.$metadata?.httpStatusCode ?? 0;
  return THROTTLING.has(code) || NETWORK.has(code) || NETWORK.has(e.code ?? '') || status >= 500 || !!e.$retryable;
}

/** NotFound-like codes: the thing is already gone (cleanup treats these as success). */
export function isNotFoundAwsError(err: unknown): boolean {
  const code = awsErrorCode(err);
  return (
    /NotFound|\.Malformed$|NoSuchKey|NoSuchBucket|InvalidAMIID\.Unavailable/.test(code) ||
    code === 'InvalidInstanceID.NotFound' ||
    code === 'InvalidSnapshot.NotFound'
  );
}

/**
 * Turns any error from an AWS call into a Kiln error. `domain` builds the stage's typed error from a message;
 * `what` says what the stage was doing, so the message reads "launching the builder: InvalidSubnetID...".
 */
export function classifyAwsError(
  err: unknown,
  what: string,
  domain: (message: string, cause: unknown) => KilnError,
  hint?: (code: string) => string | undefined,
): KilnError {
  if (err instanceof KilnError) return err;
  const code = awsErrorCode(err);
  const message = asAwsError(err).message ?? '';
  if (isTransientAwsError(err)) {
    return new TransientError(`${what}: AWS is throttling or unavailable (${code}: ${message}); retrying`, {
      cause: err,
    });
  }
  const extra = hint?.(code) ?? defaultHint(code);
  return domain(`${what}: ${code}: ${message}${extra ? `. ${extra}` : ''}`, err);
}

function defaultHint(code: string): string | undefined {
  if (/UnauthorizedOperation|AccessDenied/.test(code)) {
    return 'The Kiln function role lacks a permission; check the IAM policy and any SCP or permission boundary';
  }
  if (code === 'InvalidSubnetID.NotFound')
    return 'Set subnet_id in the template or KILN_SUBNET_IDS to a subnet of this region';
  if (code === 'InvalidAMIID.NotFound' || code === 'InvalidAMIID.Malformed') {
    return 'Check source_ami (or source_ami_filter) and the region';
  }
  if (code === 'InsufficientInstanceCapacity' || code === 'Unsupported') {
    return 'Try another instance_type or availability zone (subnet)';
  }
  if (/LimitExceeded/.test(code)) return 'An account quota was hit; raise it in Service Quotas or clean up';
  return undefined;
}

/** Runs an AWS call and classifies its failure. */
export async function awsCall<T>(
  what: string,
  domain: (message: string, cause: unknown) => KilnError,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyAwsError(err, what, domain);
  }
}
