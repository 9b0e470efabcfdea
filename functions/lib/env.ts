/**
 * Environment reading for handlers. Handlers call these at module scope, so a missing variable fails the
 * cold start with a message naming it, instead of failing deep inside a stage with `undefined`.
 */
import { KILN_ENV, type KilnEnvKey } from '../registry.ts';

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`Environment variable ${name} is required`);
  return value;
}

/** Reads a registry-declared variable by its key (`artifactsBucket` → KILN_ARTIFACTS_BUCKET). */
export function requireKilnEnv(key: KilnEnvKey, env: NodeJS.ProcessEnv = process.env): string {
  return requireEnv(KILN_ENV[key], env);
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A positive number from the environment, or the default; a malformed value fails at cold start. */
export function numberEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`Environment variable ${name} must be a positive number, got "${raw}"`);
  }
  return value;
}

/** The shortest poll interval; the local harness sets 1 so the same ASL runs fast. */
export const MIN_POLL_SECONDS_ENV = 'KILN_MIN_POLL_SECONDS';
/** SDK retry attempts; the harness sets 1 because moto's 500s for unimplemented calls would be retried. */
export const SDK_MAX_ATTEMPTS_ENV = 'KILN_SDK_MAX_ATTEMPTS';
