/**
 * Secrets of the agent gateway: registration tokens, agent secrets and job credentials. Each is `<id>.<secret>`:
 * the id says which record to read, the secret is 32 random bytes (base64url) that only its holder ever sees;
 * the store keeps its SHA-256 alone and compares in constant time. A high-entropy secret needs no slow hash (no
 * dictionary to guess from), and SHA-256 keeps every authenticated request cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_BYTES = 32;

/** Id prefixes: a credential's kind is visible in its id, so one pasted in the wrong place is named as such. */
export const ID_PREFIX = { agent: 'ag', job: 'job', registrationToken: 'rt' } as const;
export type IdKind = keyof typeof ID_PREFIX;

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}-${randomBytes(12).toString('hex')}`;
}

/** A job id derived from its Step Functions task token: a retried enqueue of the same task is the same job. */
export function jobIdForTaskToken(taskToken: string): string {
  return `${ID_PREFIX.job}-${createHash('sha256').update(taskToken, 'utf8').digest('hex').slice(0, 24)}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export interface Credential {
  readonly id: string;
  readonly secret: string;
}

const CREDENTIAL = /^([a-z]+-[0-9a-f]{24})\.([A-Za-z0-9_-]{43})$/;

/** `<id>.<secret>` of the given kind, or undefined (malformed, or a credential of another kind). */
export function parseCredential(text: string, kind: IdKind): Credential | undefined {
  const m = CREDENTIAL.exec(text.trim());
  if (!m?.[1] || !m[2] || !m[1].startsWith(`${ID_PREFIX[kind]}-`)) return undefined;
  return { id: m[1], secret: m[2] };
}

export function formatCredential(credential: Credential): string {
  return `${credential.id}.${credential.secret}`;
}

/** A fresh credential of a kind and the hash to store for it. */
export function issueCredential(kind: IdKind, id: string = newId(kind)): { credential: Credential; hash: string } {
  const secret = newSecret();
  return { credential: { id, secret }, hash: hashSecret(secret) };
}
