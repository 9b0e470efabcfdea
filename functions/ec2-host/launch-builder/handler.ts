import { ec2Client } from '../../../aws/clients/ec2.ts';
import { optionalEnv } from '../../../aws/env.ts';
import { stagePayloadSchema } from '../../lib/build-state.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { baseDepsFromEnv } from '../../lib/handler-deps.ts';
import { lambdaHandler } from '../../lib/wiring.ts';
import { type LaunchDeps, launchBuilder } from './launch-builder.ts';

const deps: LaunchDeps = {
  ...baseDepsFromEnv((r) => ec2Client(r)),
  launch: {
    instanceProfile: requireKilnEnv('builderInstanceProfile'),
    securityGroupId: requireKilnEnv('builderSecurityGroup'),
    subnetIds: (optionalEnv('KILN_SUBNET_IDS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  },
};

export const handler = lambdaHandler(stagePayloadSchema, (payload) => launchBuilder(deps, payload));
