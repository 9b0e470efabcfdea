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
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { CloudAssembly } from './assembly.ts';
import { localClientConfig } from './clients.ts';
import { deployKiln, type KilnDeployment } from './deploy.ts';
import { type EventPump, mirrorStateMachineRules, type PumpedStart, startEventPump } from './event-pump.ts';
import type { FunctionCode } from './function-code.ts';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from './local-aws.ts';
import { type SynthOptions, synthKiln } from './synth.ts';

export interface KilnLocalOptions extends LocalAwsOptions {
  readonly synth?: SynthOptions;
  readonly onPumpedStart?: (start: PumpedStart) => void;
  /** Progress of the bring-up (`synthesized`, `deployed`, ...), for the CLI. */
  readonly onPhase?: (phase: string, detail: string) => void;
}

export interface KilnLocal {
  readonly aws: LocalAws;
  readonly deployment: KilnDeployment;
  readonly pump: EventPump;
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
  const aws = await startLocalAws({ ...options, functionCode });
  phase('emulator', `moto ${aws.moto.endpoint} (pid ${aws.moto.pid}) behind the router ${aws.endpoint}`);
  if (aws.containers) {
    phase(
      'containers',
      `podman behind a docker wrapper for docker hosts; registry ${aws.containers.registry} (docker.io mirror: python:3.9-slim stand-in); ECR front ${aws.containers.ecrFront} (pushes bridged into moto's ECR)`,
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
    let stopped: Promise<void> | undefined;
    return {
      aws,
      deployment,
      pump,
      stop: () => {
        stopped ??= pump.stop().finally(() => aws.stop());
        return stopped;
      },
    };
  } catch (error) {
    await aws.stop();
    throw error;
  }
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
    const events = await history(sfn, executionArn);
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

async function history(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
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
