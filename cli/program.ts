/**
 * The `kiln` command line: commander wiring only. Each verb's logic lives in its own module as a function
 * of (options, io) returning the exit code, so it is tested without spawning processes.
 */

import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_LEASE_POLICY } from '../core/agents/lease.ts';
import { LIMIT_NAMES, type LimitName, parseLimitAssignment } from '../core/template/limits.ts';
import type { AgentsConnect, AgentsOptions } from './agents.ts';
import { normalizeArgv, parseVarAssignment, splitNameList } from './argv.ts';
import type { CancelBuildOptions } from './builds.ts';
import type { BuildsListOptions, BuildsReadConnect, BuildsReadOptions } from './builds-read.ts';
import type { InspectOptions } from './inspect.ts';
import type { CliIO } from './io.ts';
import type { TemplateRequest } from './load-inputs.ts';
import { LocalStackError, takeLocalFlag } from './local-stack.ts';
import type { PlanOptions } from './plan.ts';
import type { RegistryConnect, RegistryOptions, RevokeOptions } from './registry.ts';
import type { AddScheduleOptions, SchedulesConnect, SchedulesOptions } from './schedules.ts';
import type { StatusOptions } from './status.ts';
import type { SubmitConnect, SubmitOptions } from './submit.ts';
import type { ValidateOptions } from './validate.ts';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Repeatable flags are absent (undefined) until given once. */
interface InputFlags {
  var?: string[];
  varFile?: string[];
  only?: string[];
  except?: string[];
  syntaxOnly?: boolean;
  limit?: string[];
  machineReadable?: boolean;
  json?: boolean;
  pipeline?: boolean;
}

class UsageError extends Error {}

function addInputOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--var <name=value>', 'set a template variable (repeatable; split on the first "=")').argParser(
        collect,
      ),
    )
    .addOption(
      new Option(
        '--var-file <path>',
        'JSON or .pkrvars.hcl file with variable values (repeatable, applied in order)',
      ).argParser(collect),
    )
    .addOption(
      new Option('--only <names>', 'validate only these builds (comma-separated names or globs)').argParser(collect),
    )
    .addOption(
      new Option(
        '--except <names>',
        'skip these builds and post-processors (comma-separated names or globs)',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--limit <name=value>',
        `raise a template resource limit for this run (repeatable; ${LIMIT_NAMES.join(', ')}); the pipeline always uses the defaults`,
      ).argParser(collect),
    );
}

const PIPELINE_HELP =
  "apply the pipeline's rules, as PrepareBuild does for an upload: every file the template names (scripts, " +
  'uploads, file() and friends, --var-file) must be inside the template folder after following symlinks ' +
  '(no absolute paths elsewhere, no .., no devices or FIFOs), relative paths resolve there, env() reads nothing';

function toLimits(raw: readonly string[]): Partial<Record<LimitName, number>> {
  const out: Partial<Record<LimitName, number>> = {};
  for (const r of raw) {
    const parsed = parseLimitAssignment(r);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    out[parsed[0]] = parsed[1];
  }
  return out;
}

function toRequest(path: string, flags: InputFlags): TemplateRequest {
  const vars = (flags.var ?? []).map((raw) => {
    const pair = parseVarAssignment(raw);
    if (!pair) throw new UsageError(`invalid value "${raw}" for flag -var: must be name=value`);
    return pair;
  });
  return {
    path,
    vars,
    varFiles: flags.varFile ?? [],
    only: splitNameList(flags.only ?? []),
    except: splitNameList(flags.except ?? []),
    syntaxOnly: flags.syntaxOnly === true,
    pipeline: flags.pipeline === true,
    ...(flags.limit?.length ? { limits: toLimits(flags.limit) } : {}),
  };
}

/** What each verb does once its arguments are parsed; runCli runs the real commands. */
export interface VerbHandlers {
  validate(options: ValidateOptions): Promise<number>;
  inspect(options: InspectOptions): Promise<number>;
  plan(options: PlanOptions): Promise<number>;
  channelsPromote(args: ChannelArgs & { artifact: string }, options: RegistryOptions): Promise<number>;
  channelsRollback(args: ChannelArgs, options: RegistryOptions): Promise<number>;
  channelsList(template: string, options: RegistryOptions): Promise<number>;
  artifactsList(template: string, options: RegistryOptions & { build?: string }): Promise<number>;
  artifactsShow(artifactId: string, options: RegistryOptions): Promise<number>;
  artifactsRevoke(artifactId: string, options: RevokeOptions): Promise<number>;
  schedulesAdd(template: string, options: AddScheduleOptions): Promise<number>;
  schedulesList(options: SchedulesOptions): Promise<number>;
  schedulesSetState(name: string, state: 'ENABLED' | 'DISABLED', options: SchedulesOptions): Promise<number>;
  schedulesDelete(name: string, options: SchedulesOptions): Promise<number>;
  agentsTokenCreate(options: AgentsOptions & { labels: string[]; ttl?: string }): Promise<number>;
  agentsTokenList(options: AgentsOptions & { all: boolean }): Promise<number>;
  agentsTokenRevoke(tokenId: string, options: AgentsOptions): Promise<number>;
  agentsList(options: AgentsOptions & { all: boolean }): Promise<number>;
  agentsShow(agentId: string, options: AgentsOptions): Promise<number>;
  agentsRevoke(agentId: string, options: AgentsOptions): Promise<number>;
  buildsCancel(build: string, options: CancelBuildOptions): Promise<number>;
  submit(options: SubmitOptions): Promise<number>;
  buildsList(options: BuildsListOptions): Promise<number>;
  buildsShow(build: string, options: BuildsReadOptions): Promise<number>;
  buildsLogs(build: string, options: BuildsReadOptions & { build?: string; full?: boolean }): Promise<number>;
  status(options: StatusOptions): Promise<number>;
}

interface ChannelArgs {
  template: string;
  build: string;
  channel: string;
}

/**
 * Verbs load the template engine (or the AWS SDK) on first use, so `kiln --help` does not pay for it (about 0.5 s
 * with tsx). `connect` gives the registry commands their AWS clients (default: from the environment).
 */
export function commandHandlers(
  io: CliIO,
  connect?: RegistryConnect,
  scheduler?: SchedulesConnect,
  agentClients?: AgentsConnect,
  submitClients?: SubmitConnect,
  buildClients?: BuildsReadConnect,
): VerbHandlers {
  const buildsRead = () => import('./builds-read.ts');
  const registry = () => import('./registry.ts');
  const schedules = () => import('./schedules.ts');
  const agents = () => import('./agents.ts');
  return {
    validate: async (options) => (await import('./validate.ts')).runValidate(options, io),
    inspect: async (options) => (await import('./inspect.ts')).runInspect(options, io),
    plan: async (options) => (await import('./plan.ts')).runPlan(options, io),
    channelsPromote: async (args, options) => (await registry()).runChannelsPromote(args, options, io, connect),
    channelsRollback: async (args, options) => (await registry()).runChannelsRollback(args, options, io, connect),
    channelsList: async (template, options) => (await registry()).runChannelsList(template, options, io, connect),
    artifactsList: async (template, options) => (await registry()).runArtifactsList(template, options, io, connect),
    artifactsShow: async (id, options) => (await registry()).runArtifactsShow(id, options, io, connect),
    artifactsRevoke: async (id, options) => (await registry()).runArtifactsRevoke(id, options, io, connect),
    schedulesAdd: async (template, options) => (await schedules()).runSchedulesAdd(template, options, io, scheduler),
    schedulesList: async (options) => (await schedules()).runSchedulesList(options, io, scheduler),
    schedulesSetState: async (name, state, options) =>
      (await schedules()).runSchedulesSetState(name, state, options, io, scheduler),
    schedulesDelete: async (name, options) => (await schedules()).runSchedulesDelete(name, options, io, scheduler),
    agentsTokenCreate: async (options) => (await agents()).runAgentsTokenCreate(options, io, agentClients),
    agentsTokenList: async (options) => (await agents()).runAgentsTokenList(options, io, agentClients),
    agentsTokenRevoke: async (id, options) => (await agents()).runAgentsTokenRevoke(id, options, io, agentClients),
    agentsList: async (options) => (await agents()).runAgentsList(options, io, agentClients),
    agentsShow: async (id, options) => (await agents()).runAgentsShow(id, options, io, agentClients),
    agentsRevoke: async (id, options) => (await agents()).runAgentsRevoke(id, options, io, agentClients),
    buildsCancel: async (build, options) =>
      (await import('./builds.ts')).runBuildsCancel(build, options, io, agentClients),
    submit: async (options) => (await import('./submit.ts')).runSubmit(options, io, submitClients),
    buildsList: async (options) => (await buildsRead()).runBuildsList(options, io, buildClients),
    buildsShow: async (build, options) => (await buildsRead()).runBuildsShow(build, options, io, buildClients),
    buildsLogs: async (build, options) => (await buildsRead()).runBuildsLogs(build, options, io, buildClients),
    status: async (options) => (await import('./status.ts')).runStatus(options, io, agentClients),
  };
}

interface RegistryFlags {
  table?: string;
  region?: string;
  json?: boolean;
}

function addRegistryOptions(command: Command): Command {
  return command
    .option('--table <name>', 'registry table (default: $KILN_REGISTRY_TABLE, the stack output RegistryTableName)')
    .option('--region <region>', "the registry table's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
    .option('--json', 'print JSON for scripts instead of text');
}

const registryOptions = (flags: RegistryFlags): RegistryOptions => ({
  json: flags.json === true,
  ...(flags.table ? { table: flags.table } : {}),
  ...(flags.region ? { region: flags.region } : {}),
});

interface ScheduleFlags {
  group?: string;
  region?: string;
  json?: boolean;
}

function addScheduleOptions(command: Command): Command {
  return command
    .option('--group <name>', "the stack's schedule group (default: kiln)")
    .option('--region <region>', "the stack's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
    .option('--json', 'print JSON for scripts instead of text');
}

const scheduleOptions = (flags: ScheduleFlags): SchedulesOptions => ({
  json: flags.json === true,
  ...(flags.group ? { group: flags.group } : {}),
  ...(flags.region ? { region: flags.region } : {}),
});

function addScheduleCommands(program: Command, handlers: VerbHandlers, setExit: (code: number) => void): void {
  const schedules = program
    .command('schedules')
    .description(
      'Scheduled rebuilds (EventBridge Scheduler, in the schedule group the Kiln stack creates): each schedule ' +
        'starts the build state machine with the template at its latest version. With --only-if-changed a run ' +
        "builds only when an input moved since the template's last successful build (the template's files, a " +
        'resolved source AMI, a pinned base image digest); otherwise it ends as "skipped: unchanged since build ' +
        'kb-…". A schedule whose builds fail 3 times in a row disables itself and puts a `Kiln Schedule ' +
        'Disabled` event on the default event bus.',
    );
  addScheduleOptions(
    schedules
      .command('add')
      .description(
        'Create an enabled schedule for a template (or bundle) in the template bucket. The expression and time ' +
          'zone are checked before anything is sent.',
      )
      .argument('<template-key>', 'key in the template bucket (templates/web/build.pkr.hcl) or s3://bucket/key')
      .requiredOption(
        '--cron <expression>',
        'cron(minutes hours day-of-month month day-of-week year), six bare cron fields, or rate(N minutes|hours|days)',
      )
      .option('--timezone <zone>', 'IANA time zone of a cron expression (default: UTC)')
      .option('--only-if-changed', "build only when an input moved since the template's last successful build")
      .option(
        '--name <name>',
        'schedule name: 1 to 64 letters, digits, - _ . (default: from the key: team/web → team-web)',
      )
      .option('--bucket <name>', "template bucket (default: the group's, the stack output TemplateBucketName)"),
  ).action(
    async (
      template: string,
      flags: ScheduleFlags & {
        cron: string;
        timezone?: string;
        onlyIfChanged?: boolean;
        name?: string;
        bucket?: string;
      },
    ) => {
      setExit(
        await handlers.schedulesAdd(template, {
          ...scheduleOptions(flags),
          cron: flags.cron,
          onlyIfChanged: flags.onlyIfChanged === true,
          ...(flags.timezone ? { timezone: flags.timezone } : {}),
          ...(flags.name ? { name: flags.name } : {}),
          ...(flags.bucket ? { bucket: flags.bucket } : {}),
        }),
      );
    },
  );
  addScheduleOptions(
    schedules
      .command('list')
      .description(
        'List the schedules: state, expression, time zone, only-if-changed, template ((stack): declared in the CDK app).',
      ),
  ).action(async (flags: ScheduleFlags) => {
    setExit(await handlers.schedulesList(scheduleOptions(flags)));
  });
  addScheduleOptions(
    schedules
      .command('pause')
      .description(
        'Disable a schedule (it keeps its definition); a schedule disabled after failing is resumed the same way.',
      )
      .argument('<name>', 'schedule name'),
  ).action(async (name: string, flags: ScheduleFlags) => {
    setExit(await handlers.schedulesSetState(name, 'DISABLED', scheduleOptions(flags)));
  });
  addScheduleOptions(
    schedules
      .command('resume')
      .description('Enable a paused or auto-disabled schedule; its next run builds as usual.')
      .argument('<name>', 'schedule name'),
  ).action(async (name: string, flags: ScheduleFlags) => {
    setExit(await handlers.schedulesSetState(name, 'ENABLED', scheduleOptions(flags)));
  });
  addScheduleOptions(
    schedules
      .command('delete')
      .description(
        'Delete a schedule made with `kiln schedules add` (those declared in the CDK app are removed there).',
      )
      .argument('<name>', 'schedule name'),
  ).action(async (name: string, flags: ScheduleFlags) => {
    setExit(await handlers.schedulesDelete(name, scheduleOptions(flags)));
  });
}

interface AgentFlags {
  table?: string;
  region?: string;
  json?: boolean;
}

function addAgentOptions(command: Command): Command {
  return command
    .option('--table <name>', 'agent gateway table (default: $KILN_AGENT_TABLE, the stack output AgentTableName)')
    .option('--region <region>', "the stack's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
    .option('--json', 'print JSON for scripts instead of text');
}

const agentOptions = (flags: AgentFlags): AgentsOptions => ({
  json: flags.json === true,
  ...(flags.table ? { table: flags.table } : {}),
  ...(flags.region ? { region: flags.region } : {}),
});

function addAgentCommands(program: Command, handlers: VerbHandlers, setExit: (code: number) => void): void {
  const agents = program
    .command('agents')
    .description(
      'Self-hosted agents (kiln-agent on your own machines, for vmware-iso and virtualbox-iso builds): ' +
        'registration tokens, the agent list with what each found on its machine, revocation. An agent registers ' +
        'once with a single-use, expiring token; the gateway stores only hashes of tokens and agent secrets.',
    );
  const token = agents.command('token').description('One-time registration tokens for `kiln-agent register`.');
  addAgentOptions(
    token
      .command('create')
      .description(
        'Create a single-use registration token and print it once (the table keeps only its hash). Every agent ' +
          'registered with it gets these labels; builds that require labels go only to agents having them all.',
      )
      .option(
        '--labels <a,b>',
        'labels for the agent (comma-separated, repeatable; 1-64 of A-Z a-z 0-9 . _ : / -)',
        collect,
      )
      .option('--ttl <duration>', 'how long the token stays usable: 90s, 30m, 1h, 7d (default 1h, at most 7d)'),
  ).action(async (flags: AgentFlags & { labels?: string[]; ttl?: string }) => {
    setExit(
      await handlers.agentsTokenCreate({
        ...agentOptions(flags),
        labels: flags.labels ?? [],
        ...(flags.ttl ? { ttl: flags.ttl } : {}),
      }),
    );
  });
  addAgentOptions(
    token
      .command('list')
      .description('List registration tokens not yet used, revoked or expired (never their secrets).')
      .option('--all', 'also used, revoked and expired ones (kept a day past expiry)'),
  ).action(async (flags: AgentFlags & { all?: boolean }) => {
    setExit(await handlers.agentsTokenList({ ...agentOptions(flags), all: flags.all === true }));
  });
  addAgentOptions(
    token
      .command('revoke')
      .description('Revoke an unused registration token: registering with it is refused from now on.')
      .argument('<token-id>', 'rt-… (the part of the token before the dot)'),
  ).action(async (id: string, flags: AgentFlags) => {
    setExit(await handlers.agentsTokenRevoke(id, agentOptions(flags)));
  });
  addAgentOptions(
    agents
      .command('list')
      .description(
        'List agents: id, name, status (ACTIVE, REVOKED, DEREGISTERED), online or offline (polled or ' +
          `heartbeated within ${DEFAULT_LEASE_POLICY.onlineSeconds} s), labels, hypervisors found (vmrun, ` +
          'VBoxManage; none: it cannot run vmware-iso or virtualbox-iso builds), packer version, os/arch, current ' +
          'job, last seen.',
      )
      .option('--all', 'also revoked and deregistered agents'),
  ).action(async (flags: AgentFlags & { all?: boolean }) => {
    setExit(await handlers.agentsList({ ...agentOptions(flags), all: flags.all === true }));
  });
  addAgentOptions(
    agents
      .command('show')
      .description(
        'Show one agent: everything `list` shows, its builders, whether it can run vmware-iso and ' +
          'virtualbox-iso (and if not, why: "vmware not available on this agent (vmrun not found)"), and the jobs ' +
          'it holds now (build, attempt, lease, progress).',
      )
      .argument('<agent-id>', 'ag-… (from `kiln agents list`)'),
  ).action(async (id: string, flags: AgentFlags) => {
    setExit(await handlers.agentsShow(id, agentOptions(flags)));
  });
  addAgentOptions(
    agents
      .command('revoke')
      .description(
        'Revoke an agent: the gateway refuses it from its next request (poll, heartbeat, completion). A job it ' +
          'holds has its lease ended now, so the next sweep (every minute) offers it to another matching agent, ' +
          'or fails it with Kiln.AgentLost once its attempts are spent. To use the machine again, register it ' +
          'with a new token.',
      )
      .argument('<agent-id>', 'ag-…'),
  ).action(async (id: string, flags: AgentFlags) => {
    setExit(await handlers.agentsRevoke(id, agentOptions(flags)));
  });

  const builds = program.command('builds').description('Builds the pipeline runs (one Step Functions execution each).');
  builds
    .command('cancel')
    .description(
      'Cancel a build: every agent job of it still queued is cancelled (never leased after) and every leased one ' +
        "marked, so its agent's next heartbeat answers cancel and the agent stops packer and cleans up; then the " +
        'execution is stopped (StopExecution, error Kiln.BuildCancelled). A build id is looked up in the builds ' +
        'table; an execution ARN is used as given. An execution that already ended is left as it is.',
    )
    .argument('<build>', 'build id (kb-…) or execution ARN (arn:aws:states:…:execution:…)')
    .option(
      '--state-machine <arn>',
      "build state machine, to find a build id's execution (default: $KILN_STATE_MACHINE_ARN, the stack output BuildStateMachineArn)",
    )
    .option('--builds-table <name>', 'builds table (default: $KILN_BUILDS_TABLE, the stack output BuildsTableName)')
    .option(
      '--agent-table <name>',
      'agent gateway table (default: $KILN_AGENT_TABLE, the stack output AgentTableName); without one, agent jobs are not checked',
    )
    .option('--reason <text>', 'the cause recorded on the stopped execution')
    .option('--region <region>', "the stack's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
    .option('--json', 'print JSON for scripts instead of text')
    .action(
      async (
        build: string,
        flags: {
          stateMachine?: string;
          buildsTable?: string;
          agentTable?: string;
          reason?: string;
          region?: string;
          json?: boolean;
        },
      ) => {
        setExit(
          await handlers.buildsCancel(build, {
            json: flags.json === true,
            ...(flags.stateMachine ? { stateMachine: flags.stateMachine } : {}),
            ...(flags.buildsTable ? { buildsTable: flags.buildsTable } : {}),
            ...(flags.agentTable ? { agentTable: flags.agentTable } : {}),
            ...(flags.reason ? { reason: flags.reason } : {}),
            ...(flags.region ? { region: flags.region } : {}),
          }),
        );
      },
    );
}

function addSubmitCommand(program: Command, handlers: VerbHandlers, setExit: (code: number) => void): void {
  program
    .command('submit')
    .description(
      'Build a template in the deployed stack: pack PATH (a folder, or a template file with the files of its ' +
        'folder) as a bundle, validate it locally with the pipeline rules, upload it and the var files under ' +
        'submissions/ of the template bucket and start the build state machine with a direct request (the ' +
        'execution name derives from the content, so a retried submit starts no second build). Prints the ' +
        'execution ARN and build id; --watch follows every build to its artifacts (exit 0 only when all succeeded). ' +
        '-var values are in the execution input (and history): pass secrets in a -var-file.',
    )
    .argument('<path>', 'template file (.pkr.hcl, .pkr.json, .json) or folder')
    .addOption(
      new Option('--var <name=value>', 'set a template variable (repeatable; split on the first "=")').argParser(
        collect,
      ),
    )
    .addOption(
      new Option(
        '--var-file <path>',
        'variable file, uploaded with the bundle (repeatable, applied in order)',
      ).argParser(collect),
    )
    .addOption(
      new Option('--only <names>', 'build only these builds (comma-separated names or globs)').argParser(collect),
    )
    .addOption(new Option('--except <names>', 'skip these builds (comma-separated names or globs)').argParser(collect))
    .option('--watch', 'follow the builds live: one line per stage change per build, then the artifacts')
    .option('--json', 'print JSON for scripts instead of text (with --watch: once, at the end)')
    .option(
      '--state-machine <arn>',
      "build state machine (default: $KILN_STATE_MACHINE_ARN, else the stack's schedule group tags)",
    )
    .option(
      '--bucket <name>',
      "template bucket (default: $KILN_TEMPLATE_BUCKET, else the stack's schedule group tags; --local sets both)",
    )
    .option('--group <name>', "the stack's schedule group, read for the two above (default: kiln)")
    .option('--region <region>', "the stack's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
    .option('--timeout <seconds>', 'stop watching after this long (the build goes on; default 14400)')
    .action(
      async (
        path: string,
        flags: InputFlags & {
          watch?: boolean;
          stateMachine?: string;
          bucket?: string;
          group?: string;
          region?: string;
          timeout?: string;
        },
      ) => {
        const request = toRequest(path, flags);
        const timeout = flags.timeout === undefined ? undefined : Number(flags.timeout);
        if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
          throw new UsageError(`invalid value "${flags.timeout}" for --timeout: a whole number of seconds`);
        }
        setExit(
          await handlers.submit({
            path,
            vars: request.vars ?? [],
            varFiles: request.varFiles ?? [],
            only: request.only ?? [],
            except: request.except ?? [],
            watch: flags.watch === true,
            json: flags.json === true,
            ...(flags.stateMachine ? { stateMachine: flags.stateMachine } : {}),
            ...(flags.bucket ? { bucket: flags.bucket } : {}),
            ...(flags.group ? { group: flags.group } : {}),
            ...(flags.region ? { region: flags.region } : {}),
            ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
          }),
        );
      },
    );
}

interface BuildsReadFlags {
  buildsTable?: string;
  stateMachine?: string;
  artifactsBucket?: string;
  region?: string;
  json?: boolean;
}

function addBuildsReadOptions(command: Command): Command {
  return command
    .option('--builds-table <name>', 'builds table (default: $KILN_BUILDS_TABLE, the stack output BuildsTableName)')
    .option('--region <region>', "the stack's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
    .option('--json', 'print JSON for scripts instead of text');
}

const buildsReadOptions = (flags: BuildsReadFlags): BuildsReadOptions => ({
  json: flags.json === true,
  ...(flags.buildsTable ? { buildsTable: flags.buildsTable } : {}),
  ...(flags.stateMachine ? { stateMachine: flags.stateMachine } : {}),
  ...(flags.artifactsBucket ? { artifactsBucket: flags.artifactsBucket } : {}),
  ...(flags.region ? { region: flags.region } : {}),
});

const STATE_MACHINE_HELP =
  "build state machine, to find a build id's execution (default: $KILN_STATE_MACHINE_ARN, the stack output BuildStateMachineArn)";
const ARTIFACTS_BUCKET_HELP =
  'artifacts bucket (default: $KILN_ARTIFACTS_BUCKET, the stack output ArtifactsBucketName)';

/** `kiln builds list | show | logs` (cli/builds-read.ts); `cancel` is added with the agent commands. */
function addBuildsReadCommands(program: Command, handlers: VerbHandlers, setExit: (code: number) => void): void {
  const builds =
    program.commands.find((c) => c.name() === 'builds') ??
    program.command('builds').description('Builds the pipeline runs (one Step Functions execution each).');
  addBuildsReadOptions(
    builds
      .command('list')
      .description(
        'List builds newest first: id, status, start, duration, template (registry name), trigger, and each ' +
          "build's name (with its error when it failed).",
      )
      .option(
        '--template <template>',
        'only this template: s3://bucket/key (read through the index), its key, or its registry name',
      )
      .option(
        '--status <status>',
        'only these statuses (comma-separated): RUNNING, SUCCEEDED, FAILED, PARTIAL, SKIPPED',
      )
      .option('--limit <n>', 'at most this many (default 20)'),
  ).action(async (flags: BuildsReadFlags & { template?: string; status?: string; limit?: string }) => {
    const limit = flags.limit === undefined ? undefined : Number(flags.limit);
    setExit(
      await handlers.buildsList({
        ...buildsReadOptions(flags),
        ...(flags.template ? { template: flags.template } : {}),
        ...(flags.status ? { status: flags.status } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    );
  });
  addBuildsReadOptions(
    builds
      .command('show')
      .description(
        'Show one build: template location, version and content hash, trigger, variables (sensitive redacted), ' +
          'status, each build with its artifact or error, the manifest, and per-stage timings from the ' +
          "execution's history.",
      )
      .argument('<build>', 'build id (kb-…) or execution ARN (arn:aws:states:…:execution:…)')
      .option('--state-machine <arn>', STATE_MACHINE_HELP)
      .option('--artifacts-bucket <name>', ARTIFACTS_BUCKET_HELP),
  ).action(async (build: string, flags: BuildsReadFlags) => {
    setExit(await handlers.buildsShow(build, buildsReadOptions(flags)));
  });
  addBuildsReadOptions(
    builds
      .command('logs')
      .description(
        "Print a build's provisioner output (stdout and stderr of every step, in order, from the artifacts " +
          "bucket's builds/<id>/logs/), then each failed build's error and the execution's failure cause.",
      )
      .argument('<build>', 'build id (kb-…) or execution ARN')
      .option('--build <name>', 'only this build of the template (amazon-ebs.web)')
      .option('--full', 'print whole outputs (default: the last 20,000 characters of each)')
      .option('--state-machine <arn>', STATE_MACHINE_HELP)
      .option('--artifacts-bucket <name>', ARTIFACTS_BUCKET_HELP),
  ).action(async (build: string, flags: BuildsReadFlags & { build?: string; full?: boolean }) => {
    setExit(
      await handlers.buildsLogs(build, {
        ...buildsReadOptions(flags),
        ...(flags.build ? { build: flags.build } : {}),
        ...(flags.full ? { full: true } : {}),
      }),
    );
  });
}

function addStatusCommand(program: Command, handlers: VerbHandlers, setExit: (code: number) => void): void {
  program
    .command('status')
    .description(
      'The fleet bound now: the cap on builds holding capacity at once (a builder instance or an agent job; ' +
        'stack prop fleet.maxConcurrentBuilds), the slots in use with their holders (build, execution, since ' +
        'when), the builds waiting for a slot, and agents online when the agent table is known.',
    )
    .option('--table <name>', 'fleet table (default: $KILN_FLEET_TABLE, the stack output FleetTableName)')
    .option('--agent-table <name>', 'agent gateway table, to count agents online (default: $KILN_AGENT_TABLE)')
    .option('--region <region>', "the stack's region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
    .option('--json', 'print JSON for scripts instead of text')
    .action(async (flags: { table?: string; agentTable?: string; region?: string; json?: boolean }) => {
      setExit(
        await handlers.status({
          json: flags.json === true,
          ...(flags.table ? { table: flags.table } : {}),
          ...(flags.agentTable ? { agentTable: flags.agentTable } : {}),
          ...(flags.region ? { region: flags.region } : {}),
        }),
      );
    });
}

export function buildProgram(io: CliIO, handlers: VerbHandlers, setExit: (code: number) => void): Command {
  const program = new Command('kiln')
    .description('Kiln: run Packer templates (JSON and HCL2) as a serverless image factory in your AWS account.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nPacker-style single-dash flags are accepted too: kiln validate -var region=us-east-1 -syntax-only x.pkr.hcl' +
        '\n--local (any command, anywhere on the line): run against the local stack that `npm start -- --keep` ' +
        'leaves running (its endpoint, credentials and stack outputs, from .kiln/local-stack.json or $KILN_LOCAL_STACK)',
    );

  addInputOptions(
    program
      .command('validate')
      .description(
        'Check a template the way `packer validate` does: syntax, variables, build/only/except wiring and every ' +
          'builder, provisioner and post-processor configuration. Exit 0 if valid, 1 otherwise.',
      )
      .argument('<path>', 'template file (.json, .pkr.hcl, .pkr.json) or directory of .pkr.hcl files'),
  )
    .option('--syntax-only', 'only check syntax; do not evaluate variables or validate components')
    .option('--pipeline', PIPELINE_HELP)
    .option('--machine-readable', "Packer's machine-readable output: timestamp,target,type,data...")
    .action(async (path: string, flags: InputFlags) => {
      setExit(await handlers.validate({ ...toRequest(path, flags), machineReadable: flags.machineReadable === true }));
    });

  addInputOptions(
    program
      .command('inspect')
      .description(
        'Show what a template declares, like `packer inspect`: variables (sensitive values as <sensitive>), ' +
          'builds, provisioners in run order and post-processor chains.',
      )
      .argument('<path>', 'template file or directory'),
  )
    .option('--machine-readable', "Packer's machine-readable output: timestamp,target,type,data...")
    .action(async (path: string, flags: InputFlags) => {
      setExit(await handlers.inspect({ ...toRequest(path, flags), machineReadable: flags.machineReadable === true }));
    });

  addInputOptions(
    program
      .command('plan')
      .description(
        'Show what each build will create: driver (ec2-ami, ec2-docker or agent), instance type, source AMI or ' +
          'image, AMI name, regions, ECR repository and agent labels. Nothing is created.',
      )
      .argument('<path>', 'template file or directory'),
  )
    .option('--json', 'print the BuildPlan as JSON (sensitive values redacted)')
    .option(
      '--scripts <dir>',
      'also write the exact script each provisioner sends to the builder, one file per build and provisioner ' +
        '(DIR/<build>/<index>-<type>.sh or .ps1), rendered as RunProvisioner renders them; for a docker build the ' +
        "builder host's steps (prepare.sh, <index>-<type>.sh, finish.sh, cleanup.sh) and build-context.txt, the " +
        'files staged as its build context; presigned URLs exist only at run time and appear as ' +
        'KILN_PRESIGNED_GET_URL(<file>) and KILN_PRESIGNED_PUT_URL(<download>) placeholders, the build id as ' +
        'KILN_BUILD_ID, its account and region as 000000000000 and zz-placeholder-1; sensitive values appear redacted',
    )
    .option('--pipeline', PIPELINE_HELP)
    .action(async (path: string, flags: InputFlags & { scripts?: string }) => {
      setExit(
        await handlers.plan({
          ...toRequest(path, flags),
          json: flags.json === true,
          ...(flags.scripts ? { scripts: flags.scripts } : {}),
        }),
      );
    });

  const channels = program
    .command('channels')
    .description(
      'Channels name the artifact of a template build that consumers use (`latest`, `prod`, ...). Each is ' +
        'published to SSM Parameter Store as /kiln/<template>/<build>/<channel>: the AMI id (data type ' +
        'aws:ec2:image, in every region the AMI is in) or the pinned image reference, so launch templates ' +
        '(resolve:ssm:), Terraform and ECS pick it up.',
    );
  addRegistryOptions(
    channels
      .command('promote')
      .description(
        'Assign an artifact to a channel (created on first use) and publish it; the assignment it replaces is ' +
          'kept for rollback. Promoting the artifact the channel holds changes nothing and publishes it again.',
      )
      .argument('<template>', 'template name in the registry')
      .argument('<build>', 'build name (amazon-ebs.ubuntu)')
      .argument('<channel>', 'channel name: letters, digits, _ . - (up to 64)')
      .argument('<artifact>', 'artifact id (ka-…, from `kiln artifacts list`)'),
  ).action(async (template: string, build: string, channel: string, artifact: string, flags: RegistryFlags) => {
    setExit(await handlers.channelsPromote({ template, build, channel, artifact }, registryOptions(flags)));
  });
  addRegistryOptions(
    channels
      .command('rollback')
      .description(
        'Return a channel to the artifact it held before its current one and publish it (one step per call; ' +
          'it fails, changing nothing, when there is no earlier assignment).',
      )
      .argument('<template>', 'template name in the registry')
      .argument('<build>', 'build name')
      .argument('<channel>', 'channel name'),
  ).action(async (template: string, build: string, channel: string, flags: RegistryFlags) => {
    setExit(await handlers.channelsRollback({ template, build, channel }, registryOptions(flags)));
  });
  addRegistryOptions(
    channels
      .command('list')
      .description("List a template's channels: current artifact, version, what rollback returns to, parameter.")
      .argument('<template>', 'template name in the registry'),
  ).action(async (template: string, flags: RegistryFlags) => {
    setExit(await handlers.channelsList(template, registryOptions(flags)));
  });

  const artifacts = program
    .command('artifacts')
    .description('Artifacts the pipeline recorded: AMIs per region, container images, agent artifacts.');
  addRegistryOptions(
    artifacts
      .command('list')
      .description(
        "List a template's artifacts, newest first, with their parent Kiln artifact (lineage) and whether " +
          'that parent has a newer version (outdated).',
      )
      .argument('<template>', 'template name in the registry')
      .option('--build <name>', 'only this build'),
  ).action(async (template: string, flags: RegistryFlags & { build?: string }) => {
    setExit(
      await handlers.artifactsList(template, {
        ...registryOptions(flags),
        ...(flags.build ? { build: flags.build } : {}),
      }),
    );
  });

  addRegistryOptions(
    artifacts
      .command('show')
      .description(
        'Show one artifact: its images per region (with snapshots) or container image, lineage (source, parent, ' +
          'children), the channels holding it, and its status (active, outdated, deprecated, retired, revoked).',
      )
      .argument('<artifact>', 'artifact id (ka-…)'),
  ).action(async (artifactId: string, flags: RegistryFlags) => {
    setExit(await handlers.artifactsShow(artifactId, registryOptions(flags)));
  });
  addRegistryOptions(
    artifacts
      .command('revoke')
      .description(
        'Mark an artifact revoked (who, why, when are recorded) and deprecate its AMIs now in every region; a ' +
          'revoked artifact cannot be promoted or rolled back onto. Channels holding it are not moved (the ' +
          'output names them); ECR images are not deleted.',
      )
      .argument('<artifact>', 'artifact id (ka-…)')
      .requiredOption('--reason <text>', 'why it is revoked (recorded with it)')
      .option('--cascade', 'also revoke every artifact built from it, transitively (its lineage descendants)'),
  ).action(async (artifactId: string, flags: RegistryFlags & { reason: string; cascade?: boolean }) => {
    setExit(
      await handlers.artifactsRevoke(artifactId, {
        ...registryOptions(flags),
        reason: flags.reason,
        cascade: flags.cascade === true,
      }),
    );
  });

  addScheduleCommands(program, handlers, setExit);
  addAgentCommands(program, handlers, setExit);
  addSubmitCommand(program, handlers, setExit);
  addBuildsReadCommands(program, handlers, setExit);
  addStatusCommand(program, handlers, setExit);
  return program;
}

/** Runs `kiln <argv>` against the given IO and returns the process exit code. */
export async function runCli(argv: readonly string[], given: CliIO, handlersGiven?: VerbHandlers): Promise<number> {
  let io = given;
  let local: ReturnType<typeof takeLocalFlag>;
  try {
    local = takeLocalFlag(argv, given.env, given.cwd);
  } catch (error) {
    if (!(error instanceof LocalStackError)) throw error;
    given.err(`Error: ${error.message}\n`);
    return 1;
  }
  if (local.env) {
    io = { ...given, env: { ...given.env, ...local.env } };
    // The AWS SDK reads the endpoint and credentials from the process environment: the binary's is io.env.
    if (given.env === process.env) Object.assign(process.env, local.env);
  }
  const handlers = handlersGiven ?? commandHandlers(io);
  let exitCode = 0;
  const program = buildProgram(io, handlers, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(normalizeArgv(local.argv), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 1 (already printed).
      return error.exitCode;
    }
    if (error instanceof UsageError) {
      io.err(`Error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  return exitCode;
}
