/**
 * `npm start`: the whole pipeline on this machine, against the local AWS emulator. Brings up moto and the
 * harness router, synthesizes and deploys Kiln's stack into moto, uploads the amazon-ebs example to the template
 * bucket (which starts a build exactly as in AWS), follows the build live, prints the AMIs and the manifest, then
 * uploads the docker reference template's example bundle, builds it with real containers (podman) and runs the
 * pushed image, then registers a real `kiln-agent` (its bundle) and runs the agent example (null and file builds,
 * Debian's packer) and the vmware reference template on it (refused: no VMware here),
 * ends with channels: promotes the amazon-ebs artifact to `prod` with the real `kiln` CLI (`--local`), prints the
 * SSM parameter, promotes a second build and rolls back to the first (cli/start-channels.ts); says what ran as
 * deployed (the Lambda bundles cdk synth staged, among others) and what the emulator only simulated, and stops
 * every process it started. With `--keep` the stack stays up until Ctrl-C, for `kiln … --local`.
 *
 * Usage: npm start [-- --template <folder> --file <template file>] [--no-docker] [--no-agents] [--no-channels]
 *                  [--keep] [--verbose]
 * Exit code: 0 when every build succeeded, 1 when one failed, 2 when the local run itself failed.
 */

import { basename, relative, resolve } from 'node:path';
import { registryTemplateName } from '../aws/image-registry-records.ts';
import { STACK_OUTPUTS } from '../aws/stack-outputs.ts';
import { adminCredentials, LOCAL_REGION } from '../harness/clients.ts';
import {
  AGENT_EXAMPLE_DIR,
  AGENT_EXAMPLE_FILE,
  DOCKER_EXAMPLE_DIR,
  EXAMPLE_TEMPLATE_DIR,
  EXAMPLE_TEMPLATE_FILE,
  VMWARE_REFERENCE,
} from '../harness/example.ts';
import type { ReplayReport } from '../harness/iam-guard.ts';
import type { KilnLocal, StageEvent } from '../harness/kiln-local.ts';
import type { InvocationRecord } from '../harness/lambda-invoker.ts';
import { localStackFile, removeLocalStack, writeLocalStack } from './local-stack.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DEFAULT_TEMPLATE_DIR = EXAMPLE_TEMPLATE_DIR;
const DEFAULT_TEMPLATE_FILE = EXAMPLE_TEMPLATE_FILE;

interface StartOptions {
  readonly templateDir: string;
  readonly templateFile: string;
  readonly verbose: boolean;
  /** Also build the docker reference template's example bundle (default; `--no-docker` skips it). */
  readonly docker: boolean;
  /**
   * Also run agent builds on a local `kiln-agent` (default; `--no-agents` skips them): the null + file example,
   * then the vmware reference template, which the agent refuses (no VMware here).
   */
  readonly agents: boolean;
  /** End with the prod channel: promote, second build, promote, rollback (default; `--no-channels` skips it). */
  readonly channels: boolean;
  /** Keep the local stack up after the run, until Ctrl-C, for `kiln … --local`. */
  readonly keep: boolean;
}

function parseArgs(argv: readonly string[]): StartOptions {
  let templateDir = DEFAULT_TEMPLATE_DIR;
  let templateFile = DEFAULT_TEMPLATE_FILE;
  let verbose = false;
  let docker = true;
  let agents = true;
  let channels = true;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--template') templateDir = resolve(argv[++i] ?? '');
    else if (arg === '--file') templateFile = argv[++i] ?? '';
    else if (arg === '--verbose') verbose = true;
    else if (arg === '--no-docker') docker = false;
    else if (arg === '--no-agents') agents = false;
    else if (arg === '--no-channels') channels = false;
    else if (arg === '--keep') keep = true;
    else
      throw new Error(
        `npm start: unknown option ${arg} (options: --template <folder>, --file <name>, --no-docker, --no-agents, --no-channels, --keep, --verbose)`,
      );
  }
  return { templateDir, templateFile, verbose, docker, agents, channels, keep };
}

interface BuildOutput {
  buildId?: string;
  status?: string;
  manifest?: string;
  builds?: {
    name: string;
    status: string;
    artifactId?: string;
    error?: string;
    cause?: string;
    registry?: { artifactId: string; channelParameter?: string };
  }[];
}

/** Set by the SIGINT/SIGTERM handler, which then owns the exit. */
let signalReceived = false;

async function main(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv);
  // Handler logs (Powertools JSON) would drown the live view; --verbose shows them.
  process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? 'INFO' : 'SILENT';
  // Imported after the log level is set: the handlers' logger reads it when first loaded.
  const {
    followExecution,
    nextPumpedStart,
    runPushedImage,
    startKilnLocal,
    uploadTemplateBundle,
    uploadTemplateFile,
    uploadTemplateFolder,
  } = await import('../harness/kiln-local.ts');
  const started = Date.now();
  const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
  const say = (line: string) => process.stdout.write(`${stamp()} ${line}\n`);
  const invocations: InvocationRecord[] = [];

  process.stdout.write(
    'Kiln local run: the real pipeline against a local AWS emulator (moto), nothing leaves this machine\n',
  );
  let kiln: KilnLocal | undefined;
  // What `kiln … --local` reads while this run is up (cli/local-stack.ts); removed when it stops.
  const stateFile = localStackFile(process.env, ROOT);
  let agentStop: (() => Promise<void>) | undefined;
  let stopping = false;
  const stopAll = async (reason: string) => {
    if (stopping || !kiln) return;
    stopping = true;
    removeLocalStack(stateFile);
    await agentStop?.();
    const { moto, containers } = kiln.aws;
    await kiln.stop();
    say(
      `stopped (${reason}): moto_server pid ${moto.pid}, the router, the event pump${
        containers ? ', the local registry and ECR front' : ''
      }; instance sandboxes removed`,
    );
  };
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      signalReceived = true;
      say(`${signal}: stopping`);
      void stopAll(signal).finally(() => process.exit(code));
    });
  }

  try {
    kiln = await startKilnLocal({
      // Docker builds run for real: podman, the python:3.9-slim stand-in, the local registry and ECR front.
      containers: true,
      onPhase: (phase, detail) => say(`${phase}: ${detail}`),
      // The agent sweep every 2 s and a 5 s heartbeat, so a job nobody can run is refused in seconds, not minutes.
      scheduleSeconds: 2,
      agents: { heartbeatSeconds: 5, queueTimeoutSeconds: 120, pollIntervalMs: 200 },
      onInvoke: (record) => {
        invocations.push(record);
        // Once stopping, held long polls (AgentAcquire) end with their processes: not a failure of the run.
        if (!stopping && (options.verbose || record.errorType)) {
          say(`  λ ${record.functionId} ${record.durationMs} ms${record.errorType ? ` → ${record.errorType}` : ''}`);
        }
      },
      onCommandEnd: (_command, invocation) =>
        say(`  ssm ${invocation.instanceId}: ${invocation.status} (exit ${invocation.exitCode})`),
    });
    const { deployment } = kiln;
    const local = kiln;
    writeLocalStack(stateFile, {
      version: 1,
      pid: process.pid,
      endpoint: kiln.aws.endpoint,
      region: LOCAL_REGION,
      credentials: adminCredentials(kiln.aws.endpoint),
      // The agent gateway's URL is the local API front's (moto's own URL for the stage serves nothing).
      outputs: {
        ...deployment.outputs,
        ...(kiln.agentGatewayUrl ? { [STACK_OUTPUTS.agentGatewayUrl.output]: kiln.agentGatewayUrl } : {}),
      },
      startedAt: new Date().toISOString(),
    });
    /** Follows the build an upload started; prints its artifacts; true when it succeeded. */
    const follow = async (already: number): Promise<{ ok: boolean; output: BuildOutput }> => {
      const start = await nextPumpedStart(local.pump, already);
      if (start.error || !start.executionArn) throw new Error(`the upload did not start a build: ${start.error}`);
      say(`build started by the upload: execution ${start.executionArn.split(':').pop()}`);
      const buildStarted = Date.now();
      const done = await followExecution(local.aws.endpoint, start.executionArn, (event) => {
        statesEntered += 1;
        say(`  ${describeStage(event)}`);
      });
      const output = JSON.parse(done.result ?? '{}') as BuildOutput;
      const seconds = ((Date.now() - buildStarted) / 1000).toFixed(1);
      const ok = done.status === 'SUCCEEDED' && output.status === 'SUCCEEDED';
      say(`build ${output.buildId ?? ''} ${ok ? 'SUCCEEDED' : 'FAILED'} in ${seconds}s (execution ${done.status})`);
      for (const build of output.builds ?? []) printBuild(build);
      if (done.error) process.stdout.write(`  execution error ${done.error}: ${done.cause ?? ''}\n`);
      if (output.manifest) process.stdout.write(`  manifest: ${output.manifest}\n`);
      return { ok, output };
    };
    let statesEntered = 0;

    const prefix = `templates/${basename(options.templateDir)}`;
    const key = await uploadTemplateFolder(
      kiln.aws.endpoint,
      deployment.templateBucket,
      prefix,
      options.templateDir,
      options.templateFile,
    );
    say(
      `uploaded ${relative(ROOT, options.templateDir) || options.templateDir} to s3://${deployment.templateBucket}/${key}`,
    );
    const first = await follow(0);
    let ok = first.ok;

    // The docker reference template (unchanged) from its example bundle, built for real with podman.
    if (options.docker) {
      const already = kiln.pump.starts.length;
      const bundleKey = await uploadTemplateBundle(
        kiln.aws.endpoint,
        deployment.templateBucket,
        'templates/docker-python-app.tar.gz',
        DOCKER_EXAMPLE_DIR,
      );
      say(
        `uploaded ${relative(ROOT, DOCKER_EXAMPLE_DIR)} as the bundle s3://${deployment.templateBucket}/${bundleKey}`,
      );
      const docker = await follow(already);
      ok = ok && docker.ok;
      const pinned = docker.output.builds?.[0]?.artifactId;
      if (docker.ok && pinned && kiln.aws.containers) {
        // Pull the pushed image back by digest (through the ECR front) and run the app in it.
        const run = await runPushedImage(kiln, pinned, [
          // The committed image keeps the build container's entrypoint, /bin/sh (Packer's default run_command), as
          // `packer build` leaves it: the command goes to sh.
          '-c',
          `python -c 'import app; print(app.welcome("Kiln"))'`,
        ]);
        say(
          run.status === 0
            ? `docker run ${pinned}: ${run.stdout.trim()}`
            : `docker run of the pushed image FAILED: ${run.stderr.trim()}`,
        );
        ok = ok && run.status === 0;
      }
    }

    // Agent builds: a real kiln-agent (its bundle, registered with a one-time token) runs Debian's packer.
    if (options.agents) {
      const { startLocalAgent } = await import('../harness/local-agent.ts');
      const agent = await startLocalAgent(kiln, { name: 'local-lab' });
      agentStop = () => agent.stop();
      say(`kiln-agent ${agent.agentId} registered over ${kiln.agentGatewayUrl} and polling (packer from PATH)`);
      let already = kiln.pump.starts.length;
      await uploadTemplateFolder(
        kiln.aws.endpoint,
        deployment.templateBucket,
        'templates/agent-builds',
        AGENT_EXAMPLE_DIR,
        AGENT_EXAMPLE_FILE,
      );
      say(`uploaded ${relative(ROOT, AGENT_EXAMPLE_DIR)} (null and file builders, run by the agent)`);
      const builds = await follow(already);
      ok = ok && builds.ok;
      // The vmware reference template, unchanged: it reaches the agent, which has no VMware and says so.
      already = kiln.pump.starts.length;
      await uploadTemplateFile(
        kiln.aws.endpoint,
        deployment.templateBucket,
        'templates/vmware/vmware-ubuntu-apache.json',
        VMWARE_REFERENCE,
      );
      say('uploaded examples/vmware-ubuntu-apache.json (the vmware reference template, unchanged)');
      const vmware = await follow(already);
      const refusal = vmware.output.builds?.[0];
      const refusedClearly =
        !vmware.ok &&
        refusal?.error === 'Kiln.DriverUnavailable' &&
        (refusal.cause ?? '').includes('vmware not available on this agent');
      say(
        refusedClearly
          ? 'vmware reference template: reached the agent, packer validate passed there, refused as expected (no VMware on this machine)'
          : 'vmware reference template: NOT refused as expected',
      );
      ok = ok && refusedClearly;
      await agent.stop();
      agentStop = undefined;
    }

    // Channels, as a user runs them: promote, a second build, promote, rollback; each value read from SSM.
    const promoted = first.output.builds?.find((b) => b.registry);
    if (options.channels && first.ok && promoted?.registry) {
      const { channelDemo } = await import('./start-channels.ts');
      ok =
        (await channelDemo({
          endpoint: kiln.aws.endpoint,
          stateFile,
          template: registryTemplateName(key),
          build: promoted.name,
          firstArtifact: promoted.registry.artifactId,
          buildAgain: async () => {
            const already = local.pump.starts.length;
            await uploadTemplateFile(
              local.aws.endpoint,
              deployment.templateBucket,
              key,
              resolve(options.templateDir, options.templateFile),
            );
            say(`uploaded ${key} again (a new object version: a new build)`);
            const again = await follow(already);
            return again.ok
              ? again.output.builds?.find((b) => b.name === promoted.name)?.registry?.artifactId
              : undefined;
          },
          say,
        })) && ok;
    }

    // What AWS would have said to every call the build made, conditions included (moto ignores them).
    const iam = await kiln.aws.router.iam?.replay();
    printProvenance(kiln, invocations, statesEntered, iam);
    if (options.keep) {
      say(
        `the local stack stays up for \`kiln … --local\` (state in ${relative(ROOT, stateFile) || stateFile}): e.g. \`npm run kiln -- artifacts list ${registryTemplateName(key)} --local\`; Ctrl-C stops it`,
      );
      await new Promise<never>(() => undefined); // the signal handler stops everything and exits
    }
    await stopAll('done');
    return ok && (iam?.denied.length ?? 0) === 0 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`npm start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopAll('error');
    return 2;
  }
}

/** One build's result: its AMIs, or its pushed image pinned by digest; the registry record; the error. */
function printBuild(build: NonNullable<BuildOutput['builds']>[number]): void {
  process.stdout.write(`  ${build.name}: ${build.status}\n`);
  const id = build.artifactId ?? '';
  if (id.includes('@sha256:')) process.stdout.write(`    image ${id}\n`);
  else if (id && !/^[a-z0-9-]+:ami-/.test(id))
    process.stdout.write(`    artifact ${id} (reported by the agent's packer)\n`);
  else {
    for (const artifact of id.split(',').filter(Boolean)) {
      const [region, ami] = artifact.split(':');
      process.stdout.write(`    AMI ${ami} in ${region}\n`);
    }
  }
  const reg = build.registry;
  if (reg)
    process.stdout.write(`    registry artifact ${reg.artifactId}, latest: ${reg.channelParameter ?? '(unchanged)'}\n`);
  if (build.error) process.stdout.write(`    error ${build.error}: ${build.cause ?? ''}\n`);
}

/** `amazon-ebs.web · RunProvisioner`: the build a state belongs to (from the Map item's input) and the state. */
function describeStage(event: StageEvent): string {
  let build: string | undefined;
  try {
    const input = JSON.parse(event.input ?? '{}') as { state?: { name?: string } };
    build = input.state?.name;
  } catch {
    build = undefined;
  }
  return build ? `${build} · ${event.state}` : event.state;
}

function printProvenance(
  kiln: KilnLocal,
  invocations: readonly InvocationRecord[],
  statesEntered: number,
  iam: ReplayReport | undefined,
): void {
  const functions = new Set(invocations.map((i) => i.functionId));
  const bundled = invocations.filter((i) => i.code === 'bundles');
  // Invocations whose environment never started ran no code at all; only sources would make the label false.
  const fromSources = invocations.filter((i) => i.code === 'fixture-sources').length;
  const commands = kiln.aws.router.shim.allCommands();
  const lines = [
    '',
    'Ran as deployed here:',
    '  - the template engine (core/): parsing, variables, source_ami_filter, planning, in the PrepareBuild bundle',
    `  - the state machine statemachines/build.asl.json with drivers/ec2-ami.asl.json, drivers/ec2-docker.asl.json and drivers/agent.asl.json (composed as cdk synth composes them), in moto's Step Functions interpreter (${statesEntered} states entered)`,
    `  - the Lambda handlers as the real bundles cdk synth staged (asset index.mjs, source maps on): ${functions.size} functions, ${bundled.length} invocations${fromSources > 0 ? `; ${fromSources} from TypeScript sources, NOT as deployed` : ''}`,
    `  - the provisioner scripts and the docker host steps, as bash (${commands.length} SSM commands); the docker build in a real container engine (podman behind a docker wrapper)`,
    `  - the deployment: the synthesized CDK stack created by moto's CloudFormation (${kiln.deployment.resources.length} resources)`,
    'Checked as AWS would (emulated):',
    '  - IAM: every call signed as its own role (function, state machine, builder instance); moto checked each action (resources for S3 only, no conditions), the router the Lambda and SSM calls it answers',
    iam
      ? `  - IAM replay: ${iam.checked} authorization requests against the deployed policies with conditions (iam-simulate): ${iam.denied.length} denied, ${Object.values(iam.unmodelled).reduce((n, c) => n + c, 0)} calls not modelled; resource and key policies not evaluated`
      : '  - IAM replay: not run (no IAM guard)',
    ...(iam?.denied ?? []).map((d) => `    DENIED on AWS: ${d.caller} ${d.call} → ${d.result}`),
    'Only simulated by the emulator:',
    "  - the Lambda runtime: one local Node 22 process per execution environment, with the template's environment, memory (heap limit) and timeout (killed when exceeded) and its role's credentials; no Lambda sandbox",
    '  - EC2: instances never boot; images are available at once; snapshots and copies are records',
    '  - SSM: commands run by the harness shim in a sandbox directory on this machine, not on an instance',
    ...(kiln.aws.containers
      ? [
          '  - docker: the base image python:3.9-slim is a Debian stand-in served by a local registry; ECR is moto (API) plus a local registry front (data plane, no IAM check on push)',
        ]
      : []),
    '  - the upload trigger: a mirror rule to SQS and a pump call StartExecution (moto cannot target a state machine)',
    ...(kiln.agentGatewayUrl
      ? [
          `  - the agent gateway's API Gateway: a local front (${kiln.agentGatewayUrl}, plain HTTP) serving the template's routes with the stage throttle; the sweep rule fired by a timer`,
        ]
      : []),
    `  - not deployed: ${[...new Set(Object.values(kiln.deployment.transform.dropped))].join(', ') || 'nothing'}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

const code = await main(process.argv.slice(2));
// Everything main started is stopped by then; exit explicitly so a straggler handle can never keep the run alive.
// After a signal, its handler exits (128 + n) once the stop it began has finished.
if (!signalReceived) process.exit(code);
