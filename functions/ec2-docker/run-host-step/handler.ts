import { ecrClient } from '../../../aws/clients/ecr.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { optionalEnv } from '../../../aws/env.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { s3Presigner } from '../../lib/commands/s3-presigner.ts';
import { ecrAccess } from '../../lib/ecr/ensure.ts';
import { ecrSettingsFromEnv } from '../../lib/ecr/settings.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { baseDepsFromEnv, noEc2 } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { type RunHostStepDeps, runHostStep } from './run-host-step.ts';

const base = baseDepsFromEnv(noEc2);
const logGroup = optionalEnv('KILN_PROVISION_LOG_GROUP');
const deps: RunHostStepDeps = {
  ...base,
  ssmFor: (r) => ssmClient(r),
  presign: s3Presigner(base.s3),
  ecr: ecrAccess((r) => ecrClient(r), ecrSettingsFromEnv()),
  accountId: requireKilnEnv('accountId'),
  ...(logGroup ? { logGroup } : {}),
};

export const handler = lambdaHandler(stagePayloadSchema, (payload) => runHostStep(deps, payload));
