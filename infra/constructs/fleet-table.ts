import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { FLEET_TABLE } from '../../aws/fleet-contract.ts';
import { tagComponent } from './component-tag.ts';

export interface FleetTableProps {
  readonly dataKey: kms.IKey;
}

/**
 * The fleet bound's semaphore (aws/fleet-contract.ts: the counter, held slots, waiting builds). On-demand,
 * encrypted with the data key, point-in-time recovery on like Kiln's other tables; waiter items expire by TTL.
 * Destroyed with the stack: it only describes builds running now.
 */
export class FleetTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: FleetTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: FLEET_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: FLEET_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.dataKey,
      timeToLiveAttribute: FLEET_TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    tagComponent(this, 'fleet');
  }
}
