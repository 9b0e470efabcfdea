/**
 * `kiln submit PATH [-var k=v]... [-var-file f]... [-only x] [-except y] [--watch] [--json]`: packs the template
 * (a folder, or a file with the files of its folder) as the bundle PrepareBuild extracts, validates exactly that
 * bundle locally with the pipeline's rules, uploads it and the var files content-addressed under `submissions/` of
 * the template bucket (no upload rule fires there), and starts the build state machine with a direct request
 * (aws/build-input.ts). The execution name derives from the content, so a retried submit finds the same
 * execution instead of starting a second build. `--watch` follows the execution: one line per stage change per
 * build with elapsed time, then each build's artifacts; exit 0 only when every build succeeded.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type BuildInput, parseBuildInput } from '../aws/build-input.ts';
import { clientConfig, homeRegion } from '../aws/clients.ts';
import { executionHistory } from '../aws/execution-history.ts';
import { groupTarget } from '../aws/schedule-store.ts';
import { SCHEDULE_GROUP, ScheduleError } from '../aws/schedules.ts';
import { STACK_OUTPUTS } from '../aws/stack-outputs.ts';
import { STORE_LAYOUT } from '../aws/store-layout.ts';
import { InputInvalidError, KilnError } from '../core/errors.ts';
import { formatDiagnostic } from '../core/template/diagnostics.ts';
import { extractArchive } from '../functions/common/prepare-build/archive.ts';
import { packBuildContext } from '../functions/common/prepare-build/build-context.ts';
import { bundleTemplate, VAR_FILES_FOLDER } from '../functions/common/prepare-build/fetch-template.ts';
import { buildIdFor } from '../functions/common/prepare-build/prepare-build.ts';
import { STATE_MACHINE_ENV } from './builds.ts';
import type { CliIO } from './io.ts';
import { checkTemplate } from './validate.ts';

/** The template bucket for the CLI (the stack output TemplateBucketName; `--local` sets it). */
export const TEMPLATE_BUCKET_ENV = STACK_OUTPUTS.templateBucket.env;

export interface SubmitOptions {
  readonly path: string;
  readonly vars: readonly (readonly [string, string])[];
  readonly varFiles: readonly string[];
  readonly only: readonly string[];
  readonly except: readonly string[];
  readonly watch: boolean;
  readonly json: boolean;
  readonly stateMachine?: string;
  readonly bucket?: string;
  readonly region?: string;
  /** The schedule group whose tags name the state machine and bucket when neither is given. */
  readonly group?: string;
  /** Give up watching after this many seconds (the build goes on). Default: 4 hours. */
  readonly timeoutSeconds?: number;
  /** Poll interval of --watch, milliseconds. Default 2000. */
  readonly pollMs?: number;
}

export interface SubmitClients {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly scheduler: SchedulerClient;
}
export type SubmitConnect = (region: string) => SubmitClients;
export const submitFromEnvironment: SubmitConnect = (region) => ({
  s3: new S3Client(clientConfig(region)),
  sfn: new SFNClient(clientConfig(region)),
  scheduler: new SchedulerClient(clientConfig(region)),
});

/** Folders never packed: version control and dependency caches are not template inputs. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.terraform']);
const HCL_TEMPLATE = /\.pkr\.(hcl|json)$/i;
const VAR_FILE = /\.pkrvars\.(hcl|json)$/i;

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...(await listFiles(root, path)));
    } else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface PackedBundle {
  readonly root: string;
  readonly files: readonly string[];
  /** Top-level files left out because a bundle's root holds one template (a file PATH builds that file alone). */
  readonly leftOut: readonly string[];
  readonly bytes: Buffer;
  /** The bundle's object name: the folder's or the template's name. */
  readonly name: string;
}

/**
 * The bundle of PATH: a folder whole; a file with every file of its folder except the other templates at the top
 * (`packer build web.pkr.hcl` builds that file alone, and a bundle's root holds one legacy `.json` template).
 */
export async function packTemplate(cwd: string, path: string): Promise<PackedBundle> {
  const abs = resolve(cwd, path);
  const info = await stat(abs).catch(() => undefined);
  if (!info) throw new InputInvalidError(`${path}: no such file or folder`);
  const root = info.isDirectory() ? abs : dirname(abs);
  const all = await listFiles(root);
  let files = all;
  let leftOut: string[] = [];
  if (!info.isDirectory()) {
    const chosen = basename(abs);
    const legacy = !HCL_TEMPLATE.test(chosen);
    const rival = (f: string) =>
      f !== chosen && !f.includes('/') && !VAR_FILE.test(f) && (HCL_TEMPLATE.test(f) || (legacy && /\.json$/i.test(f)));
    leftOut = all.filter(rival);
    files = all.filter((f) => !rival(f));
  }
  if (files.length === 0) throw new InputInvalidError(`${path}: the folder holds no file to submit`);
  const bytes = await packBuildContext(root, files);
  const base = info.isDirectory() ? basename(abs) : basename(abs).replace(/\.(pkr\.hcl|pkr\.json|json)$/i, '');
  const name = base.replace(/[^A-Za-z0-9._-]/g, '-') || 'template';
  return { root, files, leftOut, bytes, name };
}

const sha256 = (...parts: readonly (string | Uint8Array)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? `${p.length}:${p}` : p);
  return h.digest('hex');
};

/** Step Functions execution names: 1-80 of letters, digits, `-`, `_`. */
export const submitExecutionName = (contentSha256: string): string => `kiln-submit-${contentSha256.slice(0, 48)}`;

interface Target {
  readonly stateMachineArn: string;
  readonly bucket: string;
}

async function resolveTarget(options: SubmitOptions, io: CliIO, clients: SubmitClients, region: string) {
  let stateMachineArn = options.stateMachine ?? io.env[STATE_MACHINE_ENV];
  let bucket = options.bucket ?? io.env[TEMPLATE_BUCKET_ENV];
  if (!stateMachineArn || !bucket) {
    // The stack's schedule group names both in its tags (as `kiln schedules` reads them).
    const group = options.group ?? SCHEDULE_GROUP;
    try {
      const tags = await groupTarget(clients.scheduler, group, region);
      stateMachineArn ??= tags.stateMachineArn;
      bucket ??= tags.templateBucket;
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      throw new InputInvalidError(
        `cannot tell which stack to submit to: pass --state-machine <arn> and --bucket <name> (or set ${STATE_MACHINE_ENV} and ${TEMPLATE_BUCKET_ENV}: the stack outputs BuildStateMachineArn and TemplateBucketName); ${error.message}`,
      );
    }
  }
  return { stateMachineArn, bucket } as Target;
}

/** Puts an object unless it is there already (content-addressed keys: same key, same bytes); its version id. */
async function putOnce(s3: S3Client, bucket: string, key: string, body: Uint8Array): Promise<string | undefined> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as Error).name === 'NotFound') return undefined;
    throw error;
  });
  if (head) return head.VersionId;
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return put.VersionId;
}

interface BuildOutcome {
  readonly name: string;
  readonly status: string;
  readonly artifactId?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly registry?: { readonly artifactId: string; readonly channelParameter?: string };
}

interface ExecutionResult {
  readonly buildId?: string;
  readonly status?: string;
  readonly manifest?: string;
  readonly skipped?: string | null;
  readonly builds?: readonly BuildOutcome[];
}

export interface StageLine {
  readonly elapsedSeconds: number;
  /** The build the state belongs to (from the Map item's input), absent for the execution's own states. */
  readonly build?: string;
  readonly stage: string;
  /** Seconds the build spent in the stage it leaves. */
  readonly previousSeconds?: number;
}

const STAGE_EVENTS = new Set(['TaskStateEntered', 'MapStateEntered', 'SucceedStateEntered', 'FailStateEntered']);

/** States entered, by build, from the history (the build of a Map state is in its input's `state.name`). */
export function stageChanges(
  events: readonly HistoryEvent[],
  startedAt: Date,
  seen: Map<string, { stage: string; at: number }>,
): StageLine[] {
  const lines: StageLine[] = [];
  for (const event of events) {
    const entered = event.stateEnteredEventDetails;
    // Stages are the tasks (and the end): the Choice and Wait states of a poll loop are not news.
    if (!entered?.name || !event.timestamp || !STAGE_EVENTS.has(event.type ?? '')) continue;
    let build: string | undefined;
    try {
      build = (JSON.parse(entered.input ?? '{}') as { state?: { name?: string } }).state?.name;
    } catch {
      build = undefined;
    }
    const key = build ?? '';
    const at = event.timestamp.getTime();
    const previous = seen.get(key);
    if (previous?.stage === entered.name) continue;
    seen.set(key, { stage: entered.name, at });
    lines.push({
      elapsedSeconds: Math.max(0, Math.round((at - startedAt.getTime()) / 1000)),
      ...(build ? { build } : {}),
      stage: entered.name,
      ...(previous ? { previousSeconds: Math.round((at - previous.at) / 1000) } : {}),
    });
  }
  return lines;
}

export const formatStageLine = (l: StageLine): string =>
  `[${String(l.elapsedSeconds).padStart(5)}s] ${(l.build ?? '(execution)').padEnd(28)} ${l.stage}${
    l.previousSeconds !== undefined ? `  (${l.previousSeconds}s in the previous stage)` : ''
  }`;

interface Watched {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly result?: ExecutionResult;
  readonly stages: StageLine[];
}

/** Follows the execution to its end; the build result is its output, or the input of its final Fail state. */
async function watch(
  sfn: SFNClient,
  executionArn: string,
  options: SubmitOptions,
  onLine: (l: StageLine) => void,
): Promise<Watched> {
  const deadline = Date.now() + (options.timeoutSeconds ?? 4 * 3600) * 1000;
  const seen = new Map<string, { stage: string; at: number }>();
  const stages: StageLine[] = [];
  let consumed = 0;
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const events = await executionHistory(sfn, executionArn);
    for (const l of stageChanges(events.slice(consumed), execution.startDate ?? new Date(), seen)) {
      stages.push(l);
      onLine(l);
    }
    consumed = events.length;
    if (execution.status !== 'RUNNING') {
      const failedInput = [...events].reverse().find((e) => e.stateEnteredEventDetails?.name === 'BuildsFailed')
        ?.stateEnteredEventDetails?.input;
      const text = execution.output ?? failedInput;
      return {
        status: execution.status ?? 'UNKNOWN',
        ...(execution.error ? { error: execution.error } : {}),
        ...(execution.cause ? { cause: execution.cause } : {}),
        ...(text ? { result: JSON.parse(text) as ExecutionResult } : {}),
        stages,
      };
    }
    if (Date.now() > deadline) {
      throw new InputInvalidError(
        `still running after ${options.timeoutSeconds ?? 4 * 3600} s: the build goes on; follow it with the execution ARN`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
  }
}

/** `region:ami-…,region:ami-…` → AMI lines, an image reference, or an agent's artifact, as npm start prints them. */
function artifactLines(b: BuildOutcome): string[] {
  const id = b.artifactId ?? '';
  if (!id) return [];
  if (id.includes('@sha256:')) return [`    image ${id}`];
  if (!/^[a-z0-9-]+:ami-/.test(id)) return [`    artifact ${id}`];
  return id
    .split(',')
    .filter(Boolean)
    .map((a) => {
      const [region, ami] = a.split(':');
      return `    AMI ${ami} in ${region}`;
    });
}

export async function runSubmit(
  options: SubmitOptions,
  io: CliIO,
  connect: SubmitConnect = submitFromEnvironment,
): Promise<number> {
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-submit-'));
  try {
    // 1. Pack, then check the very bundle PrepareBuild will extract, with its rules.
    const bundle = await packTemplate(io.cwd, options.path);
    for (const f of bundle.leftOut) {
      io.err(
        `Note: ${f} is left out of the bundle (another template at the top of the folder; submit the folder to build all of it)\n`,
      );
    }
    const extracted = join(scratch, 'bundle');
    await extractArchive('tar.gz', bundle.bytes, extracted, `${options.path} (bundle)`);
    const templatePath = await bundleTemplate(extracted, options.path);
    const varFilePaths = options.varFiles.map((f) => resolve(io.cwd, f));
    // Where PrepareBuild fetches var files to (inside the template's root), so the same confinement applies.
    const fetched = join(extracted, VAR_FILES_FOLDER);
    await mkdir(fetched, { recursive: true });
    const localVarFiles: string[] = [];
    for (const [n, p] of varFilePaths.entries()) {
      const local = join(fetched, `${n}-${basename(p)}`);
      await copyFile(p, local).catch((error: unknown) => {
        throw new InputInvalidError(`-var-file ${options.varFiles[n]}: ${(error as Error).message}`);
      });
      localVarFiles.push(local);
    }
    const check = await checkTemplate(
      {
        path: templatePath,
        vars: options.vars,
        varFiles: localVarFiles,
        only: options.only,
        except: options.except,
        pipeline: true,
      },
      { cwd: io.cwd, env: {} },
    );
    const shown = (text: string) =>
      varFilePaths
        .reduce((t, p, n) => t.split(localVarFiles[n] as string).join(p), text)
        .split(extracted)
        .join(bundle.root);
    if (check.exitCode !== 0) {
      if (check.failure) io.err(`Error: ${shown(check.failure)}\n`);
      for (const d of check.result?.diagnostics ?? []) {
        if (d.severity === 'error')
          io.err(`${shown(formatDiagnostic(d, check.result ? { sources: check.result.sources } : {}))}\n`);
      }
      io.err('Not submitted: the template is not valid (nothing was uploaded).\n');
      return 1;
    }

    // 2. Upload, content-addressed: the same inputs give the same keys, the same input and the same execution.
    const clients = connect(region);
    const target = await resolveTarget(options, io, clients, region);
    const varFiles = await Promise.all(
      varFilePaths.map(async (p) => ({ name: basename(p), bytes: await readFile(p) })),
    );
    const bundleSha = sha256(bundle.bytes);
    const contentSha256 = sha256(
      bundleSha,
      ...varFiles.flatMap((v) => [v.name, sha256(v.bytes)]),
      JSON.stringify([options.vars, options.only, options.except, target.bucket]),
    );
    const folder = `${STORE_LAYOUT.submissionsPrefix}${contentSha256.slice(0, 32)}/`;
    const key = `${folder}${bundle.name}.tar.gz`;
    const versionId = await putOnce(clients.s3, target.bucket, key, bundle.bytes);
    const varFileKeys: string[] = [];
    for (const [n, v] of varFiles.entries()) {
      const varKey = `${folder}var-files/${n}-${v.name}`;
      await putOnce(clients.s3, target.bucket, varKey, v.bytes);
      varFileKeys.push(varKey);
    }

    // 3. Start, with an input checked against the published schema before it is sent.
    const input: BuildInput = parseBuildInput({
      template: { bucket: target.bucket, key, ...(versionId ? { versionId } : {}) },
      ...(options.vars.length > 0 ? { vars: options.vars.map(([k, v]) => [k, v]) } : {}),
      ...(varFileKeys.length > 0 ? { varFiles: varFileKeys } : {}),
      ...(options.only.length > 0 ? { only: [...options.only] } : {}),
      ...(options.except.length > 0 ? { except: [...options.except] } : {}),
      trigger: { source: 'kiln-submit', contentSha256 },
    });
    const name = submitExecutionName(contentSha256);
    const executionArn = `${target.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    let resubmitted = false;
    try {
      await clients.sfn.send(
        new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, name, input: JSON.stringify(input) }),
      );
    } catch (error) {
      // The same content was submitted before: that execution is this build (nothing new starts).
      if (!(error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists')) throw error;
      resubmitted = true;
    }
    const buildId = buildIdFor(name);
    const started = {
      executionArn,
      executionName: name,
      buildId,
      template: { bucket: target.bucket, key, ...(versionId ? { versionId } : {}) },
      alreadySubmitted: resubmitted,
    };
    if (!options.json) {
      io.out(
        `${resubmitted ? 'Already submitted (same content): ' : 'Submitted '}build ${buildId}\n  execution ${executionArn}\n  template  s3://${target.bucket}/${key}${versionId ? ` (version ${versionId})` : ''}\n`,
      );
    }
    if (!options.watch) {
      if (options.json) io.out(`${JSON.stringify(started, null, 2)}\n`);
      return 0;
    }

    // 4. Watch to the end.
    const done = await watch(clients.sfn, executionArn, options, (l) => {
      if (!options.json) io.out(`${formatStageLine(l)}\n`);
    });
    const result = done.result;
    const builds = result?.builds ?? [];
    const ok =
      done.status === 'SUCCEEDED' &&
      !result?.skipped &&
      builds.length > 0 &&
      builds.every((b) => b.status === 'SUCCEEDED');
    if (options.json) {
      io.out(
        `${JSON.stringify({ ...started, status: done.status, ...(done.error ? { error: done.error, cause: done.cause } : {}), ...(result?.skipped ? { skipped: result.skipped } : {}), ...(result?.manifest ? { manifest: result.manifest } : {}), builds, stages: done.stages }, null, 2)}\n`,
      );
      return ok ? 0 : 1;
    }
    io.out(`Execution ${done.status}${result?.manifest ? `; manifest ${result.manifest}` : ''}\n`);
    if (result?.skipped) io.out(`  nothing was built: ${result.skipped}\n`);
    for (const b of builds) {
      io.out(`  ${b.name}: ${b.status}\n`);
      for (const line of artifactLines(b)) io.out(`${line}\n`);
      if (b.registry)
        io.out(
          `    registry artifact ${b.registry.artifactId}${b.registry.channelParameter ? `, ${b.registry.channelParameter}` : ''}\n`,
        );
      if (b.error) io.out(`    error ${b.error}: ${b.cause ?? ''}\n`);
    }
    if (builds.length === 0 && done.error) io.err(`Error: ${done.error}: ${done.cause ?? ''}\n`);
    return ok ? 0 : 1;
  } catch (error) {
    if (error instanceof KilnError) {
      io.err(`Error: ${error.message}\n`);
      return 1;
    }
    if (error instanceof Error && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT/.test(error.message)) {
      io.err(
        `Error: cannot reach AWS in ${region} (${error.message}): check the network, --region and AWS_ENDPOINT_URL (or --local)\n`,
      );
      return 1;
    }
    if (error instanceof Error && '$metadata' in error) {
      io.err(`Error: AWS ${error.name} in ${region}: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
