import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';
import { buildStateSchema, stepErrorSchema } from '../lib/build-state.ts';
import { ssmClient } from '../lib/clients.ts';
import { baseDepsFromEnv } from '../lib/handler-deps.ts';
import { lambdaHandler } from '../lib/wiring.ts';
import { type CleanupDeps, cleanupBuild } from './cleanup.ts';

const base = baseDepsFromEnv();
const deps: CleanupDeps = {
  ...base,
  ssmFor: (r) => ssmClient(r),
  presign: (method, Bucket, Key, expiresIn) =>
    getSignedUrl(
      base.s3,
      method === 'GET'
        ? new GetObjectCommand({ Bucket, Key })
        : method === 'DELETE'
          ? new DeleteObjectCommand({ Bucket, Key })
          : new PutObjectCommand({ Bucket, Key }),
      {
        expiresIn,
      },
    ),
};
const schema = z.object({ state: buildStateSchema, error: stepErrorSchema.optional() });

export const handler = lambdaHandler(schema, (input) => cleanupBuild(deps, input));
