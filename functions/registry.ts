/**
 * Every Lambda of the build pipeline, in one list. The CDK app builds one NodejsFunction per entry and
 * substitutes `${<placeholder>}` in the ASL files with its ARN; the local harness's Lambda router serves
 * invocations from the same handlers; infra tests check the ASL placeholders against this list. Keeping the
 * list here (not in infra/) means the three cannot drift.
 */

import { ACQUIRE_MAX_WAIT_SECONDS, AGENT_ROUTES, type AgentRoute } from '../aws/agent-gateway-contract.ts';
import { AGENT_TABLE_ENV } from '../aws/agent-gateway-records.ts';
import { DOCKER_HOST_ENV } from '../aws/docker-host.ts';
import { FLEET_ENV } from '../aws/fleet-contract.ts';
import { REGISTRY_TABLE_ENV } from '../aws/image-registry-records.ts';
import { SCHEDULE_FAILURE_LIMIT_ENV } from '../aws/schedules.ts';
import { STACK_OUTPUTS } from '../aws/stack-outputs.ts';

/** Environment variables a function may need; the CDK app fills them, handlers read them once at cold start. */
export const KILN_ENV = {
  // The same names the CLI reads the stack's outputs from.
  artifactsBucket: STACK_OUTPUTS.artifactsBucket.env,
  templateBucket: STACK_OUTPUTS.templateBucket.env,
  buildsTable: STACK_OUTPUTS.buildsTable.env,
  /** The image registry's table (the CLI reads the same variable). */
  registryTable: REGISTRY_TABLE_ENV,
  builderInstanceProfile: 'KILN_BUILDER_INSTANCE_PROFILE',
  builderSecurityGroup: 'KILN_BUILDER_SECURITY_GROUP',
  subnetIds: 'KILN_SUBNET_IDS',
  provisionLogGroup: 'KILN_PROVISION_LOG_GROUP',
  /** Id of the artifacts bucket's KMS key: objects that carry a secret name it explicitly (never aws/s3). */
  dataKeyId: 'KILN_DATA_KEY_ID',
  /** Secrets and parameters templates may read: names starting with this (`kiln:secretPrefix`, default `kiln/`). */
  secretPrefix: 'KILN_SECRET_PREFIX',
  /** Customer-managed KMS key ARNs templates may use (`kiln:kmsKeyArns`), comma-separated; Kiln's roles hold grants on exactly these. */
  kmsKeyArns: 'KILN_KMS_KEY_ARNS',
  /** Name of the isolated ShellLocal function; RunProvisioner invokes it (filled from `invokes`, not from env values). */
  shellLocalFunction: 'KILN_SHELL_LOCAL_FUNCTION',
  /** The account the stack runs in: a bare ECR repository name resolves to its registry (RunHostStep, RecordImages). */
  accountId: 'KILN_ACCOUNT_ID',
  /** SSM parameter holding the docker builder host's AMI id (aws/docker-host.ts; default the ECS-optimized AL2023). */
  dockerHostAmiParameter: DOCKER_HOST_ENV.amiParameter,
  dockerHostInstanceType: DOCKER_HOST_ENV.instanceType,
  /** ECR repositories Kiln creates (functions/lib/ecr/settings.ts, from `KilnStackProps.ecr`): MUTABLE or IMMUTABLE. */
  ecrTagMutability: 'KILN_ECR_TAG_MUTABILITY',
  /** Customer-managed KMS key ARN new repositories are encrypted with; absent: AES256. */
  ecrKmsKeyArn: 'KILN_ECR_KMS_KEY_ARN',
  /** ECR lifecycle policy: days after which untagged images expire (its only rule). */
  ecrUntaggedExpireDays: 'KILN_ECR_UNTAGGED_EXPIRE_DAYS',
  /**
   * Registries PrepareBuild reads base image digests from (functions/lib/registry-digest.ts), comma-separated;
   * unset: DEFAULT_DIGEST_REGISTRIES there, `none`: no registry (the own account's ECR is read either way).
   */
  digestRegistries: 'KILN_DIGEST_REGISTRIES',
  /**
   * Registry → base URL serving it, as JSON (`{"docker.io":"http://127.0.0.1:5000"}`): the only hosts a digest
   * lookup may reach over http or on a local address. Unset in a deployed stack; the local harness sets it.
   */
  registryMirrors: 'KILN_REGISTRY_MIRRORS',
  /** The stack's schedule group: Finalize disables a failing schedule there (aws/schedules.ts). */
  scheduleGroup: 'KILN_SCHEDULE_GROUP',
  /** Failed scheduled builds in a row that disable their schedule (default 3). */
  scheduleFailureLimit: SCHEDULE_FAILURE_LIMIT_ENV,
  /** The agent gateway's table: registration tokens, agents, jobs (aws/agent-gateway-records.ts). */
  agentTable: AGENT_TABLE_ENV,
  /** Lease policy of the agent gateway (core/agents/lease.ts), from `KilnStackProps.agents`. */
  agentHeartbeatSeconds: 'KILN_AGENT_HEARTBEAT_SECONDS',
  agentMaxAttempts: 'KILN_AGENT_MAX_ATTEMPTS',
  agentQueueTimeoutSeconds: 'KILN_AGENT_QUEUE_TIMEOUT_SECONDS',
  /** The fleet bound's table and policy (aws/fleet-contract.ts, core/fleet/slots.ts), from `KilnStackProps.fleet`. */
  fleetTable: FLEET_ENV.table,
  fleetMaxConcurrentBuilds: FLEET_ENV.maxConcurrentBuilds,
  fleetWaitSeconds: FLEET_ENV.waitSeconds,
  fleetRecheckSeconds: FLEET_ENV.recheckSeconds,
  fleetMaxWaitSeconds: FLEET_ENV.maxWaitSeconds,
  /** Lifecycle (functions/common/lifecycle): newest artifacts kept per template build (`KilnStackProps.lifecycle`). */
  lifecycleKeep: 'KILN_LIFECYCLE_KEEP',
  /** Lifecycle: days between an artifact's deprecation and the deletion of its images. */
  lifecycleGraceDays: 'KILN_LIFECYCLE_GRACE_DAYS',
  /** Lifecycle: rollback targets per channel kept with its current assignment. */
  lifecycleRollbackProtection: 'KILN_LIFECYCLE_ROLLBACK_PROTECTION',
  /** Set on every function so a router or log reader can tell which registry entry a deployed function is. */
  functionId: 'KILN_FUNCTION_ID',
} as const;

export type KilnEnvKey = keyof typeof KILN_ENV;

/** Default of `kiln:secretPrefix`: templates may read secrets and parameters named `kiln/...` (or `/kiln/...`). */
export const DEFAULT_SECRET_PREFIX = 'kiln/';

/**
 * What a function may touch. The CDK app turns each scope into least-privilege statements:
 * - `builder-ec2`: EC2 instances/images/snapshots, mutating calls conditioned on the `kiln:build-id` tag
 * - `ssm-commands`: SendCommand on AWS-RunShellScript/AWS-RunPowerShellScript to instances tagged by Kiln
 * - `artifacts-rw` / `templates-read`: the two buckets (by ARN)
 * - `builds-table`: the builds table (by ARN)
 * - `pass-builder-role`: iam:PassRole on the builder instance role only
 * - `manifests-write`: PutObject under `manifests/` of the artifacts bucket (kept, outside the expiring `builds/`)
 * - `read-params-secrets`: ssm:GetParameter / secretsmanager:GetSecretValue on the deployer's prefix (resolvers)
 * - `build-secrets`: the sealed values and one-shot scripts under `secrets/` of the artifacts bucket
 * - `registry-write`: the image registry's table and its index (by ARN), and ssm:PutParameter on the channel
 *   parameters (`/kiln/*`, every region: an AMI's channel is published where it has an image)
 * - `docker-host-ami`: ssm:GetParameter on the one parameter naming the docker builder host's AMI
 * - `schedule-control`: scheduler:GetSchedule/UpdateSchedule on the stack's schedule group only, iam:PassRole of
 *   the role its schedules assume (to Scheduler only); its `Kiln Schedule Disabled` event needs `kiln-events`
 * - `kiln-events`: events:PutEvents on the default bus, only with source `kiln` and Kiln's detail-types
 *   (aws/events-contract.ts)
 * - `build-kms-keys`: the deployer's customer-managed KMS keys (`kiln:kmsKeyArns`), only through EC2 (grants for
 *   encrypted volumes, images and copies); nothing when the list is empty
 * - `ecr-read`: DescribeImages/DescribeRepositories on this account's repositories in the stack's region
 * - `ecr-digests`: DescribeImages only, on repositories tagged `kiln:managed=true` of this account in the stack's
 *   region (a docker base image's digest for the fingerprint: the repositories builder hosts may pull)
 * - `ecr-write`: ensure repositories (functions/lib/ecr/ensure.ts): describe and list tags on this account's
 *   repositories, CreateRepository only with the `kiln:managed=true` request tag, PutLifecyclePolicy only on
 *   repositories carrying it; with an ECR KMS key, the grant ECR needs on that key (through ECR only)
 * - `ecr-login`: GetAuthorizationToken (`*`: it has no resource) and push/pull on repositories tagged
 *   `kiln:managed=true`, because the password it hands to a builder host (functions/lib/ecr/password.ts) pushes
 *   with this role's authority
 * - `ecr-cleanup`: BatchDeleteImage on repositories tagged `kiln:managed=true` (a failed build's build id tag,
 *   functions/ec2-docker/ecr-cleanup-entries.ts)
 * - `registry-lifecycle`: the registry table (Scan, GetItem, Query, UpdateItem: read everything, mark artifacts
 *   deprecated/retired); ec2:EnableImageDeprecation, DeregisterImage and DeleteSnapshot in any region only on
 *   images and snapshots tagged `kiln:build-id`; ecr:BatchDeleteImage only on repositories tagged
 *   `kiln:managed=true` (describe and list tags on this account's repositories to check it first)
 * - `agent-table`: the agent gateway's table and its `byState` index (by ARN)
 * - `agent-task-callbacks`: states:SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat (IAM has no resource for
 *   them: `*`; a task token is the capability, and only the gateway holds tokens)
 * - `agent-downloads`: s3:GetObject on the agent job files of `builds/` (the bundle and variables document the
 *   acquire handler presigns for the agent that leased the job)
 * - `agent-uploads`: s3:PutObject under `agent-artifacts/` of the artifacts bucket and kms:GenerateDataKey on the
 *   data key through S3 (the PUT URLs the uploads handler presigns for the job's lease holder)
 * - `fleet-table`: the fleet bound's table (by ARN): the slot counter, slots and waiters (aws/fleet-store.ts)
 * - `fleet-executions`: states:DescribeExecution on the executions of the stack's build state machine (a slot
 *   whose execution ended is taken back); attached by the stack once the state machine exists
 */
export type PermissionScope =
  | 'builder-ec2'
  | 'ssm-commands'
  | 'artifacts-rw'
  | 'templates-read'
  | 'builds-table'
  | 'pass-builder-role'
  | 'read-params-secrets'
  | 'provision-logs'
  | 'manifests-write'
  | 'build-secrets'
  | 'build-kms-keys'
  | 'registry-write'
  | 'docker-host-ami'
  | 'ecr-read'
  | 'ecr-digests'
  | 'ecr-write'
  | 'ecr-login'
  | 'ecr-cleanup'
  | 'schedule-control'
  | 'registry-lifecycle'
  | 'kiln-events'
  | 'agent-table'
  | 'agent-task-callbacks'
  | 'agent-downloads'
  | 'agent-uploads'
  | 'fleet-table'
  | 'fleet-executions';

export interface FunctionSpec {
  /** PascalCase id; the ASL placeholder is `${<id>FunctionArn}`. */
  readonly id: string;
  /**
   * Folder under functions/ holding handler.ts: `common/` (every driver), `ec2-host/` (EC2 builder host: AMI and
   * docker drivers), `ec2-ami/` (AMI only), `ec2-docker/` (docker only).
   */
  readonly dir: string;
  readonly description: string;
  readonly env: readonly KilnEnvKey[];
  readonly permissions: readonly PermissionScope[];
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /**
   * Functions this one invokes directly (lambda:InvokeFunction on exactly those, their name in the registry env
   * key). Used where a state would put secrets into the execution history.
   */
  readonly invokes?: readonly { readonly id: string; readonly env: KilnEnvKey }[];
  /** Runs the template engine: its bundle ships the HCL parsers' wasm files (infra/bundle-recipe.ts). */
  readonly templateEngine?: boolean;
  /** How the function is invoked; the ASL placeholder check and the deployed invoke permissions derive from it. */
  readonly trigger: FunctionTrigger;
}

/**
 * How a function is triggered:
 * - `task`: a Task state of the named state machine (`statemachines/<stateMachine>.asl.json`, children included)
 *   invokes it through `${<id>FunctionArn}`; it must appear in that machine's composed definition and no other.
 * - `function`: another registry function invokes it directly (`by`, whose `invokes` lists it); no placeholder.
 * - `api-route`: a route of the agent gateway's REST API (infra/constructs/agent-gateway.ts), Lambda proxy.
 * - `schedule`: an EventBridge rule on a schedule expression (the agent sweep). `event`: an EventBridge rule.
 */
export type FunctionTrigger =
  | { readonly kind: 'task'; readonly stateMachine: string }
  | { readonly kind: 'function'; readonly by: string }
  | { readonly kind: 'api-route'; readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'; readonly path: string }
  | { readonly kind: 'schedule'; readonly expression: string }
  | { readonly kind: 'event'; readonly source: string; readonly detailType: string };

export type TriggerKind = FunctionTrigger['kind'];

export const KILN_FUNCTIONS: readonly FunctionSpec[] = [
  {
    id: 'PrepareBuild',
    dir: 'common/prepare-build',
    description: 'Fetch the template by version id, validate, plan, stage files, record the build',
    env: [
      'artifactsBucket',
      'buildsTable',
      'templateBucket',
      'dataKeyId',
      'secretPrefix',
      'kmsKeyArns',
      'accountId',
      'digestRegistries',
      'registryMirrors',
    ],
    // ecr-digests: a docker build's base image in the account's own ECR (functions/lib/registry-digest.ts).
    permissions: [
      'templates-read',
      'artifacts-rw',
      'builds-table',
      'read-params-secrets',
      'build-secrets',
      'kiln-events',
      'ecr-digests',
    ],
    timeoutSeconds: 300,
    memoryMb: 1024,
    templateEngine: true,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'LaunchBuilder',
    dir: 'ec2-host/launch-builder',
    description: 'Resolve the source AMI, pre-validate the AMI name, launch the builder instance',
    env: [
      'artifactsBucket',
      'builderInstanceProfile',
      'builderSecurityGroup',
      'subnetIds',
      'dockerHostAmiParameter',
      'dockerHostInstanceType',
    ],
    permissions: ['builder-ec2', 'pass-builder-role', 'artifacts-rw', 'build-kms-keys', 'docker-host-ami'],
    timeoutSeconds: 120,
    memoryMb: 512,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'CheckManaged',
    dir: 'ec2-host/check-managed',
    description: 'One poll: is the builder online in Systems Manager',
    env: ['artifactsBucket'],
    permissions: ['builder-ec2', 'ssm-commands', 'artifacts-rw'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'RunProvisioner',
    dir: 'ec2-host/run-provisioner',
    description: 'Start one provisioner: SendCommand with the rendered script (shell-local: invoke ShellLocal)',
    env: ['artifactsBucket', 'provisionLogGroup', 'dataKeyId'],
    permissions: ['ssm-commands', 'artifacts-rw', 'provision-logs', 'build-secrets'],
    invokes: [{ id: 'ShellLocal', env: 'shellLocalFunction' }],
    timeoutSeconds: 330,
    memoryMb: 1024,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'RunHostStep',
    dir: 'ec2-docker/run-host-step',
    description:
      'Send one docker host step: prepare (pull, run), a provisioner in the container, finish (commit, push)',
    env: [
      'artifactsBucket',
      'provisionLogGroup',
      'dataKeyId',
      'accountId',
      'ecrTagMutability',
      'ecrKmsKeyArn',
      'ecrUntaggedExpireDays',
    ],
    // finish: ensure the repositories it publishes (ecr-write), then the login password (ecr-login).
    permissions: ['ssm-commands', 'artifacts-rw', 'build-secrets', 'ecr-write', 'ecr-login'],
    timeoutSeconds: 120,
    memoryMb: 512,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'CheckCommand',
    dir: 'ec2-host/check-command',
    description: 'One poll of the provisioner command: success, retry or ProvisionerFailed',
    env: ['artifactsBucket'],
    permissions: ['ssm-commands', 'artifacts-rw', 'build-secrets'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'CreateImage',
    dir: 'ec2-ami/create-image',
    description: 'Stop the builder, then CreateImage',
    env: ['artifactsBucket'],
    permissions: ['builder-ec2', 'artifacts-rw', 'build-kms-keys'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'CheckImages',
    dir: 'ec2-ami/check-images',
    description: 'One poll of every pending AMI (source and copies); tags snapshots once available',
    env: ['artifactsBucket'],
    permissions: ['builder-ec2', 'artifacts-rw'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'Distribute',
    dir: 'ec2-ami/distribute',
    description: 'CopyImage to each of ami_regions, recording every copy',
    env: ['artifactsBucket'],
    permissions: ['builder-ec2', 'artifacts-rw', 'build-kms-keys'],
    timeoutSeconds: 120,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'PublishImage',
    dir: 'ec2-ami/publish-image',
    description: 'Launch and snapshot permissions, tags and deprecation in every region',
    env: ['artifactsBucket'],
    permissions: ['builder-ec2', 'artifacts-rw'],
    timeoutSeconds: 120,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'RecordImages',
    dir: 'ec2-docker/record-images',
    description:
      "After a docker build's finish step: read each pushed image's digest back from ECR by the build id tag",
    env: ['artifactsBucket', 'accountId'],
    permissions: ['artifacts-rw', 'ecr-read'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'Terminate',
    dir: 'ec2-host/terminate',
    description: 'Terminate the builder instance (idempotent)',
    env: [],
    permissions: ['builder-ec2'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'Cleanup',
    dir: 'common/cleanup',
    description:
      'Compensation for a failed build: error-cleanup-provisioner, cancel an agent job, then remove what it created, in reverse',
    env: [
      'artifactsBucket',
      'dataKeyId',
      'agentTable',
      'agentHeartbeatSeconds',
      'agentMaxAttempts',
      'agentQueueTimeoutSeconds',
    ],
    permissions: ['builder-ec2', 'artifacts-rw', 'ssm-commands', 'build-secrets', 'ecr-cleanup', 'agent-table'],
    timeoutSeconds: 300,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'Finalize',
    dir: 'common/finalize',
    description:
      'Packer manifest, build record outcome, registry artifact and latest channel, staged files removed, failing schedules disabled, Kiln events',
    env: ['artifactsBucket', 'buildsTable', 'registryTable', 'scheduleGroup', 'scheduleFailureLimit'],
    permissions: [
      'artifacts-rw',
      'builds-table',
      'manifests-write',
      'build-secrets',
      'registry-write',
      'schedule-control',
      'kiln-events',
    ],
    timeoutSeconds: 120,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'EnqueueAgentJob',
    dir: 'agent-gateway/enqueue',
    description:
      "The agent driver's .waitForTaskToken task: queue the build's job for a matching agent (the token stays here)",
    env: ['artifactsBucket', 'agentTable', 'agentHeartbeatSeconds', 'agentMaxAttempts', 'agentQueueTimeoutSeconds'],
    permissions: ['artifacts-rw', 'agent-table'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'AcquireSlot',
    dir: 'fleet/acquire-slot',
    description:
      'Take one of the fleet slots before a build starts its driver, or say how long to wait; reclaims slots of ended executions',
    env: ['fleetTable', 'fleetMaxConcurrentBuilds', 'fleetWaitSeconds', 'fleetRecheckSeconds', 'fleetMaxWaitSeconds'],
    permissions: ['fleet-table', 'fleet-executions'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  {
    id: 'ReleaseSlot',
    dir: 'fleet/release-slot',
    description: "Give a build's fleet slot back on every exit path (idempotent)",
    env: ['fleetTable'],
    permissions: ['fleet-table'],
    timeoutSeconds: 30,
    memoryMb: 256,
    trigger: { kind: 'task', stateMachine: 'build' },
  },
  ...agentRoute('AgentRegister', 'register', 'Exchange a one-time registration token for an agent identity'),
  ...agentRoute('AgentDeregister', 'deregister', 'An agent leaves; its credential is refused from then on'),
  ...agentRoute('AgentAcquire', 'acquire', 'Long poll for a job this agent can run; lease it with a job credential'),
  ...agentRoute('AgentHeartbeat', 'heartbeat', 'Extend a lease, forward build output and the task heartbeat'),
  ...agentRoute('AgentComplete', 'complete', "Record a job's outcome and answer its Step Functions task"),
  ...agentRoute('AgentUpload', 'uploads', "Presign PUT URLs for the lease holder's artifact files (agent-artifacts/)"),
  {
    id: 'AgentSweep',
    dir: 'agent-gateway/sweep',
    description: 'Every minute: re-offer lost leases, fail jobs no agent can take, heartbeat waiting tasks',
    env: ['agentTable', 'agentHeartbeatSeconds', 'agentMaxAttempts', 'agentQueueTimeoutSeconds'],
    permissions: ['agent-table', 'agent-task-callbacks'],
    timeoutSeconds: 60,
    memoryMb: 256,
    trigger: { kind: 'schedule', expression: 'rate(1 minute)' },
  },
  {
    id: 'Lifecycle',
    dir: 'common/lifecycle',
    description:
      'Daily: keep the newest artifacts per build and channel members; deprecate older AMIs, delete them with their snapshots (and old container images) after the grace period',
    env: ['registryTable', 'lifecycleKeep', 'lifecycleGraceDays', 'lifecycleRollbackProtection'],
    permissions: ['registry-lifecycle'],
    timeoutSeconds: 900,
    memoryMb: 512,
    trigger: { kind: 'schedule', expression: 'rate(1 day)' },
  },
  {
    id: 'ShellLocal',
    dir: 'common/shell-local',
    description:
      'shell-local provisioners, isolated: no AWS permissions beyond its own logs, invoked by RunProvisioner',
    env: [],
    permissions: [],
    timeoutSeconds: 330,
    memoryMb: 512,
    trigger: { kind: 'function', by: 'RunProvisioner' },
  },
];

/** One route of the agent gateway (aws/agent-gateway-contract.ts AGENT_ROUTES): its function, env and scopes. */
function agentRoute(id: string, route: AgentRoute, description: string): FunctionSpec[] {
  const { method, path } = AGENT_ROUTES[route];
  return [
    {
      id,
      dir: `agent-gateway/${route}`,
      description,
      env: [
        'agentTable',
        'agentHeartbeatSeconds',
        'agentMaxAttempts',
        'agentQueueTimeoutSeconds',
        ...(route === 'acquire' || route === 'uploads' ? (['artifactsBucket'] as const) : []),
      ],
      permissions: [
        'agent-table',
        ...(route === 'heartbeat' || route === 'complete' ? (['agent-task-callbacks'] as const) : []),
        ...(route === 'acquire' ? (['agent-downloads'] as const) : []),
        ...(route === 'uploads' ? (['agent-uploads'] as const) : []),
      ],
      // acquire holds a long poll (ACQUIRE_MAX_WAIT_SECONDS) under API Gateway's 29 s integration limit.
      timeoutSeconds: route === 'acquire' ? ACQUIRE_MAX_WAIT_SECONDS + 8 : 15,
      memoryMb: 256,
      trigger: { kind: 'api-route', method, path },
    },
  ];
}

export function placeholderFor(spec: FunctionSpec): string {
  return `${spec.id}FunctionArn`;
}
