/**
 * AWS client factory. Clients are created once per container and region (module scope caches), so warm
 * invocations reuse connections. The endpoint comes from `AWS_ENDPOINT_URL`, which the SDK reads itself;
 * only the retry budget is ours (`KILN_SDK_MAX_ATTEMPTS`, the harness sets 1).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { numberEnv, optionalEnv, SDK_MAX_ATTEMPTS_ENV } from './env.ts';

export interface ClientConfig {
  readonly region?: string;
  readonly maxAttempts: number;
}

export function clientConfig(region?: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const maxAttempts = numberEnv(SDK_MAX_ATTEMPTS_ENV, 3, env);
  const resolved = region ?? optionalEnv('AWS_REGION', env);
  return resolved ? { region: resolved, maxAttempts } : { maxAttempts };
}

/** The region the function runs in: the build's source region unless the template names another. */
export function homeRegion(env: NodeJS.ProcessEnv = process.env): string {
  return optionalEnv('AWS_REGION', env) ?? optionalEnv('AWS_DEFAULT_REGION', env) ?? 'us-east-1';
}

function cachedPerRegion<T>(make: (region: string) => T): (region?: string) => T {
  const cache = new Map<string, T>();
  return (region = homeRegion()) => {
    let client = cache.get(region);
    if (!client) {
      client = make(region);
      cache.set(region, client);
    }
    return client;
  };
}

export const ec2Client = cachedPerRegion((region) => new EC2Client(clientConfig(region)));
export const ssmClient = cachedPerRegion((region) => new SSMClient(clientConfig(region)));
// Path-style only against a local endpoint (moto serves every bucket on one host); AWS keeps virtual-hosted URLs.
export const s3Client = cachedPerRegion(
  (region) => new S3Client({ ...clientConfig(region), forcePathStyle: optionalEnv('AWS_ENDPOINT_URL') !== undefined }),
);
export const dynamoClient = cachedPerRegion((region) => new DynamoDBClient(clientConfig(region)));
export const lambdaClient = cachedPerRegion((region) => new LambdaClient(clientConfig(region)));
export const secretsClient = cachedPerRegion((region) => new SecretsManagerClient(clientConfig(region)));
