/**
 * Kiln running locally, end to end: the local AWS (moto + router), the synthesized stack deployed into it, the
 * upload trigger (mirror rule + event pump), and helpers to upload a template folder and follow its build.
 * Shared by the integration tests and `npm start` (cli/start.ts), so both exercise the same path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, sep } from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { executionHistory } from '../aws/execution-history.ts';
import { AGENT_GATEWAY_ENV } from '../functions/agent-gateway/lib/deps.ts';
import { type ApiFront, startApiFront } from './api-front.ts';
import { apisOfTemplate, schedulesOfTemplate } from './api-template.ts';
import type { CloudAssembly } from './assembly.ts';
import type { CfnTemplate } from './cfn-transform.ts';
import { LOCAL_ACCOUNT, localClientConfig } from './clients.ts';
import { deployKiln, type KilnDeployment } from './deploy.ts';
import { type EventPump, mirrorStateMachineRules, type PumpedStart, startEventPump } from './event-pump.ts';
import type { FunctionCode } from './function-code.ts';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from './local-aws.ts';
import { type ScheduleTimer, startScheduleTimer } from './schedule-timer.ts';
import { type SynthOptions, synthKiln } from './synth.ts';

/** The stack outputs that name the agent gateway's API and table (infra/kiln-stack.ts). */
const AGENT_GATEWAY_OUTPUT = 'AgentGatewayUrl';
const AGENT_TABLE_OUTPUT = 'AgentTableName';

/** The agent gateway's lease policy for fast local runs: each replaces the deployed value (or the default). */
export interface LocalAgentPolicy {
  /** `KILN_AGENT_HEARTBEAT_SECONDS` (a lease lasts a few of them; deployed default 30). */
  readonly heartbeatSeconds?: number;
  /** `KILN_AGENT_QUEUE_TIMEOUT_SECONDS`: a job no agent takes fails after it (deployed default 600). */
  readonly queueTimeoutSeconds?: number;
  /** `KILN_AGENT_POLL_INTERVAL_MS`: how often a held acquire looks again (not deployed; 1000 by default). */
  readonly pollIntervalMs?: number;
}

export interface KilnLocalOptions extends LocalAwsOptions {
  readonly synth?: SynthOptions;
  readonly onPumpedStart?: (start: PumpedStart) => void;
  /** Progress of the bring-up (`synthesized`, `deployed`, ...), for the CLI. */
  readonly onPhase?: (phase: string, detail: string) => void;
  /** Fire every schedule rule this often (seconds) instead of its own rate (`rate(1 minute)` for the sweep). */
  readonly scheduleSeconds?: number;
  readonly agents?: LocalAgentPolicy;
}

export interface KilnLocal {
  readonly aws: LocalAws;
  readonly deployment: KilnDeployment;
  readonly pump: EventPump;
  /** The API front of each REST API of the stack (api-front.ts), by logical id. */
  readonly apiFronts: ReadonlyMap<string, ApiFront>;
  /** `http://127.0.0.1:<port>/v1/`: the front serving the API the `AgentGatewayUrl` output names. */
  readonly agentGatewayUrl?: string;
  /** The agent table's name (`AgentTableName` output). */
  readonly agentTable?: string;
  /** Fires the stack's schedule rules (schedule-timer.ts). */
  readonly schedules: ScheduleTimer;
  stop(): Promise<void>;
}

export async function startKilnLocal(options: KilnLocalOptions = {}): Promise<KilnLocal> {
  const phase = options.onPhase ?? (() => undefined);
  const startedSynth = Date.now();
  phase(
    'synthesizing',
    options.synth?.registry
      ? 'fixture registry, bundling off'
      : 'cdk synth with bundling, cached per input hash (a fresh one takes 20-60 s)',
  );
  const assembly = await synthKiln(options.synth);
  const functionCode = codeOf(assembly, options.functionCode);
  phase(
    'synthesized',
    `${assembly.stackName} (${assembly.fresh ? `${Date.now() - startedSynth} ms` : 'cached'}; ${
      assembly.bundles ? `${assembly.bundles.size} Lambda bundles` : 'fixture sources'
    })`,
  );
  const aws = await startLocalAws({
    ...options,
    functionCode,
    handlerEnv: { ...options.handlerEnv, ...agentEnv(options.agents).base },
    handlerEnvOverrides: { ...options.handlerEnvOverrides, ...agentEnv(options.agents).overrides },
  });
  phase('emulator', `moto ${aws.moto.endpoint} (pid ${aws.moto.pid}) behind the router ${aws.endpoint}`);
  if (aws.containers) {
    phase(
      'containers',
      `podman behind a docker wrapper for docker hosts; registry ${aws.containers.registry} (docker.io mirror: python:3.9-slim stand-in); ECR front ${aws.containers.ecrFront} (pushes bridged into moto's ECR); PrepareBuild reads base image digests from the registry (KILN_REGISTRY_MIRRORS)`,
    );
  }
  try {
    const deployment = await deployKiln({
      endpoint: aws.endpoint,
      assembly,
      trustedPrincipal: aws.moto.admin().arn,
    });
    if (assembly.bundles && deployment.placeholderAssets.length > 0) {
      throw new Error(
        `deploy: published placeholders instead of bundles for ${deployment.placeholderAssets.join(', ')}`,
      );
    }
    aws.useDeployment({
      ...deployment,
      functionNames: deployment.resources.filter((r) => r.type === 'AWS::Lambda::Function').map((r) => r.physicalId),
    });
    phase('deployed', `${deployment.resources.length} resources, state machine ${deployment.stateMachineArn}`);
    const mirrors = await mirrorStateMachineRules(aws.endpoint, deployment.region);
    const pump = startEventPump(aws.endpoint, mirrors, {
      region: deployment.region,
      ...(options.onPumpedStart ? { onStart: options.onPumpedStart } : {}),
    });
    phase('trigger', `${mirrors.length} upload rule(s) mirrored to SQS for the event pump`);
    const front = await startFronts(aws, deployment, JSON.parse(readFileSync(assembly.templateFile, 'utf8')));
    const schedules = startScheduleTimer({
      schedules: schedulesOfTemplate(front.template, { region: deployment.region, account: LOCAL_ACCOUNT }),
      region: deployment.region,
      account: LOCAL_ACCOUNT,
      physicalIds: front.physicalIds,
      invoke: (name, payload, type) => aws.router.invoker.invoke(name, deployment.region, payload, type),
      ...(options.scheduleSeconds !== undefined ? { intervalSeconds: options.scheduleSeconds } : {}),
    });
    const timed = schedulesOfTemplate(front.template, { region: deployment.region, account: LOCAL_ACCOUNT }).length;
    if (timed > 0) {
      const every =
        options.scheduleSeconds === undefined ? "at each rule's rate" : `every ${options.scheduleSeconds} s`;
      phase('schedules', `${timed} schedule rule(s) fired by the harness ${every} (moto never fires them)`);
    }
    if (front.fronts.size > 0) {
      phase('api', [...front.fronts.values()].map((f) => `API Gateway front ${f.url}`).join(', '));
    }
    const gatewayApi = apiOfOutput(front.template, AGENT_GATEWAY_OUTPUT);
    const agentGatewayUrl = gatewayApi ? front.fronts.get(gatewayApi)?.url : undefined;
    const agentTable = deployment.outputs[AGENT_TABLE_OUTPUT];
    let stopped: Promise<void> | undefined;
    return {
      aws,
      deployment,
      pump,
      apiFronts: front.fronts,
      ...(agentGatewayUrl ? { agentGatewayUrl } : {}),
      ...(agentTable ? { agentTable } : {}),
      schedules,
      stop: () => {
        stopped ??= (async () => {
          schedules.stop();
          await Promise.all([...front.fronts.values()].map((f) => f.stop()));
          await pump.stop();
        })().finally(() => aws.stop());
        return stopped;
      },
    };
  } catch (error) {
    await aws.stop();
    throw error;
  }
}

/** The agent lease options as function variables: the deployed ones replaced, the poll interval added. */
function agentEnv(policy: LocalAgentPolicy | undefined): {
  base: Record<string, string>;
  overrides: Record<string, string>;
} {
  const overrides: Record<string, string> = {};
  if (policy?.heartbeatSeconds !== undefined) {
    overrides[AGENT_GATEWAY_ENV.heartbeatSeconds] = String(policy.heartbeatSeconds);
  }
  if (policy?.queueTimeoutSeconds !== undefined) {
    overrides[AGENT_GATEWAY_ENV.queueTimeoutSeconds] = String(policy.queueTimeoutSeconds);
  }
  const base: Record<string, string> =
    policy?.pollIntervalMs !== undefined ? { [AGENT_GATEWAY_ENV.pollIntervalMs]: String(policy.pollIntervalMs) } : {};
  return { base, overrides };
}

/** One API front per REST API of the synthesized template (not the transformed one: it still has the stage). */
async function startFronts(
  aws: LocalAws,
  deployment: KilnDeployment,
  template: CfnTemplate,
): Promise<{ template: CfnTemplate; physicalIds: Map<string, string>; fronts: Map<string, ApiFront> }> {
  const physicalIds = new Map(deployment.resources.map((r) => [r.logicalId, r.physicalId]));
  const fronts = new Map<string, ApiFront>();
  try {
    for (const api of apisOfTemplate(template, { region: deployment.region, account: LOCAL_ACCOUNT })) {
      const front = await startApiFront({
        api,
        region: deployment.region,
        account: LOCAL_ACCOUNT,
        physicalIds,
        invoke: (name, payload) => aws.router.invoker.invoke(name, deployment.region, payload, 'RequestResponse'),
      });
      fronts.set(api.restApiId, front);
    }
  } catch (error) {
    await Promise.all([...fronts.values()].map((f) => f.stop()));
    throw error;
  }
  return { template, physicalIds, fronts };
}

/** The RestApi an output's value refers to (`Fn::Join` holding `{ Ref: <RestApi> }`, as `api.url` synthesizes). */
function apiOfOutput(template: CfnTemplate, output: string): string | undefined {
  const value = (template.Outputs?.[output] as { Value?: unknown } | undefined)?.Value;
  const refs: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        if (key === 'Ref' && typeof child === 'string') refs.push(child);
        else visit(child);
      }
    }
  };
  visit(value);
  return refs.find((id) => template.Resources[id]?.Type === 'AWS::ApiGateway::RestApi');
}

/**
 * The functions run the assembly's bundles; fixture sources only for a fixture registry synthesized without
 * bundling, and only when the caller asks for them by name. No fallback either way.
 */
function codeOf(assembly: CloudAssembly, requested: FunctionCode | undefined): FunctionCode {
  if (assembly.bundles) {
    if (requested) {
      throw new Error(
        "startKilnLocal: Kiln's registry runs its synthesized bundles; functionCode is for fixture registries",
      );
    }
    return { kind: 'bundles', assets: assembly.bundles };
  }
  if (requested?.kind !== 'fixture-sources') {
    throw new Error(
      'startKilnLocal: the assembly has no bundles (a fixture registry); pass functionCode: { kind: "fixture-sources", functionsRoot }',
    );
  }
  return requested;
}

/**
 * Uploads a template folder the way a user would: every other file first, the template last, so the build the
 * template's upload starts finds its scripts next to it. Returns the template's key.
 */
/** Uploads one template file alone under `key` (its own S3 folder: no sibling is fetched with it). */
export async function uploadTemplateFile(endpoint: string, bucket: string, key: string, path: string): Promise<string> {
  const s3 = new S3Client(localClientConfig(endpoint));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(path) }));
  return key;
}

export async function uploadTemplateFolder(
  endpoint: string,
  bucket: string,
  prefix: string,
  dir: string,
  templateFile: string,
): Promise<string> {
  const s3 = new S3Client(localClientConfig(endpoint));
  const files = listFiles(dir).map((file) => relative(dir, file).split(sep).join('/'));
  const ordered = [...files.filter((f) => f !== templateFile), templateFile];
  for (const file of ordered) {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: posix.join(prefix, file), Body: readFileSync(join(dir, file)) }),
    );
  }
  return posix.join(prefix, templateFile);
}

/**
 * Uploads a folder as one bundle object (`.tar.gz`, files at the root, as `tar czf app.tgz -C app .` makes): the
 * way a user ships a template with its build context. Returns the key.
 */
export async function uploadTemplateBundle(
  endpoint: string,
  bucket: string,
  key: string,
  dir: string,
): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'kiln-bundle-')), 'bundle.tar.gz');
  try {
    const tar = spawnSync('tar', ['-czf', out, '-C', dir, '.'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`tar could not pack ${dir}: ${tar.stderr}`);
    const s3 = new S3Client(localClientConfig(endpoint));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(out) }));
    return key;
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => (statSync(join(dir, name)).isDirectory() ? listFiles(join(dir, name)) : [join(dir, name)]));
}

/** Resolves with the first execution the pump starts (the upload's build). */
export async function nextPumpedStart(
  pump: EventPump,
  already = pump.starts.length,
  timeoutMs = 30_000,
): Promise<PumpedStart> {
  const deadline = Date.now() + timeoutMs;
  while (pump.starts.length <= already) {
    if (Date.now() > deadline) throw new Error('no build started: the upload did not reach the state machine');
    await new Promise((r) => setTimeout(r, 100));
  }
  return pump.starts[already] as PumpedStart;
}

export interface StageEvent {
  readonly state: string;
  readonly type: string;
  readonly at: Date;
  /** The state's input (JSON text), e.g. to tell which build of the Map a state belongs to. */
  readonly input?: string;
}

/** The final DescribeExecution, plus the build result Finalize produced (JSON text). */
export type FollowedExecution = DescribeExecutionCommandOutput & { readonly result?: string };

/** States whose input is the execution's build result when the execution fails after Finalize. */
const FAILED_RESULT_STATES = new Set(['BuildsFailed']);

/**
 * Polls an execution until it ends, reporting each state entered (from the execution history) once.
 * Resolves with the final DescribeExecution and the build result: the output when it succeeded, else the input
 * of the Fail state that follows Finalize (a failed build fails the execution, as Packer exits non-zero).
 */
export async function followExecution(
  endpoint: string,
  executionArn: string,
  onStage: (event: StageEvent) => void = () => undefined,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<FollowedExecution> {
  const sfn = new SFNClient(localClientConfig(endpoint));
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let seen = 0;
  let failedResult: string | undefined;
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const events = await executionHistory(sfn, executionArn);
    for (const event of events.slice(seen)) {
      const state = event.stateEnteredEventDetails?.name;
      const input = event.stateEnteredEventDetails?.input;
      if (state && event.type) {
        onStage({ state, type: event.type, at: event.timestamp ?? new Date(), ...(input ? { input } : {}) });
      }
      if (state && FAILED_RESULT_STATES.has(state) && input) failedResult = input;
    }
    seen = events.length;
    if (execution.status !== 'RUNNING') {
      const result = execution.output ?? failedResult;
      return { ...execution, ...(result ? { result } : {}) };
    }
    if (Date.now() > deadline) throw new Error(`execution ${executionArn} still running after the timeout`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without blocking the event loop (the ECR front answering it lives in this process). */
export function runAsync(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: string,
  timeoutMs = 120_000,
): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolvePromise({ status: 127, stdout, stderr: `${stderr}${error.message}` });
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

/**
 * Runs a pushed image as its user would: `docker login` to its ECR registry with a password from ECR's
 * GetAuthorizationToken (what `aws ecr get-login-password` prints), `docker run --rm`, then logout, with the
 * docker hosts' engine (podman behind the wrapper) and a login file of its own, removed afterwards.
 */
export async function runPushedImage(
  kiln: KilnLocal,
  image: string,
  command: readonly string[],
): Promise<CommandResult> {
  const containers = kiln.aws.containers;
  if (!containers) throw new Error('runPushedImage needs the container host (startKilnLocal({ containers: true }))');
  const host = image.split('/')[0] ?? '';
  const ecr = new ECRClient(localClientConfig(kiln.aws.endpoint, kiln.deployment.region));
  const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]?.authorizationToken;
  const password = Buffer.from(token ?? '', 'base64')
    .toString('utf8')
    .split(':')
    .slice(1)
    .join(':');
  const config = mkdtempSync(join(tmpdir(), 'kiln-pull-'));
  const env = {
    ...process.env,
    ...containers.env,
    DOCKER_CONFIG: config,
    REGISTRY_AUTH_FILE: join(config, 'config.json'),
  };
  try {
    const login = await runAsync('docker', ['login', '--username', 'AWS', '--password-stdin', host], env, password);
    if (login.status !== 0) return login;
    return await runAsync('docker', ['run', '--rm', '--network=none', image, ...command], env);
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}
