import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { tagComponent } from './component-tag.ts';

/**
 * The two customer managed keys of a Kiln deployment. Two, not one, because CloudWatch Logs needs a key policy
 * statement for the logs service principal that S3 and DynamoDB data must not share.
 */
export class EncryptionKeys extends Construct {
  /** Templates, artifacts, builds table. */
  public readonly dataKey: kms.Key;
  /** Every Kiln log group (Lambda, Step Functions, provisioner output, VPC flow logs). */
  public readonly logsKey: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'Kiln templates, artifacts and builds table',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logsKey = new kms.Key(this, 'LogsKey', {
      description: 'Kiln log groups',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts with the caller's key only if the key policy lets the regional logs service use it,
    // and only for log groups of this account and region (the encryption context names the log group ARN).
    this.logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    tagComponent(this, 'keys');
  }
}
