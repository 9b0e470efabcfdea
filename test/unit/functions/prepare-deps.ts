/** PrepareBuild's dependencies for tests: SDK clients that aws-sdk-client-mock intercepts, the real engine, a fixed clock. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { coreEngine } from '../../../functions/common/prepare-build/engine.ts';
import type { PrepareDeps } from '../../../functions/common/prepare-build/prepare-build.ts';

export function prepareDeps(extra: Partial<PrepareDeps> = {}): PrepareDeps {
  return {
    s3: new S3Client({ region: 'us-east-1' }),
    dynamo: new DynamoDBClient({ region: 'us-east-1' }),
    artifactsBucket: 'kiln-artifacts',
    buildsTable: 'kiln-builds',
    resolvers: {
      ec2For: (r) => new EC2Client({ region: r }),
      ssm: new SSMClient({}),
      secrets: new SecretsManagerClient({}),
      homeRegion: 'us-east-1',
    },
    engine: coreEngine,
    now: () => new Date('2026-01-01T00:00:00Z'),
    ...extra,
  };
}
