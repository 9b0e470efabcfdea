/**
 * Environment reading for whatever runs Kiln's AWS code (Lambda handlers at module scope, the CLI): a missing or
 * malformed variable fails at start with a message naming it, instead of deep inside a call with `undefined`.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`Environment variable ${name} is required`);
  return value;
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

/** SDK retry attempts; the harness sets 1 because moto's 500s for unimplemented calls would be retried. */
export const SDK_MAX_ATTEMPTS_ENV = 'KILN_SDK_MAX_ATTEMPTS';
