/**
 * What stage functions receive instead of reading globals: clients, settings and a clock. Handlers build one
 * at module scope from the environment; tests build one around aws-sdk-client-mock clients.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';

export interface BaseDeps {
  readonly s3: S3Client;
  readonly ec2For: (region: string) => EC2Client;
  readonly artifactsBucket: string;
  /** The artifacts bucket's KMS key id, named on objects that carry a secret (absent: the bucket default). */
  readonly dataKeyId?: string;
  /** Region the function runs in; a build's source region defaults to it. */
  readonly homeRegion: string;
  readonly minPollSeconds: number;
  readonly now: () => Date;
}
