/**
 * Errors of `kiln-agent`. Not pipeline errors: the agent prints their message (which says what to do) and maps
 * them to an exit code, or turns a job's into the `complete` request's failure kind.
 */

/** The config file is missing, unreadable, malformed, or readable by others. */
export class AgentConfigError extends Error {
  override readonly name = 'KilnAgent.ConfigError';
}

/** The gateway answered with an error of the contract (`{ error: { code, message } }`) or an unexpected body. */
export class GatewayResponseError extends Error {
  override readonly name = 'KilnAgent.GatewayResponseError';
  constructor(
    readonly status: number,
    /** The contract's AgentGatewayErrorCode, or `Internal` / `BadResponse` for a 5xx or a body off the contract. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** The agent's identity is no good any more (revoked, deregistered, unknown): retrying cannot help. */
  get agentRefused(): boolean {
    return this.status === 401 || this.status === 403;
  }
  /** 5xx: the gateway failed, worth retrying like a network error. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** The gateway could not be reached (DNS, connection, TLS, timeout): retried with backoff. */
export class GatewayUnreachableError extends Error {
  override readonly name = 'KilnAgent.GatewayUnreachable';
}

/**
 * The agent refuses a job before running packer: no hypervisor, a bundle that does not match its digest or is
 * unsafe to extract, a local-execution step. Completes the job as failed kind `cannot-run`.
 */
export class CannotRunError extends Error {
  override readonly name = 'KilnAgent.CannotRun';
}

/**
 * `--upload-artifacts` could not upload an artifact file (refused: outside the job folder or a link; the gateway
 * gave no URL; the PUT failed). Completes the job as failed kind `build-failed` with the message.
 */
export class UploadFailedError extends Error {
  override readonly name = 'KilnAgent.UploadFailed';
}

/** packer is not installed where the agent looks (PATH or KILN_AGENT_PATH). */
export class PackerMissingError extends Error {
  override readonly name = 'KilnAgent.PackerMissing';
}

/** Whether a failed request is worth retrying (network, gateway 5xx) rather than final. */
export const isRetryable = (error: unknown): boolean =>
  error instanceof GatewayUnreachableError || (error instanceof GatewayResponseError && error.retryable);
