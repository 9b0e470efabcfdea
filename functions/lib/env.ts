/**
 * The Lambdas' own environment: registry-declared variables (functions/registry.ts `KILN_ENV`) and the harness's
 * poll override. Generic readers live in aws/env.ts.
 */
import { requireEnv } from '../../aws/env.ts';
import { KILN_ENV, type KilnEnvKey } from '../registry.ts';

/** Reads a registry-declared variable by its key (`artifactsBucket` → KILN_ARTIFACTS_BUCKET). */
export function requireKilnEnv(key: KilnEnvKey, env: NodeJS.ProcessEnv = process.env): string {
  return requireEnv(KILN_ENV[key], env);
}

/** The shortest poll interval; the local harness sets 1 so the same ASL runs fast. */
export const MIN_POLL_SECONDS_ENV = 'KILN_MIN_POLL_SECONDS';
