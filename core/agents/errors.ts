/**
 * Errors of the agent gateway. Not pipeline errors (no Step Functions state matches them): the gateway turns each
 * code into an HTTP status (aws/agent-gateway-contract.ts `STATUS_OF`) and `kiln-agent` prints `message`, which
 * says what to do next.
 */
export type AgentGatewayErrorCode =
  /** The request body or a header does not follow the contract. */
  | 'InvalidRequest'
  /** No credential, a malformed one, an unknown id or a wrong secret (one code for all: no oracle). */
  | 'Unauthorized'
  /** The agent was revoked or deregistered: it must register again with a new token. */
  | 'AgentRevoked'
  /** The registration token was already used or has expired. */
  | 'TokenInvalid'
  /** A valid credential used on something it does not cover (another job's route). */
  | 'Forbidden'
  | 'NotFound'
  /** The job's lease is no longer this agent's (expired and re-offered, completed, cancelled). */
  | 'LeaseLost';

export class AgentGatewayError extends Error {
  override readonly name = 'Kiln.AgentGatewayError';
  constructor(
    readonly code: AgentGatewayErrorCode,
    message: string,
  ) {
    super(message);
  }
}
