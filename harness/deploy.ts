/**
 * Creates Kiln's resources in moto from the synthesized cloud assembly (HARNESS.md, Recommendation B):
 * transform the template (cfn-transform.ts), publish the file assets where `<Stack>.assets.json` says, create
 * the stack, wait for CREATE_COMPLETE, then redo through the API what moto's CloudFormation ignores (bucket
 * versioning and S3 → EventBridge notifications). After a moto reset, deploy again (no updates).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { CloudAssembly } from './assembly.ts';
import { type CfnTemplate, type TransformReport, transformForMoto } from './cfn-transform.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, localClientConfig } from './clients.ts';
import { zipDirectory, zipEntries } from './zip.ts';

export interface DeployOptions {
  /** The router (or moto) endpoint. */
  readonly endpoint: string;
  readonly assembly: CloudAssembly;
  readonly region?: string;
  readonly account?: string;
  /** The harness's admin user: trusted by every role, so the harness can act as each (cfn-transform.ts). */
  readonly trustedPrincipal?: string;
}

export interface DeployedResource {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly type: string;
}

export interface KilnDeployment {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly resources: readonly DeployedResource[];
  readonly templateBucket: string;
  readonly artifactsBucket: string;
  readonly buildsTable: string;
  readonly stateMachineArn: string;
  /** The builder instance profile's role: the SSM stand-in runs commands with its credentials. */
  readonly builderRoleArn?: string;
  /** The state machine's own role. */
  readonly stateMachineRoleArn?: string;
  readonly transform: TransformReport;
  /** Assets published as placeholders (fixture registries synthesized without bundling); empty for Kiln's bundles. */
  readonly placeholderAssets: readonly string[];
  readonly reconciled: readonly string[];
}

interface AssetManifest {
  files?: Record<
    string,
    {
      displayName?: string;
      source: { path: string; packaging?: 'zip' | 'file' };
      destinations: Record<string, { bucketName: string; objectKey: string }>;
    }
  >;
}

export async function deployKiln(options: DeployOptions): Promise<KilnDeployment> {
  const region = options.region ?? LOCAL_REGION;
  const account = options.account ?? LOCAL_ACCOUNT;
  const config = localClientConfig(options.endpoint, region);
  const s3 = new S3Client(config);
  const cfn = new CloudFormationClient(config);
  const { assembly } = options;

  const placeholderAssets = await publishAssets(s3, assembly, account, region);
  const original = JSON.parse(readFileSync(assembly.templateFile, 'utf8')) as CfnTemplate;
  const { template, report } = transformForMoto(
    original,
    options.trustedPrincipal ? { trustedPrincipal: options.trustedPrincipal } : {},
  );

  const created = await cfn.send(
    new CreateStackCommand({
      StackName: assembly.stackName,
      TemplateBody: JSON.stringify(template),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
    }),
  );
  const stackId = created.StackId ?? assembly.stackName;
  const stack = await waitForStack(cfn, stackId);
  const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const resources = await listResources(cfn, stackId);
  const reconciled = await reconcileBuckets(s3, template, resources);

  const need = (key: string): string => {
    const value = outputs[key];
    if (!value) throw new Error(`deploy: stack output ${key} is missing (outputs: ${Object.keys(outputs).join(', ')})`);
    return value;
  };
  return {
    stackName: assembly.stackName,
    stackId,
    region,
    outputs,
    resources,
    templateBucket: need('TemplateBucketName'),
    artifactsBucket: need('ArtifactsBucketName'),
    buildsTable: need('BuildsTableName'),
    stateMachineArn: need('BuildStateMachineArn'),
    ...rolesOf(template, resources, account),
    transform: report,
    placeholderAssets,
    reconciled,
  };
}

/** The roles behind the builder instance profile and the state machine, as deployed ARNs. */
function rolesOf(
  template: CfnTemplate,
  resources: readonly DeployedResource[],
  account: string,
): { builderRoleArn?: string; stateMachineRoleArn?: string } {
  const roleArn = (ref: unknown): string | undefined => {
    const node = ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
    const logicalId = node?.Ref ?? node?.['Fn::GetAtt']?.[0];
    const name = resources.find((r) => r.logicalId === logicalId && r.type === 'AWS::IAM::Role')?.physicalId;
    return name ? `arn:aws:iam::${account}:role/${name}` : undefined;
  };
  const out: { builderRoleArn?: string; stateMachineRoleArn?: string } = {};
  for (const resource of Object.values(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::InstanceProfile') {
      const arn = roleArn((props.Roles as unknown[] | undefined)?.[0]);
      if (arn) out.builderRoleArn = arn;
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine') {
      const arn = roleArn(props.RoleArn);
      if (arn) out.stateMachineRoleArn = arn;
    }
  }
  return out;
}

async function publishAssets(
  s3: S3Client,
  assembly: CloudAssembly,
  account: string,
  region: string,
): Promise<string[]> {
  if (!existsSync(assembly.assetsFile)) return [];
  const manifest = JSON.parse(readFileSync(assembly.assetsFile, 'utf8')) as AssetManifest;
  const placeholders: string[] = [];
  const buckets = new Set<string>();
  for (const [hash, asset] of Object.entries(manifest.files ?? {})) {
    const body = assetBody(assembly.dir, asset.source);
    if (!body) placeholders.push(asset.displayName ?? hash);
    for (const destination of Object.values(asset.destinations)) {
      const bucket = fill(destination.bucketName, account, region);
      if (!buckets.has(bucket)) {
        // The bootstrap bucket `cdk bootstrap` would have made; only the name matters here.
        await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
          if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
        });
        buckets.add(bucket);
      }
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: fill(destination.objectKey, account, region),
          Body: body ?? placeholderZip(asset.displayName ?? hash),
        }),
      );
    }
  }
  return placeholders;
}

/**
 * A staged asset (a path inside the assembly) is published as CDK would: a folder zipped, a file as is. With
 * bundling skipped (fixture registries, synth-local.ts), CDK points a NodejsFunction's asset at the project root
 * instead of staging anything: that is never zipped (it would be the whole repository); `undefined` asks for a
 * placeholder.
 */
function assetBody(assemblyDir: string, source: { path: string; packaging?: 'zip' | 'file' }): Buffer | undefined {
  const path = isAbsolute(source.path) ? source.path : join(assemblyDir, source.path);
  const staged = !relative(assemblyDir, path).startsWith('..') && existsSync(path);
  if (!staged) return undefined;
  if (statSync(path).isDirectory()) return zipDirectory(path);
  return readFileSync(path);
}

function placeholderZip(name: string): Buffer {
  const text =
    `${name}: synthesized without bundling (a fixture registry of the harness tests).\n` +
    'The harness runs the fixture handler from its TypeScript source (harness/function-code.ts).\n';
  return zipEntries([
    { name: 'README.txt', data: Buffer.from(text) },
    {
      name: 'index.js',
      data: Buffer.from('exports.handler = async () => { throw new Error("placeholder: run through the router"); };\n'),
    },
  ]);
}

/** The asset manifest's `${AWS::AccountId}`-style pseudo parameters, as the CDK publisher fills them. */
function fill(value: string, account: string, region: string): string {
  const pseudo: Record<string, string> = { AccountId: account, Region: region, Partition: 'aws' };
  return value.replace(/\$\{AWS::(AccountId|Region|Partition)\}/g, (_, name: string) => pseudo[name] ?? '');
}

async function waitForStack(cfn: CloudFormationClient, stackId: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0];
    const status = stack?.StackStatus ?? 'UNKNOWN';
    if (stack && status === 'CREATE_COMPLETE') return stack;
    if (!status.endsWith('IN_PROGRESS') || Date.now() > deadline) {
      const events = await cfn.send(new DescribeStackEventsCommand({ StackName: stackId }));
      const reasons = (events.StackEvents ?? [])
        .filter((e) => e.ResourceStatusReason)
        .map((e) => `${e.LogicalResourceId} ${e.ResourceStatus}: ${e.ResourceStatusReason}`);
      throw new Error(`deploy: stack ${stackId} is ${status}\n${reasons.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function listResources(cfn: CloudFormationClient, stackId: string): Promise<DeployedResource[]> {
  const summaries: StackResourceSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cfn.send(new ListStackResourcesCommand({ StackName: stackId, NextToken }));
    summaries.push(...(page.StackResourceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return summaries.map((s) => ({
    logicalId: s.LogicalResourceId ?? '',
    physicalId: s.PhysicalResourceId ?? '',
    type: s.ResourceType ?? '',
  }));
}

/** What moto's CloudFormation ignores on AWS::S3::Bucket: versioning and the EventBridge switch. */
async function reconcileBuckets(
  s3: S3Client,
  template: CfnTemplate,
  resources: readonly DeployedResource[],
): Promise<string[]> {
  const done: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const bucket = resources.find((r) => r.logicalId === logicalId)?.physicalId;
    if (!bucket) continue;
    const props = resource.Properties ?? {};
    const versioning = (props.VersioningConfiguration as { Status?: string } | undefined)?.Status;
    if (versioning === 'Enabled' || versioning === 'Suspended') {
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: versioning } }),
      );
      done.push(`${logicalId}: versioning ${versioning}`);
    }
    const eventBridge = (props.NotificationConfiguration as { EventBridgeConfiguration?: unknown } | undefined)
      ?.EventBridgeConfiguration;
    if (eventBridge !== undefined) {
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: { EventBridgeConfiguration: {} },
        }),
      );
      done.push(`${logicalId}: S3 → EventBridge notifications`);
    }
  }
  return done;
}
