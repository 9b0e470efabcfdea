import { lambdaClient } from '../../../aws/clients/lambda.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { optionalEnv } from '../../../aws/env.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { s3Presigner } from '../../lib/commands/s3-presigner.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { KILN_ENV } from '../../registry.ts';
import { invokeShellLocal } from './invoke-shell-local.ts';
import { type RunProvisionerDeps, runProvisioner } from './run-provisioner.ts';

const base = baseDepsFromEnv(noEc2);
const logGroup = optionalEnv('KILN_PROVISION_LOG_GROUP');
const shellLocalFunction = optionalEnv(KILN_ENV.shellLocalFunction);
const deps: RunProvisionerDeps = {
  ...base,
  ssmFor: (r) => ssmClient(r),
  presign: s3Presigner(base.s3),
  ...(logGroup ? { logGroup } : {}),
  ...(shellLocalFunction ? { shellLocal: invokeShellLocal(lambdaClient(), shellLocalFunction) } : {}),
};

export const handler = lambdaHandler(stagePayloadSchema, (payload) => runProvisioner(deps, payload));
