/**
 * core/agents: credentials (generation, hash-only storage, constant-time match, parsing by kind), matching and
 * the no-match reasons, lease timing and expiry decisions, and the access checks (tokens single-use and
 * expiring, revoked agents, job credentials of another job or an earlier lease).
 */
import { describe, expect, it } from 'vitest';
import { checkAgent, checkJobCredential, checkRegistrationToken } from '../../../core/agents/access.ts';
import {
  formatCredential,
  hashSecret,
  issueCredential,
  jobIdForTaskToken,
  newSecret,
  parseCredential,
  secretMatches,
} from '../../../core/agents/credentials.ts';
import { AgentGatewayError } from '../../../core/agents/errors.ts';
import {
  afterExpiry,
  DEFAULT_LEASE_POLICY,
  isExpired,
  isOnline,
  leaseExpiry,
  leaseSeconds,
  queueTimedOut,
} from '../../../core/agents/lease.ts';
import { type AgentProfile, explainNoMatch, matches, mismatch } from '../../../core/agents/matching.ts';

const caps = (over: Partial<AgentProfile['capabilities']> = {}): AgentProfile['capabilities'] => ({
  builders: ['null', 'vmware-iso', 'virtualbox-iso'],
  hypervisors: ['vmrun', 'VBoxManage'],
  packerVersion: '1.6.6',
  os: 'linux',
  arch: 'amd64',
  ...over,
});
const agent = (name: string, labels: string[], over: Partial<AgentProfile['capabilities']> = {}): AgentProfile => ({
  agentId: `ag-${name
    .padEnd(24, '0')
    .slice(0, 24)
    .replace(/[^0-9a-f]/g, 'a')}`,
  name,
  labels,
  capabilities: caps(over),
});

function gatewayError(run: () => void): AgentGatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof AgentGatewayError) return error;
    throw error;
  }
  throw new Error('expected an AgentGatewayError');
}

describe('credentials', () => {
  it('makes 32-byte base64url secrets, different every time', () => {
    const a = newSecret();
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(Array.from({ length: 50 }, newSecret)).size).toBe(50);
  });

  it('stores only the SHA-256 and matches the right secret alone', () => {
    const { credential, hash } = issueCredential('agent');
    expect(hash).toBe(hashSecret(credential.secret));
    expect(hash).not.toContain(credential.secret);
    expect(secretMatches(credential.secret, hash)).toBe(true);
    expect(secretMatches(newSecret(), hash)).toBe(false);
    expect(secretMatches(credential.secret, hash.slice(1))).toBe(false);
  });

  it('parses `<id>.<secret>` of the expected kind only', () => {
    const { credential } = issueCredential('job');
    const text = formatCredential(credential);
    expect(parseCredential(text, 'job')).toEqual(credential);
    expect(parseCredential(text, 'agent')).toBeUndefined();
    expect(parseCredential(`${credential.id}.short`, 'job')).toBeUndefined();
    expect(parseCredential(`${credential.id}${credential.secret}`, 'job')).toBeUndefined();
  });

  it('derives one job id per task token', () => {
    expect(jobIdForTaskToken('token-a')).toBe(jobIdForTaskToken('token-a'));
    expect(jobIdForTaskToken('token-a')).not.toBe(jobIdForTaskToken('token-b'));
    expect(parseCredential(`${jobIdForTaskToken('x')}.${newSecret()}`, 'job')).toBeDefined();
  });
});

describe('matching', () => {
  const vmwareJob = { builderType: 'vmware-iso', labels: ['lab', 'ssd'] };

  it('needs every required label and the builder capability', () => {
    expect(matches(vmwareJob, agent('a', ['lab', 'ssd', 'extra']))).toBe(true);
    expect(mismatch(vmwareJob, agent('a', ['lab']))).toBe('labels [ssd] missing');
    expect(mismatch(vmwareJob, agent('a', ['lab', 'ssd'], { hypervisors: ['VBoxManage'] }))).toBe(
      'vmware not available on this agent (vmrun not found)',
    );
    expect(mismatch({ builderType: 'virtualbox-iso', labels: [] }, agent('a', [], { hypervisors: [] }))).toBe(
      'virtualbox not available on this agent (VBoxManage not found)',
    );
    expect(mismatch({ builderType: 'qemu', labels: [] }, agent('a', []))).toBe(
      'builder qemu is not among its builders',
    );
    expect(matches({ builderType: 'null', labels: [] }, agent('a', [], { hypervisors: [] }))).toBe(true);
  });

  it('explains why nothing matches, naming labels or each agent that lacks the capability', () => {
    expect(explainNoMatch(vmwareJob, [])).toBe('no agent is online');
    expect(explainNoMatch(vmwareJob, [agent('a', ['lab'])])).toBe('no agent with labels [lab, ssd] is online');
    expect(explainNoMatch(vmwareJob, [agent('b', ['lab', 'ssd'], { hypervisors: [] }), agent('c', ['other'])])).toMatch(
      /^no online agent with labels \[lab, ssd\] can run vmware-iso: b \(ag-[0-9a-f]+\): vmware not available on this agent \(vmrun not found\)$/,
    );
    expect(explainNoMatch(vmwareJob, [agent('a', ['lab']), agent('d', ['lab', 'ssd'])])).toBeUndefined();
  });
});

describe('lease timing', () => {
  const policy = DEFAULT_LEASE_POLICY;
  const now = new Date('2026-12-02T12:00:00.000Z');

  it('lasts three heartbeat windows', () => {
    expect(leaseSeconds(policy)).toBe(90);
    expect(leaseExpiry(now, policy).toISOString()).toBe('2026-12-02T12:01:30.000Z');
    expect(isExpired('2026-12-02T12:01:30.000Z', new Date('2026-12-02T12:01:29.999Z'))).toBe(false);
    expect(isExpired('2026-12-02T12:01:30.000Z', new Date('2026-12-02T12:01:30.000Z'))).toBe(true);
  });

  it('re-offers an expired lease until the attempts are spent, then fails it saying why', () => {
    expect(afterExpiry({ agentId: 'ag-1', attempt: 1 }, policy)).toEqual({ action: 'reoffer' });
    expect(afterExpiry({ agentId: 'ag-1', attempt: 2 }, policy)).toEqual({ action: 'reoffer' });
    const last = afterExpiry({ agentId: 'ag-1', attempt: 3, lastHeartbeatAt: '2026-12-02T11:58:00.000Z' }, policy);
    expect(last.action).toBe('fail');
    expect(last.action === 'fail' && last.reason).toMatch(
      /agent ag-1 stopped heartbeating \(last heartbeat 2026-12-02T11:58:00.000Z; lease 90 s\) and the job was leased 3 times/,
    );
  });

  it('times a queue out and tells online agents from silent ones', () => {
    expect(queueTimedOut('2026-12-02T11:50:00.001Z', now, policy)).toBe(false);
    expect(queueTimedOut('2026-12-02T11:50:00.000Z', now, policy)).toBe(true);
    expect(isOnline('2026-12-02T11:58:30.000Z', now, policy)).toBe(true);
    expect(isOnline('2026-12-02T11:58:29.000Z', now, policy)).toBe(false);
    expect(isOnline(undefined, now, policy)).toBe(false);
  });
});

describe('access checks', () => {
  const now = new Date('2026-12-02T12:00:00.000Z');
  const { credential, hash } = issueCredential('registrationToken');
  const token = {
    tokenId: credential.id,
    secretHash: hash,
    labels: ['lab'],
    createdAt: '2026-12-02T11:00:00.000Z',
    expiresAt: '2026-12-02T13:00:00.000Z',
  };

  it('accepts a fresh token once, and refuses a used, expired, unknown or wrongly-keyed one', () => {
    expect(() => checkRegistrationToken(token, credential.secret, now)).not.toThrow();
    const used = gatewayError(() =>
      checkRegistrationToken({ ...token, usedAt: '2026-12-02T11:30:00.000Z', usedBy: 'ag-x' }, credential.secret, now),
    );
    expect(used.code).toBe('TokenInvalid');
    expect(used.message).toMatch(/already used .*single-use/);
    const expired = gatewayError(() =>
      checkRegistrationToken(token, credential.secret, new Date('2026-12-02T13:00:00.000Z')),
    );
    expect(expired.code).toBe('TokenInvalid');
    expect(expired.message).toMatch(/expired at 2026-12-02T13:00:00.000Z/);
    expect(gatewayError(() => checkRegistrationToken(undefined, credential.secret, now)).code).toBe('Unauthorized');
    // A wrong secret reads like an unknown token, even for a used one: nothing is revealed without the secret.
    const wrong = gatewayError(() => checkRegistrationToken({ ...token, usedAt: 'x' }, newSecret(), now));
    expect(wrong.code).toBe('Unauthorized');
  });

  it('refuses a wrong agent secret and a revoked or deregistered agent', () => {
    const a = issueCredential('agent');
    const record = { agentId: a.credential.id, secretHash: a.hash, status: 'ACTIVE' as const };
    expect(() => checkAgent(record, a.credential.secret)).not.toThrow();
    expect(gatewayError(() => checkAgent(record, newSecret())).code).toBe('Unauthorized');
    expect(gatewayError(() => checkAgent(undefined, a.credential.secret)).code).toBe('Unauthorized');
    const revoked = gatewayError(() =>
      checkAgent({ ...record, status: 'REVOKED', statusChangedAt: '2026-12-02T11:00:00.000Z' }, a.credential.secret),
    );
    expect([revoked.code, revoked.message]).toEqual([
      'AgentRevoked',
      `agent ${a.credential.id} was revoked at 2026-12-02T11:00:00.000Z: register it again with a new token (\`kiln-agent register\`)`,
    ]);
    expect(gatewayError(() => checkAgent({ ...record, status: 'DEREGISTERED' }, a.credential.secret)).code).toBe(
      'AgentRevoked',
    );
  });

  it("refuses another job's credential and an earlier lease's", () => {
    const mine = issueCredential('job', jobIdForTaskToken('mine'));
    const other = issueCredential('job', jobIdForTaskToken('other'));
    const job = { jobId: mine.credential.id, agentId: 'ag-1', credentialHash: mine.hash };
    expect(() => checkJobCredential(job, job.jobId, mine.credential)).not.toThrow();
    const forbidden = gatewayError(() => checkJobCredential(job, job.jobId, other.credential));
    expect(forbidden.code).toBe('Forbidden');
    const reLeased = issueCredential('job', job.jobId);
    expect(
      gatewayError(() => checkJobCredential({ ...job, credentialHash: reLeased.hash }, job.jobId, mine.credential))
        .code,
    ).toBe('LeaseLost');
    expect(gatewayError(() => checkJobCredential(undefined, job.jobId, mine.credential)).code).toBe('Unauthorized');
  });
});
