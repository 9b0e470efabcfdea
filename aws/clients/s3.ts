import { S3Client } from '@aws-sdk/client-s3';
import { cachedPerRegion, clientConfig } from '../clients.ts';
import { optionalEnv } from '../env.ts';

// Path-style only against a local endpoint (moto serves every bucket on one host); AWS keeps virtual-hosted URLs.
export const s3Client = cachedPerRegion(
  (region) => new S3Client({ ...clientConfig(region), forcePathStyle: optionalEnv('AWS_ENDPOINT_URL') !== undefined }),
);
