import { dynamoClient } from '../../../aws/clients/dynamodb.ts';
import { ec2Client } from '../../../aws/clients/ec2.ts';
import { ecrClient } from '../../../aws/clients/ecr.ts';
import { eventBridgeClient } from '../../../aws/clients/eventbridge.ts';
import { s3Client } from '../../../aws/clients/s3.ts';
import { secretsClient } from '../../../aws/clients/secrets-manager.ts';
import { ssmClient } from '../../../aws/clients/ssm.ts';
import { homeRegion } from '../../../aws/clients.ts';
import { optionalEnv } from '../../../aws/env.ts';
import { eventSinkFor } from '../../../aws/events-emitter.ts';
import { requireKilnEnv } from '../../lib/env.ts';
import { digestResolverFromEnv } from '../../lib/registry-digest.ts';
import { lambdaHandler, logger } from '../../lib/wiring.ts';
import { DEFAULT_SECRET_PREFIX, KILN_ENV } from '../../registry.ts';
import { coreEngine } from './engine.ts';
import { prepareEnvelopeSchema, readBuildStart } from './input.ts';
import { type PrepareDeps, prepareBuild } from './prepare-build.ts';

const region = homeRegion();
const deps: PrepareDeps = {
  s3: s3Client(region),
  dynamo: dynamoClient(region),
  artifactsBucket: requireKilnEnv('artifactsBucket'),
  ...(optionalEnv(KILN_ENV.dataKeyId) ? { dataKeyId: optionalEnv(KILN_ENV.dataKeyId) as string } : {}),
  buildsTable: requireKilnEnv('buildsTable'),
  resolvers: {
    ec2For: (r) => ec2Client(r),
    ssm: ssmClient(region),
    secrets: secretsClient(region),
    homeRegion: region,
    // The deployment's scope (the same prefix as the IAM policy of this function).
    secretPrefix: optionalEnv(KILN_ENV.secretPrefix) ?? DEFAULT_SECRET_PREFIX,
  },
  engine: coreEngine,
  // Base image digests: the allowlisted registries, the deployment's mirrors, its own ECR (a malformed setting
  // fails at cold start).
  resolveImageDigest: digestResolverFromEnv(process.env, { region, ecr: ecrClient(region) }),
  now: () => new Date(),
  events: eventSinkFor(eventBridgeClient(region)),
  warn: (message, detail) => logger.warn(message, detail),
  // The same list the deployment's IAM grants cover (infra: kmsKeyArns); empty means AWS-managed keys only.
  deployment: {
    kmsKeyArns: (optionalEnv(KILN_ENV.kmsKeyArns) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  },
};

// The input is checked first, against the published schema (aws/build-input.ts): a wrong start fails with
// Kiln.InputInvalid before any file is read or anything is created.
export const handler = lambdaHandler(prepareEnvelopeSchema, (event) =>
  prepareBuild(deps, readBuildStart(event.input), event.executionName),
);
