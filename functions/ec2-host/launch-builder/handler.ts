import { ec2Client } from '../../../aws/clients/ec2.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import {
  DEFAULT_DOCKER_HOST_INSTANCE_TYPE,
  DEFAULT_DOCKER_HOST_VOLUME_GIB,
  DOCKER_HOST_ENV,
  ECS_AL2023_AMI_PARAMETER,
} from '../../../aws/docker-host.ts';
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
  dockerHost: {
    amiParameter: optionalEnv(DOCKER_HOST_ENV.amiParameter) || ECS_AL2023_AMI_PARAMETER,
    instanceType: optionalEnv(DOCKER_HOST_ENV.instanceType) || DEFAULT_DOCKER_HOST_INSTANCE_TYPE,
    volumeGiB: DEFAULT_DOCKER_HOST_VOLUME_GIB,
  },
  ssmFor: (r) => ssmClient(r),
};

export const handler = lambdaHandler(stagePayloadSchema, (payload) => launchBuilder(deps, payload));
