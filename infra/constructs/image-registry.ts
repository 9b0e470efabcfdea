import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { REGISTRY_TABLE } from '../../aws/image-registry-records.ts';
import { tagComponent } from './component-tag.ts';

export interface ImageRegistryProps {
  /** Customer managed key of Kiln's data (the buckets and the builds table use it too). */
  readonly dataKey: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The image registry's table (artifacts, lineage pointers, channels and their history; the single-table layout
 * is aws/image-registry-records.ts's). On-demand, encrypted with the data key, point-in-time recovery on, kept on
 * stack deletion: channels are what consumers launch from. Finalize writes it (the `registry-write` scope of
 * functions/registry.ts); the CLI's operators use their own credentials.
 */
export class ImageRegistry extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ImageRegistryProps) {
    super(scope, id);
    const { partitionKey, sortKey, templateIndex } = REGISTRY_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: templateIndex.name,
      partitionKey: { name: templateIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: templateIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    tagComponent(this, 'image-registry');
  }
}
