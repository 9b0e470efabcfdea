import { join } from 'node:path';
import { ArnFormat, Aspects, CfnOutput, Lazy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { DEFAULT_DOCKER_HOST_INSTANCE_TYPE, ECS_AL2023_AMI_PARAMETER } from '../aws/docker-host.ts';
import { failureLimitFrom, SCHEDULE_GROUP } from '../aws/schedules.ts';
import { STACK_OUTPUTS } from '../aws/stack-outputs.ts';
import { DEFAULT_LEASE_POLICY } from '../core/agents/lease.ts';
import { DEFAULT_FLEET_POLICY, type FleetPolicy, fleetPolicyProblems } from '../core/fleet/slots.ts';
import {
  assertLifecyclePolicy,
  DEFAULT_LIFECYCLE_POLICY,
  type LifecyclePolicy,
} from '../core/image-registry/lifecycle.ts';
import { parseKmsKeyArn } from '../core/validation/rules/DeploymentScope.ts';
import { DEFAULT_ECR_SETTINGS, type TagMutability } from '../functions/lib/ecr/settings.ts';
import { parseRegistryMirrors } from '../functions/lib/registry-digest.ts';
import { DEFAULT_SECRET_PREFIX, type FunctionSpec, KILN_FUNCTIONS, placeholderFor } from '../functions/registry.ts';
import { ASL_SUFFIX, listStateMachines } from './asl-files.ts';
import { AgentGateway, AgentTable } from './constructs/agent-gateway.ts';
import { BuildPipeline } from './constructs/build-pipeline.ts';
import { BuilderIdentity } from './constructs/builder-identity.ts';
import { BuilderNetwork, type ExistingBuilderVpc, type PrivateEndpointsOptions } from './constructs/builder-network.ts';
import { tagComponent } from './constructs/component-tag.ts';
import { EncryptionKeys } from './constructs/encryption-keys.ts';
import { FleetTable } from './constructs/fleet-table.ts';
import { type PermissionTargets, statementsFor } from './constructs/function-permissions.ts';
import { ImageRegistry } from './constructs/image-registry.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { type KilnNotifications, Notifications } from './constructs/notifications.ts';
import type { SecretScope } from './constructs/permission-basics.ts';
import { StateMachineFromFile } from './constructs/state-machine-from-file.ts';
import { STORE_LAYOUT, TemplateStore } from './constructs/template-store.ts';
import { type ScheduledBuild, Triggers } from './constructs/triggers.ts';
import { WildcardJustifications } from './constructs/wildcard-justifications.ts';
import { stateMachineProblems, taskFunctionsOf } from './function-triggers.ts';

/**
 * Values other than function ARNs that an ASL file may reference as `${Name}`; each file gets only those it uses.
 */
export const SHARED_SUBSTITUTION_NAMES = [
  'ArtifactsBucketName',
  'TemplateBucketName',
  'BuildsTableName',
  'BuilderInstanceProfileArn',
  'BuilderSecurityGroupId',
  'BuilderSubnetIds',
  'ProvisionLogGroupName',
] as const;
export type SharedSubstitutionName = (typeof SHARED_SUBSTITUTION_NAMES)[number];

/** The state machine uploads and schedules start. */
export const BUILD_STATE_MACHINE_FILE = 'build.asl.json';

export interface KilnStackProps extends StackProps {
  /** Repository root (functions/, statemachines/, package-lock.json). */
  readonly projectRoot: string;
  /** @default KILN_FUNCTIONS from functions/registry.ts */
  readonly functions?: readonly FunctionSpec[];
  /** @default `<projectRoot>/functions` */
  readonly functionsRoot?: string;
  /** @default `<projectRoot>/statemachines` */
  readonly stateMachinesDir?: string;
  /** @default - a new VPC (see BuilderNetwork) */
  readonly existingVpc?: ExistingBuilderVpc;
  /** @default [80, 443] (see BuilderNetwork) */
  readonly egressPorts?: readonly number[];
  /** VPC endpoints for builders without internet access (see BuilderNetwork). @default - none */
  readonly privateEndpoints?: PrivateEndpointsOptions;
  /**
   * Full ARNs of the customer-managed KMS keys templates may use (`kms_key_id`, `region_kms_key_ids`,
   * block device `kms_key_id`): LaunchBuilder, CreateImage and Distribute get exactly these keys through EC2, and
   * PrepareBuild refuses any other key (context `kiln:kmsKeyArns`).
   * @default [] (AWS-managed EBS keys only)
   */
  readonly kmsKeyArns?: readonly string[];
  /** @default [] */
  readonly schedules?: readonly ScheduledBuild[];
  /** The EventBridge Scheduler group of every Kiln schedule (`kiln schedules` uses it). @default 'kiln' */
  readonly scheduleGroupName?: string;
  /** A schedule whose builds fail this many times in a row disables itself (Finalize). @default 3 */
  readonly scheduleFailureLimit?: number;
  /**
   * Kiln's events to an SNS topic: a KMS-encrypted, TLS-only topic Kiln creates (with `email` subscriptions), or
   * an existing `topicArn`; an EventBridge rule on Kiln's source forwards `detailTypes` (default Build Failed,
   * Artifact Revoked, Schedule Disabled) to it. @default - none
   */
  readonly notifications?: KilnNotifications;
  /** @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Secrets and parameters templates may read (context `kiln:secretPrefix`, `kiln:secretTag`).
   * @default { prefix: 'kiln/' }
   */
  readonly secretScope?: SecretScope;
  /**
   * Where PrepareBuild reads docker base image digests (functions/lib/registry-digest.ts; the account's own ECR is
   * always read, with DescribeImages): `registries` it may contact anonymously over https (context
   * `kiln:digestRegistries`, comma list; `[]` for none), and `mirrors`, registry → the http(s) origin serving it (the
   * only plain-http or private hosts a lookup may reach; a template's reference never chooses one).
   * @default { registries: DEFAULT_DIGEST_REGISTRIES, mirrors: {} }
   */
  readonly baseImageDigests?: BaseImageDigestOptions;
  /** ECR repositories Kiln creates for docker builds (functions/lib/ecr/settings.ts). @default DEFAULT_ECR_SETTINGS, AES256 */
  readonly ecr?: KilnEcrOptions;
  /** Self-hosted agents: lease and queue timing of the agent gateway. */
  readonly agents?: AgentGatewaySettings;
  /** Artifact lifecycle (the daily Lifecycle function, core/image-registry/lifecycle.ts). @default DEFAULT_LIFECYCLE_POLICY */
  readonly lifecycle?: KilnLifecycleOptions;
  /**
   * The docker driver's builder host: an SSM parameter holding its AMI id (an AMI with docker and the SSM agent)
   * and its instance type.
   * @default { amiParameter: ECS-optimized Amazon Linux 2023, instanceType: 't3.medium' } (aws/docker-host.ts)
   */
  readonly dockerHost?: { readonly amiParameter?: string; readonly instanceType?: string };
  /**
   * The fleet bound: how many builds may hold capacity (a builder instance or an agent job) at once; the others
   * wait for a slot (core/fleet/slots.ts). @default DEFAULT_FLEET_POLICY (20 builds, waits of 60 s ± 50 %)
   */
  readonly fleet?: Partial<FleetPolicy>;
}

export interface BaseImageDigestOptions {
  /** Registries as docker names them (`docker.io`, `ghcr.io`, `host:port`). @default DEFAULT_DIGEST_REGISTRIES */
  readonly registries?: readonly string[];
  /** Registry → `http(s)://host[:port]` serving it (a pull-through cache). @default {} */
  readonly mirrors?: Readonly<Record<string, string>>;
}

/** How Kiln configures the ECR repositories it creates; an existing repository is never changed. */
export interface KilnEcrOptions {
  /** @default 'MUTABLE' (Packer's empty tag pushes `latest`, which every build moves) */
  readonly tagMutability?: TagMutability;
  /** `KMS`: the stack's data key; `AES256`: ECR's own key. @default 'AES256' */
  readonly encryption?: 'AES256' | 'KMS';
  /**
   * The lifecycle policy's only rule: untagged images expire this many days after their push (no count rule: it
   * could expire an image a channel holds; the Lifecycle function deletes old images instead). @default 14
   */
  readonly untaggedExpireDays?: number;
}

/**
 * Lifecycle of the registry's artifacts: per template build the newest `keepArtifacts` are kept (plus whatever a
 * channel holds and each channel's nearest `rollbackProtection` rollback targets); older AMIs are deprecated, then
 * deregistered with their snapshots in every region `graceDays` later.
 */
export interface KilnLifecycleOptions {
  /** @default 10 */
  readonly keepArtifacts?: number;
  /** @default 7 */
  readonly graceDays?: number;
  /** @default 3 */
  readonly rollbackProtection?: number;
}

/** The agent gateway's lease policy (core/agents/lease.ts); each a whole number of seconds or attempts. */
export interface AgentGatewaySettings {
  /** How often an agent heartbeats a job; a lease lasts LEASE_WINDOWS of them. @default 30 */
  readonly heartbeatSeconds?: number;
  /** Leases a job may lose (agent gone) before it fails with Kiln.AgentLost. @default 3 */
  readonly maxAttempts?: number;
  /** How long a job waits with no matching agent online before Kiln.NoAgentAvailable. @default 600 */
  readonly queueTimeoutSeconds?: number;
}

/**
 * Everything Kiln deploys in the user's account: store, builder network and identity, one Lambda per registry
 * entry, one state machine per top-level ASL file (its children composed in), triggers and alarms.
 */
export class KilnStack extends Stack {
  public readonly keys: EncryptionKeys;
  public readonly store: TemplateStore;
  /** Artifacts, lineage and channels (not granted to any function yet). */
  public readonly registry: ImageRegistry;
  public readonly network: BuilderNetwork;
  /** The agent gateway's table (tokens, agents, jobs) and its API (routes of the registry's api-route functions). */
  public readonly agentTable: AgentTable;
  public readonly agentGateway: AgentGateway;
  /** The fleet bound's semaphore (AcquireSlot, ReleaseSlot, `kiln status`). */
  public readonly fleet: FleetTable;
  public readonly builder: BuilderIdentity;
  public readonly pipeline: BuildPipeline;
  /** By file name without `.asl.json` (`build`, ...): the names registry `task` triggers use. */
  public readonly stateMachines: ReadonlyMap<string, StateMachineFromFile>;
  public readonly triggers: Triggers;
  public readonly monitoring: Monitoring;
  /** Present with the `notifications` prop. */
  public readonly notifications?: Notifications;

  constructor(scope: Construct, id: string, props: KilnStackProps) {
    super(scope, id, props);
    const functions = props.functions ?? KILN_FUNCTIONS;
    const stateMachinesDir = props.stateMachinesDir ?? join(props.projectRoot, 'statemachines');
    const machineFiles = listStateMachines(stateMachinesDir);
    if (!machineFiles.some((machine) => `${machine.name}${ASL_SUFFIX}` === BUILD_STATE_MACHINE_FILE)) {
      throw new Error(`KilnStack: ${join(stateMachinesDir, BUILD_STATE_MACHINE_FILE)} is missing`);
    }
    const triggerProblems = stateMachineProblems(
      functions,
      machineFiles.map((machine) => machine.name),
    );
    if (triggerProblems.length > 0) throw new Error(`KilnStack: ${triggerProblems.join('; ')}`);
    const fleet: FleetPolicy = { ...DEFAULT_FLEET_POLICY, ...props.fleet };
    const fleetProblems = fleetPolicyProblems(fleet);
    if (fleetProblems.length > 0) throw new Error(`KilnStack: ${fleetProblems.join('; ')}`);

    this.keys = new EncryptionKeys(this, 'Keys');
    this.store = new TemplateStore(this, 'Store', { dataKey: this.keys.dataKey });
    this.registry = new ImageRegistry(this, 'Registry', { dataKey: this.keys.dataKey });
    this.agentTable = new AgentTable(this, 'AgentTable', { dataKey: this.keys.dataKey });
    this.fleet = new FleetTable(this, 'Fleet', { dataKey: this.keys.dataKey });
    this.network = new BuilderNetwork(this, 'Network', {
      logsKey: this.keys.logsKey,
      ...(props.existingVpc ? { existingVpc: props.existingVpc } : {}),
      ...(props.egressPorts ? { egressPorts: props.egressPorts } : {}),
      ...(props.privateEndpoints ? { privateEndpoints: props.privateEndpoints } : {}),
    });
    this.builder = new BuilderIdentity(this, 'Builder', {
      artifactsBucket: this.store.artifactsBucket,
      dataKey: this.keys.dataKey,
      logsKey: this.keys.logsKey,
    });

    const subnetIds = this.network.subnetIds.join(',');
    const kmsKeyArns = [...(props.kmsKeyArns ?? [])];
    const badKeys = kmsKeyArns.filter((arn) => !Token.isUnresolved(arn) && !parseKmsKeyArn(arn));
    if (badKeys.length > 0) {
      throw new Error(
        `KilnStack: kmsKeyArns must be full key ARNs (arn:aws:kms:<region>:<account>:key/<id>), not aliases or ids: ${badKeys.join(', ')}`,
      );
    }
    const secretScope = props.secretScope ?? { prefix: DEFAULT_SECRET_PREFIX };
    if (!/^[A-Za-z0-9/_+=.@-]+$/.test(secretScope.prefix)) {
      throw new Error(
        `KilnStack: secretScope.prefix "${secretScope.prefix}" must be a non-empty secret name prefix (no *)`,
      );
    }
    const digests = baseImageDigestEnv(props.baseImageDigests);
    const ecr = props.ecr ?? {};
    const untaggedExpireDays = ecr.untaggedExpireDays ?? DEFAULT_ECR_SETTINGS.untaggedExpireDays;
    if (!Number.isInteger(untaggedExpireDays) || untaggedExpireDays < 1) {
      throw new Error('KilnStack: ecr.untaggedExpireDays must be a whole number of days (1 or more)');
    }
    const ecrKmsKeyArn = ecr.encryption === 'KMS' ? this.keys.dataKey.keyArn : undefined;
    const scheduleGroupName = props.scheduleGroupName ?? SCHEDULE_GROUP;
    const scheduleFailureLimit = failureLimitFrom(
      props.scheduleFailureLimit === undefined ? undefined : String(props.scheduleFailureLimit),
    );
    const { onlineSeconds: _derived, ...leaseDefaults } = DEFAULT_LEASE_POLICY;
    const agents = { ...leaseDefaults, ...props.agents };
    for (const [name, value] of Object.entries(agents)) {
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`KilnStack: agents.${name} must be a whole number, 1 or more`);
    }
    const permissionTargets: PermissionTargets = {
      stack: this,
      artifactsBucketArn: this.store.artifactsBucket.bucketArn,
      templateBucketArn: this.store.templateBucket.bucketArn,
      dataKeyArn: this.keys.dataKey.keyArn,
      buildsTableArn: this.store.buildsTable.tableArn,
      registryTableArn: this.registry.table.tableArn,
      builderRoleArn: this.builder.role.roleArn,
      builderVpcId: this.network.vpc.vpcId,
      provisionLogGroupArn: this.builder.provisionLogGroup.logGroupArn,
      dockerHostAmiParameter: props.dockerHost?.amiParameter ?? ECS_AL2023_AMI_PARAMETER,
      agentTableArn: this.agentTable.table.tableArn,
      fleetTableArn: this.fleet.table.tableArn,
      secretScope,
      buildKmsKeyArns: kmsKeyArns,
      ...(ecrKmsKeyArn ? { ecrKmsKeyArn } : {}),
      // The role is the Triggers construct's, made after the state machine (which needs the functions first).
      schedules: {
        groupName: scheduleGroupName,
        startRoleArn: Lazy.string({ produce: () => this.triggers.startRole.roleArn }),
      },
    };
    const lifecycle = lifecyclePolicyOf(props.lifecycle);
    this.pipeline = new BuildPipeline(this, 'Pipeline', {
      functions,
      functionsRoot: props.functionsRoot ?? join(props.projectRoot, 'functions'),
      projectRoot: props.projectRoot,
      logsKey: this.keys.logsKey,
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      env: {
        artifactsBucket: this.store.artifactsBucket.bucketName,
        templateBucket: this.store.templateBucket.bucketName,
        buildsTable: this.store.buildsTable.tableName,
        registryTable: this.registry.table.tableName,
        builderInstanceProfile: this.builder.instanceProfile.instanceProfileArn,
        builderSecurityGroup: this.network.securityGroup.securityGroupId,
        subnetIds,
        provisionLogGroup: this.builder.provisionLogGroup.logGroupName,
        dataKeyId: this.keys.dataKey.keyId,
        secretPrefix: secretScope.prefix,
        kmsKeyArns: kmsKeyArns.join(','),
        ...digests,
        accountId: this.account,
        ecrTagMutability: ecr.tagMutability ?? DEFAULT_ECR_SETTINGS.tagMutability,
        ...(ecrKmsKeyArn ? { ecrKmsKeyArn } : {}),
        ecrUntaggedExpireDays: String(untaggedExpireDays),
        dockerHostAmiParameter: props.dockerHost?.amiParameter ?? ECS_AL2023_AMI_PARAMETER,
        dockerHostInstanceType: props.dockerHost?.instanceType ?? DEFAULT_DOCKER_HOST_INSTANCE_TYPE,
        scheduleGroup: scheduleGroupName,
        scheduleFailureLimit: String(scheduleFailureLimit),
        agentTable: this.agentTable.table.tableName,
        agentHeartbeatSeconds: String(agents.heartbeatSeconds),
        agentMaxAttempts: String(agents.maxAttempts),
        agentQueueTimeoutSeconds: String(agents.queueTimeoutSeconds),
        fleetTable: this.fleet.table.tableName,
        fleetMaxConcurrentBuilds: String(fleet.maxConcurrentBuilds),
        fleetWaitSeconds: String(fleet.waitSeconds),
        fleetRecheckSeconds: String(fleet.recheckSeconds),
        fleetMaxWaitSeconds: String(fleet.maxWaitSeconds),
        lifecycleKeep: String(lifecycle.keepPerBuild),
        lifecycleGraceDays: String(lifecycle.graceDays),
        lifecycleRollbackProtection: String(lifecycle.rollbackProtection),
      },
      permissionTargets,
    });

    const sharedSubstitutions: Record<SharedSubstitutionName, string> = {
      ArtifactsBucketName: this.store.artifactsBucket.bucketName,
      TemplateBucketName: this.store.templateBucket.bucketName,
      BuildsTableName: this.store.buildsTable.tableName,
      BuilderInstanceProfileArn: this.builder.instanceProfile.instanceProfileArn,
      BuilderSecurityGroupId: this.network.securityGroup.securityGroupId,
      BuilderSubnetIds: subnetIds,
      ProvisionLogGroupName: this.builder.provisionLogGroup.logGroupName,
    };
    const machines = new Map<string, StateMachineFromFile>();
    for (const machine of machineFiles) {
      // The registry says which functions a machine's Task states invoke; the construct refuses a composed
      // definition that lacks one of them or names another.
      const fns = new Map<string, lambda.IFunction>();
      for (const spec of taskFunctionsOf(functions, machine.name)) {
        const fn = this.pipeline.functions.get(spec.id);
        if (!fn) throw new Error(`unreachable: ${spec.id} is deployed by the pipeline`);
        fns.set(placeholderFor(spec), fn);
      }
      machines.set(
        machine.name,
        new StateMachineFromFile(this, `${pascal(machine.name)}StateMachine`, {
          file: machine.path,
          functions: fns,
          optionalSubstitutions: sharedSubstitutions,
          logsKey: this.keys.logsKey,
        }),
      );
    }
    this.stateMachines = machines;
    const build = machines.get(BUILD_STATE_MACHINE_FILE.slice(0, -ASL_SUFFIX.length));
    if (!build) throw new Error('unreachable: build state machine checked above');

    this.attachFleetExecutions(functions, permissionTargets, build.stateMachine.stateMachineName);

    this.triggers = new Triggers(this, 'Triggers', {
      stateMachine: build.stateMachine,
      templateBucket: this.store.templateBucket,
      templatesPrefix: STORE_LAYOUT.templatesPrefix,
      schedules: props.schedules ?? [],
      scheduleGroupName,
    });
    this.agentGateway = new AgentGateway(this, 'AgentGateway', {
      specs: functions,
      functions: this.pipeline.functions,
      logsKey: this.keys.logsKey,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stateMachine: build.stateMachine,
      alarms: [...machines.values()].flatMap((m) => [m.failedAlarm, m.timedOutAlarm]),
      deadLetterQueue: this.triggers.deadLetterQueue,
      functions: this.pipeline.functions,
    });

    if (props.notifications) {
      this.notifications = new Notifications(this, 'Notifications', props.notifications);
      new CfnOutput(this, 'NotificationsTopicArn', { value: this.notifications.topic.topicArn });
    }

    new CfnOutput(this, STACK_OUTPUTS.templateBucket.output, { value: this.store.templateBucket.bucketName });
    new CfnOutput(this, STACK_OUTPUTS.artifactsBucket.output, { value: this.store.artifactsBucket.bucketName });
    new CfnOutput(this, STACK_OUTPUTS.buildsTable.output, { value: this.store.buildsTable.tableName });
    // What `kiln channels` and `kiln artifacts` read (--table or KILN_REGISTRY_TABLE).
    new CfnOutput(this, STACK_OUTPUTS.registryTable.output, { value: this.registry.table.tableName });
    // What `kiln-agent register --url` takes, and what `kiln agents` reads (--table or KILN_AGENT_TABLE).
    if (this.agentGateway.api)
      new CfnOutput(this, STACK_OUTPUTS.agentGatewayUrl.output, { value: this.agentGateway.api.url });
    new CfnOutput(this, STACK_OUTPUTS.agentTable.output, { value: this.agentTable.table.tableName });
    new CfnOutput(this, STACK_OUTPUTS.buildStateMachine.output, { value: build.stateMachine.stateMachineArn });
    // What `kiln status` reads (--table or KILN_FLEET_TABLE).
    new CfnOutput(this, STACK_OUTPUTS.fleetTable.output, { value: this.fleet.table.tableName });
    // Acknowledge only the IAM wildcards Kiln can justify; any other wildcard fails cdk-nag.
    Aspects.of(this).add(new WildcardJustifications());
    tagComponent(this, 'kiln');
  }

  /**
   * The `fleet-executions` scope names the build state machine's executions, which exist only after the state
   * machine, which needs the functions: a policy of its own per function (not the role's default policy, which
   * each function depends on) keeps the template free of a dependency cycle.
   */
  private attachFleetExecutions(
    functions: readonly FunctionSpec[],
    targets: PermissionTargets,
    stateMachineName: string,
  ): void {
    const buildExecutionsArn = this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    for (const spec of functions.filter((f) => f.permissions.includes('fleet-executions'))) {
      const role = this.pipeline.functions.get(spec.id)?.role;
      if (!role) throw new Error(`unreachable: ${spec.id} is deployed by the pipeline with its own role`);
      const statements = statementsFor('fleet-executions', { ...targets, buildExecutionsArn });
      new iam.Policy(this, `${spec.id}FleetExecutions`, { roles: [role], statements });
    }
  }
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** The stack's lifecycle props as the core policy; a value that is not a whole number (or below its floor) fails synth. */
export function lifecyclePolicyOf(options: KilnLifecycleOptions = {}): LifecyclePolicy {
  const d = DEFAULT_LIFECYCLE_POLICY;
  const policy = {
    keepPerBuild: options.keepArtifacts ?? d.keepPerBuild,
    graceDays: options.graceDays ?? d.graceDays,
    rollbackProtection: options.rollbackProtection ?? d.rollbackProtection,
  };
  try {
    return assertLifecyclePolicy(policy);
  } catch {
    throw new Error(
      'KilnStack: lifecycle.keepArtifacts must be a whole number of 1 or more, lifecycle.graceDays and ' +
        `lifecycle.rollbackProtection whole numbers of 0 or more (got ${JSON.stringify(policy)})`,
    );
  }
}

/** The digest settings as PrepareBuild's environment (unset keys: its defaults); malformed values throw at synth. */
export function baseImageDigestEnv(options: BaseImageDigestOptions | undefined): {
  digestRegistries?: string;
  registryMirrors?: string;
} {
  if (!options) return {};
  const registries = options.registries?.map((r) => r.trim().toLowerCase());
  const bad = (registries ?? []).filter((r) => !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/.test(r));
  if (bad.length > 0) {
    throw new Error(
      `KilnStack: baseImageDigests.registries must be registry hosts (host or host:port): ${bad.join(', ')}`,
    );
  }
  const mirrors = options.mirrors ?? {};
  try {
    parseRegistryMirrors(JSON.stringify(mirrors));
  } catch (err) {
    throw new Error(`KilnStack: baseImageDigests.mirrors: ${(err as Error).message}`);
  }
  return {
    ...(registries ? { digestRegistries: registries.length > 0 ? registries.join(',') : 'none' } : {}),
    ...(Object.keys(mirrors).length > 0 ? { registryMirrors: JSON.stringify(mirrors) } : {}),
  };
}
