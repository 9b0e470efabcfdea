import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { stagePayloadSchema } from '../lib/build-state.ts';
import { ssmClient } from '../lib/clients/ssm.ts';
import { optionalEnv } from '../lib/env.ts';
import { baseDepsFromEnv, noEc2 } from '../lib/handler-deps.ts';
import { lambdaHandler } from '../lib/wiring.ts';
import { type RunProvisionerDeps, runProvisioner } from './run-provisioner.ts';

const base = baseDepsFromEnv(noEc2);
const logGroup = optionalEnv('KILN_PROVISION_LOG_GROUP');
const deps: RunProvisionerDeps = {
  ...base,
  ssmFor: (r) => ssmClient(r),
  presign: (method, Bucket, Key, expiresIn) =>
    getSignedUrl(
      base.s3,
      method === 'GET' ? new GetObjectCommand({ Bucket, Key }) : new PutObjectCommand({ Bucket, Key }),
      {
        expiresIn,
      },
    ),
  ...(logGroup ? { logGroup } : {}),
};

export const handler = lambdaHandler(stagePayloadSchema, (payload) => runProvisioner(deps, payload));
