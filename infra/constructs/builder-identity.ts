import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tagComponent } from './component-tag.ts';
import { ecrPushStatements } from './ecr-permissions.ts';
import { acknowledge } from './nag-acknowledge.ts';
import { STORE_LAYOUT } from './template-store.ts';

export interface BuilderIdentityProps {
  readonly artifactsBucket: s3.IBucket;
  /** Key of the artifacts bucket. */
  readonly dataKey: kms.IKey;
  /** Key of the provisioner output log group. */
  readonly logsKey: kms.IKey;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly provisionLogRetention?: logs.RetentionDays;
}

/**
 * What a builder instance is allowed to do: be managed by SSM, read the files staged for builds, write its
 * provisioner output, and (docker builds) push to and pull from the account's ECR repositories tagged
 * `kiln:managed=true` in the stack's region. Nothing in EC2, nothing else in S3 or ECR.
 *
 * Per-build isolation is NOT expressible in this role: instance-profile sessions carry no principal tags (the
 * instance's `kiln:build-id` tag is not visible as `${aws:PrincipalTag/...}`), and `ec2:SourceInstanceARN` can only
 * be compared with ARNs known when the policy is written. So a builder can read the staged files of any build; they
 * hold scripts, never secrets (secrets are resolved on the instance at run time, see the design notes).
 */
export class BuilderIdentity extends Construct {
  public readonly role: iam.Role;
  public readonly instanceProfile: iam.InstanceProfile;
  /** CloudWatch log group for SSM Run Command output (CloudWatchOutputConfig). */
  public readonly provisionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BuilderIdentityProps) {
    super(scope, id);
    const region = Stack.of(this).region;

    this.provisionLogGroup = new logs.LogGroup(this, 'ProvisionLogs', {
      encryptionKey: props.logsKey,
      retention: props.provisionLogRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description:
        'Kiln builder instances: SSM managed, read staged build files, write build logs, push Kiln ECR repositories',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const bucketArn = props.artifactsBucket.bucketArn;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadStagedBuildFiles',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [`${bucketArn}/${STORE_LAYOUT.buildFilesPattern}`],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteBuildLogs',
        actions: ['s3:PutObject'],
        resources: [`${bucketArn}/${STORE_LAYOUT.buildLogsPattern}`],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'UseBucketKeyThroughS3',
        // Decrypt to read staged files, GenerateDataKey to write logs under SSE-KMS; only on behalf of S3.
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.dataKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteProvisionerOutput',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [this.provisionLogGroup.logGroupArn, `${this.provisionLogGroup.logGroupArn}:log-stream:*`],
      }),
    );
    // Docker builds: the host logs in to ECR with this role and pushes (and may pull) Kiln-managed repositories only.
    for (const statement of ecrPushStatements(Stack.of(this))) this.role.addToPrincipalPolicy(statement);
    this.instanceProfile = new iam.InstanceProfile(this, 'InstanceProfile', { role: this.role });

    acknowledge(
      this.role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'AWS-maintained minimum for the SSM agent (Run Command, Session Manager); tracks agent changes for us.',
    );
    tagComponent(this, 'builder');
  }
}
