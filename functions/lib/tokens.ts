/**
 * Idempotency tokens derived from the execution and the build, so a Step Functions retry of a stage
 * reuses the token of the first try and AWS returns the first result instead of creating a second resource.
 */
import { createHash } from 'node:crypto';

/** 64 hex characters: the EC2 ClientToken limit is 64 ASCII characters. */
export function clientToken(...parts: readonly (string | number)[]): string {
  return createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex');
}

/** A short, deterministic id (for buildId and S3 prefixes): readable prefix plus a hash. */
export function shortId(prefix: string, ...parts: readonly (string | number)[]): string {
  return `${prefix}-${clientToken(...parts).slice(0, 20)}`;
}

/** The build id of an execution (PrepareBuild names its record by it; Finalize and the CLI find it by it). */
export const buildIdFor = (executionName: string): string => shortId('kb', executionName);
