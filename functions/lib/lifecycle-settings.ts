/**
 * The lifecycle policy as the Lifecycle function reads it: KILN_LIFECYCLE_* from the stack
 * (`KilnStackProps.lifecycle`), DEFAULT_LIFECYCLE_POLICY for what is absent; a malformed value fails at cold start.
 */
import { optionalEnv } from '../../aws/env.ts';
import {
  assertLifecyclePolicy,
  DEFAULT_LIFECYCLE_POLICY,
  type LifecyclePolicy,
} from '../../core/image-registry/lifecycle.ts';
import { KILN_ENV } from '../registry.ts';

function wholeEnv(name: string, fallback: number, min: number, env: NodeJS.ProcessEnv): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`Environment variable ${name} must be a whole number of ${min} or more, got "${raw}"`);
  }
  return value;
}

export function lifecyclePolicyFromEnv(env: NodeJS.ProcessEnv = process.env): LifecyclePolicy {
  const d = DEFAULT_LIFECYCLE_POLICY;
  return assertLifecyclePolicy({
    keepPerBuild: wholeEnv(KILN_ENV.lifecycleKeep, d.keepPerBuild, 1, env),
    graceDays: wholeEnv(KILN_ENV.lifecycleGraceDays, d.graceDays, 0, env),
    rollbackProtection: wholeEnv(KILN_ENV.lifecycleRollbackProtection, d.rollbackProtection, 0, env),
  });
}
