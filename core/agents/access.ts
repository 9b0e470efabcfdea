/**
 * Who may do what: the checks every gateway request passes before any write. The secret is checked first and
 * every failure before it reads alike ("not valid"), so an unknown id and a wrong secret cannot be told apart;
 * only a holder of the right secret learns that its token was used or its agent revoked.
 */
import { secretMatches } from './credentials.ts';
import { AgentGatewayError } from './errors.ts';

/** Registration token lifetime: one hour unless the admin says otherwise, never more than a week. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

export interface RegistrationTokenRecord {
  readonly tokenId: string;
  readonly secretHash: string;
  /** Labels every agent registered with it gets (the admin's, not the agent's to choose). */
  readonly labels: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt?: string;
  readonly usedBy?: string;
  /** `kiln agents token revoke`: refused from then on, as a used one is. */
  readonly revokedAt?: string;
}

export type AgentStatus = 'ACTIVE' | 'REVOKED' | 'DEREGISTERED';

export interface AgentAuthRecord {
  readonly agentId: string;
  readonly secretHash: string;
  readonly status: AgentStatus;
  readonly statusChangedAt?: string;
}

export interface JobAuthRecord {
  readonly jobId: string;
  readonly agentId?: string;
  readonly credentialHash?: string;
}

const unauthorized = (what: string) =>
  new AgentGatewayError('Unauthorized', `${what} is not valid: check the credential the agent was given`);

/** Throws unless the token exists, the secret is its own, it is unused and unexpired. */
export function checkRegistrationToken(
  token: RegistrationTokenRecord | undefined,
  secret: string,
  now: Date,
): asserts token is RegistrationTokenRecord {
  if (!token || !secretMatches(secret, token.secretHash)) throw unauthorized('the registration token');
  if (token.usedAt !== undefined) {
    throw new AgentGatewayError(
      'TokenInvalid',
      `registration token ${token.tokenId} was already used (${token.usedAt}, agent ${token.usedBy ?? '?'}): tokens are single-use, create another with \`kiln agents token create\``,
    );
  }
  if (token.revokedAt !== undefined) {
    throw new AgentGatewayError(
      'TokenInvalid',
      `registration token ${token.tokenId} was revoked at ${token.revokedAt}: ask an admin for another (\`kiln agents token create\`)`,
    );
  }
  if (Date.parse(token.expiresAt) <= now.getTime()) {
    throw new AgentGatewayError(
      'TokenInvalid',
      `registration token ${token.tokenId} expired at ${token.expiresAt}: create another with \`kiln agents token create\``,
    );
  }
}

/** Throws unless the agent exists, the secret is its own and it is still active. */
export function checkAgent(agent: AgentAuthRecord | undefined, secret: string): asserts agent is AgentAuthRecord {
  if (!agent || !secretMatches(secret, agent.secretHash)) throw unauthorized('the agent credential');
  if (agent.status !== 'ACTIVE') {
    const how = agent.status === 'REVOKED' ? 'revoked' : 'deregistered';
    throw new AgentGatewayError(
      'AgentRevoked',
      `agent ${agent.agentId} was ${how}${agent.statusChangedAt ? ` at ${agent.statusChangedAt}` : ''}: register it again with a new token (\`kiln-agent register\`)`,
    );
  }
}

/**
 * Throws unless the credential is for the job the route names and matches the job's current lease. A job
 * credential is issued per lease, so one from an earlier lease (the job re-offered since) no longer fits.
 */
export function checkJobCredential(
  job: JobAuthRecord | undefined,
  routeJobId: string,
  credential: { id: string; secret: string },
): asserts job is JobAuthRecord & { agentId: string; credentialHash: string } {
  if (credential.id !== routeJobId) {
    throw new AgentGatewayError(
      'Forbidden',
      `the job credential is for ${credential.id}, not ${routeJobId}: use the credential acquire returned with this job`,
    );
  }
  if (!job?.credentialHash || !job.agentId) throw unauthorized('the job credential');
  if (!secretMatches(credential.secret, job.credentialHash)) {
    throw new AgentGatewayError(
      'LeaseLost',
      `the lease on ${job.jobId} is no longer this credential's (it expired and the job was offered again, or the job ended): stop the build and acquire again`,
    );
  }
}
