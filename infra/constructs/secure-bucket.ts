import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface SecureBucketProps {
  /** Customer managed key for SSE-KMS. */
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving this bucket's server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Prefix of this bucket's access logs inside the log bucket, e.g. `templates/`. */
  readonly accessLogsPrefix: string;
  /**
   * Turns on S3 → EventBridge notifications (native CloudFormation property, no custom resource).
   * @default false
   */
  readonly eventBridge?: boolean;
  /** @default - no lifecycle rules */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /** @default RemovalPolicy.RETAIN (templates and artifacts outlive a stack) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One hardened bucket: versioned, SSE-KMS with a bucket key, TLS only, public access blocked, objects owned by
 * the bucket owner (no ACLs), server access logs on. Every data bucket of Kiln is one of these so the hardening
 * cannot drift between them.
 */
export function createSecureBucket(scope: Construct, id: string, props: SecureBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    versioned: true,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: props.encryptionKey,
    // The bucket key cuts KMS calls (and cost) by caching a data key per bucket.
    bucketKeyEnabled: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: props.accessLogsBucket,
    serverAccessLogsPrefix: props.accessLogsPrefix,
    lifecycleRules: [
      // Versioning keeps every overwrite; old versions are only needed to rebuild recent builds.
      { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(90) },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ...(props.lifecycleRules ?? []),
    ],
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  if (props.eventBridge === true) {
    // `eventBridgeEnabled: true` would add a Custom::S3BucketNotifications resource and its Lambda; the native
    // property does the same with no custom resource (and deploys into moto).
    (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
      'NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled',
      true,
    );
  }
  return bucket;
}
