import { ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AGENT_TABLE } from '../../aws/agent-gateway-records.ts';
import { parameterArn } from '../../aws/docker-host.ts';
import { ALL_KILN_DETAIL_TYPES, KILN_EVENT_SOURCE } from '../../aws/events-contract.ts';
import { REGISTRY_TABLE } from '../../aws/image-registry-records.ts';
import { AGENT_BUNDLE_PATH, agentVariablesKeyFor } from '../../aws/store-layout.ts';
import { PARAMETER_ROOT } from '../../core/image-registry/parameter.ts';
import type { PermissionScope } from '../../functions/registry.ts';
import { builderEc2Statements, ec2Arn } from './ec2-permissions.ts';
import {
  ecrCleanupStatements,
  ecrDigestStatements,
  ecrLoginStatements,
  ecrReadStatements,
  ecrRepositoriesArn,
  ecrWriteStatements,
  managedRepository,
} from './ecr-permissions.ts';
import { BUILD_ID_TAG, type PermissionTargets, tagPresent } from './permission-basics.ts';
import { STORE_LAYOUT } from './template-store.ts';

/** The only SSM documents Kiln runs on builders (AWS-owned, so their ARNs have no account). */
export const RUN_COMMAND_DOCUMENTS = ['AWS-RunShellScript', 'AWS-RunPowerShellScript'] as const;

export { BUILD_ID_TAG, EC2_DESCRIBE_ACTIONS, type PermissionTargets } from './permission-basics.ts';

/** Least-privilege statements for one permission scope of a function. */
export function statementsFor(scope: PermissionScope, t: PermissionTargets): iam.PolicyStatement[] {
  switch (scope) {
    case 'builder-ec2':
      return builderEc2Statements(t);
    case 'ssm-commands':
      return ssmCommandStatements(t);
    case 'artifacts-rw':
      return bucketStatements(t, 'Artifacts', t.artifactsBucketArn, STORE_LAYOUT.buildsPrefix, true);
    case 'templates-read':
      return [
        ...bucketStatements(t, 'Templates', t.templateBucketArn, STORE_LAYOUT.templatesPrefix, false),
        // What `kiln submit` uploads (a bundle and its var files), built by a direct request.
        ...bucketStatements(t, 'Submissions', t.templateBucketArn, STORE_LAYOUT.submissionsPrefix, false),
      ];
    case 'builds-table':
      return buildsTableStatements(t);
    case 'pass-builder-role':
      return [
        new iam.PolicyStatement({
          sid: 'PassBuilderRoleToEc2',
          actions: ['iam:PassRole'],
          resources: [t.builderRoleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
      ];
    case 'read-params-secrets':
      return resolverStatements(t);
    case 'manifests-write':
      // Write only: a manifest is never rewritten or deleted by the pipeline (the bucket's key is granted by artifacts-rw).
      return [
        new iam.PolicyStatement({
          sid: 'WriteManifests',
          actions: ['s3:PutObject'],
          resources: [`${t.artifactsBucketArn}/${STORE_LAYOUT.manifestsPrefix}*`],
        }),
      ];
    case 'build-secrets':
      return buildSecretsStatements(t);
    case 'build-kms-keys':
      return buildKmsKeyStatements(t);
    case 'registry-write':
      return registryWriteStatements(t);
    case 'ecr-read':
      return ecrReadStatements(t);
    case 'ecr-digests':
      return ecrDigestStatements(t);
    case 'ecr-write':
      return ecrWriteStatements(t);
    case 'ecr-login':
      return ecrLoginStatements(t);
    case 'ecr-cleanup':
      return ecrCleanupStatements(t);
    case 'docker-host-ami':
      return [
        new iam.PolicyStatement({
          sid: 'ReadDockerHostAmiParameter',
          actions: ['ssm:GetParameter'],
          resources: [parameterArn(t.dockerHostAmiParameter, t.stack.partition, t.stack.region, t.stack.account)],
        }),
      ];
    case 'schedule-control':
      return scheduleControlStatements(t);
    case 'registry-lifecycle':
      return registryLifecycleStatements(t);
    case 'kiln-events':
      return [kilnEventsStatement(t)];
    case 'agent-table':
      return [
        new iam.PolicyStatement({
          sid: 'AgentGatewayTable',
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [t.agentTableArn, `${t.agentTableArn}/index/${AGENT_TABLE.stateIndex.name}`],
        }),
        new iam.PolicyStatement({
          sid: 'AgentGatewayTableKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [t.dataKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${t.stack.region}.amazonaws.com` } },
        }),
      ];
    case 'agent-task-callbacks':
      // IAM has no resource type for these actions: the task token is the capability (only the gateway has them).
      return [
        new iam.PolicyStatement({
          sid: 'AnswerAgentTasks',
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: ['*'],
        }),
      ];
    case 'agent-downloads':
      return [
        new iam.PolicyStatement({
          sid: 'ReadAgentJobFiles',
          actions: ['s3:GetObject'],
          resources: [
            `${t.artifactsBucketArn}/${STORE_LAYOUT.buildsPrefix}*/files/${AGENT_BUNDLE_PATH}`,
            `${t.artifactsBucketArn}/${agentVariablesKeyFor('*')}`,
          ],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptAgentJobFilesThroughS3',
          actions: ['kms:Decrypt'],
          resources: [t.dataKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${t.stack.region}.amazonaws.com` } },
        }),
      ];
    case 'agent-uploads':
      // Write only, under the kept agent-artifacts/ prefix: the uploads handler presigns PUTs with this role's
      // authority for the lease holder; nothing it signs can read, list or delete.
      return [
        new iam.PolicyStatement({
          sid: 'WriteAgentArtifacts',
          actions: ['s3:PutObject'],
          resources: [`${t.artifactsBucketArn}/${STORE_LAYOUT.agentArtifactsPrefix}*`],
        }),
        new iam.PolicyStatement({
          sid: 'EncryptAgentArtifactsThroughS3',
          actions: ['kms:GenerateDataKey'],
          resources: [t.dataKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${t.stack.region}.amazonaws.com` } },
        }),
      ];
    case 'fleet-table':
      // Transactions are authorized per item (Update of the counter, Put/Delete of a slot or waiter).
      return [
        new iam.PolicyStatement({
          sid: 'FleetTable',
          actions: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:Query',
          ],
          resources: [t.fleetTableArn],
        }),
        new iam.PolicyStatement({
          sid: 'FleetTableKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [t.dataKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${t.stack.region}.amazonaws.com` } },
        }),
      ];
    case 'fleet-executions':
      return t.buildExecutionsArn
        ? [
            new iam.PolicyStatement({
              sid: 'DescribeBuildExecutions',
              actions: ['states:DescribeExecution'],
              resources: [t.buildExecutionsArn],
            }),
          ]
        : [];
    case 'provision-logs':
      return [
        new iam.PolicyStatement({
          sid: 'ReadProvisionerOutput',
          actions: ['logs:GetLogEvents', 'logs:FilterLogEvents', 'logs:DescribeLogStreams'],
          resources: [t.provisionLogGroupArn, `${t.provisionLogGroupArn}:log-stream:*`],
        }),
      ];
  }
}

/**
 * EBS encryption with a customer-managed key: EC2 acts for the caller (RunInstances with encrypted volumes,
 * CreateImage of them, CopyImage into a key), so the caller needs these on the key, through EC2 only, and
 * grants only for AWS resources. Keys in other regions (region_kms_key_ids) are listed by their own ARNs. The key
 * policy must also let the account's IAM policies work (the default key policy does).
 */
function buildKmsKeyStatements(t: PermissionTargets): iam.PolicyStatement[] {
  const keys = [...(t.buildKmsKeyArns ?? [])];
  if (keys.length === 0) return [];
  return [
    new iam.PolicyStatement({
      sid: 'GrantBuildKeysToEc2Resources',
      actions: ['kms:CreateGrant'],
      resources: keys,
      conditions: {
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
        StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'UseBuildKeysThroughEc2',
      actions: [
        'kms:Decrypt',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:DescribeKey',
      ],
      resources: keys,
      conditions: { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } },
    }),
  ];
}

function ssmCommandStatements(t: PermissionTargets): iam.PolicyStatement[] {
  const documents = RUN_COMMAND_DOCUMENTS.map((name) =>
    t.stack.formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: name }),
  );
  return [
    // Two statements because a condition applies to every resource of its statement and documents carry no tags.
    new iam.PolicyStatement({ sid: 'SendRunCommandDocuments', actions: ['ssm:SendCommand'], resources: documents }),
    new iam.PolicyStatement({
      sid: 'SendCommandToKilnBuilders',
      actions: ['ssm:SendCommand'],
      resources: [ec2Arn(t, 'instance')],
      conditions: tagPresent(`ssm:resourceTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'ReadCommandStatus',
      // Read-only SSM calls without resource-level permissions.
      actions: [
        'ssm:GetCommandInvocation',
        'ssm:ListCommandInvocations',
        'ssm:ListCommands',
        'ssm:DescribeInstanceInformation',
      ],
      resources: ['*'],
    }),
  ];
}

function bucketStatements(
  t: PermissionTargets,
  label: string,
  bucketArn: string,
  prefix: string,
  write: boolean,
): iam.PolicyStatement[] {
  const region = t.stack.region;
  return [
    new iam.PolicyStatement({
      sid: `${write ? 'ReadWrite' : 'Read'}${label}Objects`,
      actions: write
        ? ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:PutObjectTagging', 's3:DeleteObject']
        : ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [`${bucketArn}/${prefix}*`],
    }),
    new iam.PolicyStatement({
      sid: `List${label}Prefix`,
      // Read-only (the template bucket): versions too, so PrepareBuild reads a sidecar as it was when the
      // template's version was written (functions/common/prepare-build/sidecar.ts).
      actions: write ? ['s3:ListBucket'] : ['s3:ListBucket', 's3:ListBucketVersions'],
      resources: [bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }),
    new iam.PolicyStatement({
      sid: `Use${label}KeyThroughS3`,
      actions: write ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      resources: [t.dataKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
    }),
  ];
}

function buildsTableStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReadWriteBuildsTable',
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:ConditionCheckItem',
      ],
      resources: [t.buildsTableArn, `${t.buildsTableArn}/index/*`],
    }),
    new iam.PolicyStatement({
      sid: 'UseTableKeyThroughDynamoDb',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [t.dataKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${t.stack.region}.amazonaws.com` } },
    }),
  ];
}

/**
 * The image registry as the pipeline writes it (aws/image-registry-store.ts): items read and put (transactions
 * are authorized per item as PutItem), the template index queried, and the channel parameters published. A
 * channel of an AMI artifact is published in every region the AMI has a copy in, so the parameter ARN names any
 * region; the name is pinned to Kiln's root.
 */
function registryWriteStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReadWriteRegistryTable',
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'],
      resources: [t.registryTableArn, `${t.registryTableArn}/index/${REGISTRY_TABLE.templateIndex.name}`],
    }),
    new iam.PolicyStatement({
      sid: 'UseRegistryKeyThroughDynamoDb',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [t.dataKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${t.stack.region}.amazonaws.com` } },
    }),
    new iam.PolicyStatement({
      sid: 'PublishChannelParameters',
      actions: ['ssm:PutParameter'],
      resources: [
        t.stack.formatArn({
          service: 'ssm',
          region: '*',
          resource: 'parameter',
          resourceName: `${PARAMETER_ROOT.slice(1)}/*`,
        }),
      ],
    }),
  ];
}

/**
 * The lifecycle function (functions/common/lifecycle): reads the whole registry (one Scan) and marks artifacts
 * deprecated or retired (UpdateItem; no PutItem, no SSM: it never moves a channel); deprecates, deregisters and
 * deletes only images and snapshots carrying Kiln's build tag, in any region (an AMI is copied to every
 * ami_regions); deletes container images only in repositories tagged `kiln:managed=true`, after reading the
 * repository's tags (ListTagsForResource/DescribeRepositories: read-only, this account's repositories).
 */
function registryLifecycleStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReadAndMarkRegistryArtifacts',
      actions: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      resources: [t.registryTableArn],
    }),
    new iam.PolicyStatement({
      sid: 'UseRegistryKeyThroughDynamoDbForLifecycle',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [t.dataKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${t.stack.region}.amazonaws.com` } },
    }),
    new iam.PolicyStatement({
      sid: 'RetireKilnImages',
      actions: ['ec2:EnableImageDeprecation', 'ec2:DeregisterImage', 'ec2:DeleteSnapshot'],
      resources: [
        ec2Arn(t, 'image', { anyRegion: true, noAccount: true }),
        ec2Arn(t, 'snapshot', { anyRegion: true, noAccount: true }),
      ],
      conditions: tagPresent(`aws:ResourceTag/${BUILD_ID_TAG}`),
    }),
    new iam.PolicyStatement({
      sid: 'DescribeImagesForLifecycle',
      // Describe* has no resource-level permissions.
      actions: ['ec2:DescribeImages'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadRepositoryTagsForLifecycle',
      actions: ['ecr:DescribeRepositories', 'ecr:ListTagsForResource'],
      resources: [ecrRepositoriesArn(t.stack)],
    }),
    new iam.PolicyStatement({
      sid: 'DeleteImagesOfKilnManagedRepositories',
      actions: ['ecr:BatchDeleteImage'],
      resources: [ecrRepositoriesArn(t.stack)],
      conditions: managedRepository,
    }),
  ];
}

/**
 * Kiln's events (aws/events-contract.ts): PutEvents on the account's default bus, only with Kiln's source and
 * one of its detail-types (PutEvents is authorized per entry, with that entry's source and detail-type), so a
 * function holding it cannot impersonate `aws.s3` or another application on the bus.
 */
export function kilnEventsStatement(t: Pick<PermissionTargets, 'stack'>): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'PutKilnEvents',
    actions: ['events:PutEvents'],
    resources: [t.stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
    // Both keys are multivalued (ArrayOfString in the service authorization reference): StringEquals on them
    // never matches under strict evaluation, so a set operator, with Null so that an absent key cannot pass.
    conditions: {
      'ForAllValues:StringEquals': {
        'events:source': [KILN_EVENT_SOURCE],
        'events:detail-type': [...ALL_KILN_DETAIL_TYPES],
      },
      Null: { 'events:source': 'false', 'events:detail-type': 'false' },
    },
  });
}

/**
 * Auto-disable (functions/common/finalize/schedule-failures.ts): read and update schedules of the stack's group
 * only; UpdateSchedule needs iam:PassRole of the target's role, granted for that one role and to Scheduler only.
 * Its `Kiln Schedule Disabled` event is put with the `kiln-events` scope, which Finalize holds.
 */
function scheduleControlStatements(t: PermissionTargets): iam.PolicyStatement[] {
  if (!t.schedules) return [];
  return [
    new iam.PolicyStatement({
      sid: 'DisableKilnSchedules',
      actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
      resources: [
        t.stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${t.schedules.groupName}/*` }),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'PassScheduleRoleToScheduler',
      actions: ['iam:PassRole'],
      resources: [t.schedules.startRoleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  ];
}

/** The sealed values and one-shot scripts of running builds (functions/lib/sealed-values.ts). */
function buildSecretsStatements(t: PermissionTargets): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'SealedBuildValues',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: [`${t.artifactsBucketArn}/${STORE_LAYOUT.secretsPrefix}*`],
    }),
    new iam.PolicyStatement({
      sid: 'ListSealedBuildValues',
      actions: ['s3:ListBucket', 's3:ListBucketVersions'],
      resources: [t.artifactsBucketArn],
      conditions: { StringLike: { 's3:prefix': [`${STORE_LAYOUT.secretsPrefix}*`] } },
    }),
    new iam.PolicyStatement({
      sid: 'UseSealedValuesKeyThroughS3',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [t.dataKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${t.stack.region}.amazonaws.com` } },
    }),
  ];
}

function resolverStatements(t: PermissionTargets): iam.PolicyStatement[] {
  const region = t.stack.region;
  const { prefix, tag } = t.secretScope;
  return [
    // Only what the deployer allows (`kiln:secretPrefix`, `kiln:secretTag`): an uploader must not be able to pull
    // any secret of the account into a build. PrepareBuild checks the prefix too, to say how to allow a name.
    // Two statements: a condition key of one service is absent for the other, which would fail StringEquals.
    new iam.PolicyStatement({
      sid: 'ResolveTemplateParameters',
      actions: ['ssm:GetParameter', 'ssm:GetParameters'],
      resources: [t.stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix}*` })],
      ...(tag ? { conditions: { StringEquals: { [`ssm:resourceTag/${tag.key}`]: tag.value } } } : {}),
    }),
    new iam.PolicyStatement({
      sid: 'ResolveTemplateSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [
        t.stack.formatArn({
          service: 'secretsmanager',
          resource: 'secret',
          resourceName: `${prefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      ...(tag ? { conditions: { StringEquals: { [`secretsmanager:ResourceTag/${tag.key}`]: tag.value } } } : {}),
    }),
    new iam.PolicyStatement({
      sid: 'DecryptOnlyThroughSsmAndSecretsManager',
      actions: ['kms:Decrypt'],
      resources: [t.stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
      conditions: {
        StringEquals: { 'kms:ViaService': [`ssm.${region}.amazonaws.com`, `secretsmanager.${region}.amazonaws.com`] },
      },
    }),
    new iam.PolicyStatement({
      sid: 'ResolveSourceImages',
      actions: ['ec2:DescribeImages'],
      resources: ['*'],
    }),
  ];
}
