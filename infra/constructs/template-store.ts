import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUILD_RECORD_KEY, BUILD_TEMPLATE_INDEX } from '../../aws/build-records.ts';
import { STORE_LAYOUT } from '../../aws/store-layout.ts';
import { tagComponent } from './component-tag.ts';
import { acknowledge } from './nag-acknowledge.ts';
import { createSecureBucket } from './secure-bucket.ts';

export { STORE_LAYOUT };

export interface TemplateStoreProps {
  /** Customer managed key for both data buckets and the builds table. */
  readonly dataKey: kms.IKey;
  /**
   * Days a build's files and logs stay in the artifacts bucket.
   * @default 180
   */
  readonly buildRetentionDays?: number;
  /**
   * Days staged files tagged `kiln:retention=staged` stay (they are only needed while the build runs).
   * @default 14
   */
  readonly stagedRetentionDays?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Durable state of Kiln: the template bucket (uploads start builds), the artifacts bucket (staged files, logs,
 * manifests), their access-log bucket and the builds table.
 */
export class TemplateStore extends Construct {
  public readonly templateBucket: s3.Bucket;
  public readonly artifactsBucket: s3.Bucket;
  /** Receives server access logs of both data buckets. */
  public readonly accessLogsBucket: s3.Bucket;
  public readonly buildsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TemplateStoreProps) {
    super(scope, id);
    const buildDays = props.buildRetentionDays ?? 180;
    const stagedDays = props.stagedRetentionDays ?? 14;
    for (const [name, days] of [
      ['buildRetentionDays', buildDays],
      ['stagedRetentionDays', stagedDays],
    ] as const) {
      if (!Number.isInteger(days) || days < 1) throw new Error(`TemplateStore: ${name} must be a positive integer`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logging cannot deliver to a bucket encrypted with a customer managed KMS key.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy,
    });
    acknowledge(
      this.accessLogsBucket,
      'AwsSolutions-S1',
      'This is the access-log bucket; logging it into itself would loop.',
    );

    this.templateBucket = createSecureBucket(this, 'Templates', {
      encryptionKey: props.dataKey,
      accessLogsBucket: this.accessLogsBucket,
      accessLogsPrefix: 'templates/',
      eventBridge: true,
      removalPolicy,
    });

    this.artifactsBucket = createSecureBucket(this, 'Artifacts', {
      encryptionKey: props.dataKey,
      accessLogsBucket: this.accessLogsBucket,
      accessLogsPrefix: 'artifacts/',
      removalPolicy,
      lifecycleRules: [
        // Lifecycle prefixes cannot hold wildcards (builds/*/logs/), so the whole per-build area ages out and
        // staged files, tagged by the staging Lambda, go sooner. Manifests live outside builds/.
        { id: 'expire-build-files-and-logs', prefix: STORE_LAYOUT.buildsPrefix, expiration: Duration.days(buildDays) },
        // Backstop only: Finalize and Cleanup remove every version under secrets/<buildId>/ when a build ends.
        {
          id: 'expire-sealed-values',
          prefix: STORE_LAYOUT.secretsPrefix,
          expiration: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'expire-staged-files',
          prefix: STORE_LAYOUT.buildsPrefix,
          tagFilters: { [STORE_LAYOUT.stagedTag.key]: STORE_LAYOUT.stagedTag.value },
          expiration: Duration.days(stagedDays),
        },
      ],
    });

    this.buildsTable = new dynamodb.Table(this, 'Builds', {
      partitionKey: { name: BUILD_RECORD_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy,
    });
    // A template's builds in start order: only-if-changed's last successful build, a schedule's failures in a row.
    this.buildsTable.addGlobalSecondaryIndex({
      indexName: BUILD_TEMPLATE_INDEX.name,
      partitionKey: { name: BUILD_TEMPLATE_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: BUILD_TEMPLATE_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
    });
    tagComponent(this, 'template-store');
  }
}
