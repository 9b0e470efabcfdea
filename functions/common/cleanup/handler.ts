import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as z from 'zod/mini';
import { ec2Client } from '../../../aws/clients/ec2.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { buildStateSchema, stepErrorSchema } from '../../lib/build-state.ts';
import { baseDepsFromEnv } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { type CleanupDeps, cleanupBuild } from './cleanup.ts';

const base = baseDepsFromEnv((r) => ec2Client(r));
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
const schema = z.object({ state: buildStateSchema, error: z.optional(stepErrorSchema) });

export const handler = lambdaHandler(schema, (input) => cleanupBuild(deps, input));
