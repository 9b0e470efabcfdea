/**
 * Builds `BaseDeps` from the environment for handlers, once per container (module scope of the handler).
 * The EC2 client comes from the caller: the EC2 SDK is the largest one to load at cold start, and the functions
 * that never touch EC2 (Finalize, RunProvisioner, CheckCommand) pass `noEc2` instead of importing it.
 */

import { s3Client } from '../../aws/clients/s3.ts';
import { homeRegion } from '../../aws/clients.ts';
import { numberEnv, optionalEnv } from '../../aws/env.ts';
import { KILN_ENV } from '../registry.ts';
import { MIN_POLL_SECONDS_ENV, requireKilnEnv } from './env.ts';
import { DEFAULT_MIN_POLL_SECONDS } from './polling.ts';
import type { BaseDeps } from './stage-deps.ts';

/** For functions without EC2 access (their role has none either): a call is a programming error. */
export const noEc2: BaseDeps['ec2For'] = (region) => {
  throw new Error(`this function has no EC2 client (asked for one in ${region}); use ec2Client in its handler`);
};

export function baseDepsFromEnv(ec2For: BaseDeps['ec2For'], env: NodeJS.ProcessEnv = process.env): BaseDeps {
  const region = homeRegion(env);
  const dataKeyId = optionalEnv(KILN_ENV.dataKeyId, env);
  return {
    s3: s3Client(region),
    ec2For,
    artifactsBucket: requireKilnEnv('artifactsBucket', env),
    ...(dataKeyId ? { dataKeyId } : {}),
    homeRegion: region,
    minPollSeconds: numberEnv(MIN_POLL_SECONDS_ENV, DEFAULT_MIN_POLL_SECONDS, env),
    now: () => new Date(),
  };
}
