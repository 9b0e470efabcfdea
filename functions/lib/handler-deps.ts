/**
 * Builds `BaseDeps` from the environment for handlers, once per container (module scope of the handler).
 */

import { KILN_ENV } from '../registry.ts';
import { ec2Client, homeRegion, s3Client } from './clients.ts';
import { MIN_POLL_SECONDS_ENV, numberEnv, optionalEnv, requireKilnEnv } from './env.ts';
import { DEFAULT_MIN_POLL_SECONDS } from './polling.ts';
import type { BaseDeps } from './stage-deps.ts';

export function baseDepsFromEnv(env: NodeJS.ProcessEnv = process.env): BaseDeps {
  const region = homeRegion(env);
  const dataKeyId = optionalEnv(KILN_ENV.dataKeyId, env);
  return {
    s3: s3Client(region),
    ec2For: (r) => ec2Client(r),
    artifactsBucket: requireKilnEnv('artifactsBucket', env),
    ...(dataKeyId ? { dataKeyId } : {}),
    homeRegion: region,
    minPollSeconds: numberEnv(MIN_POLL_SECONDS_ENV, DEFAULT_MIN_POLL_SECONDS, env),
    now: () => new Date(),
  };
}
