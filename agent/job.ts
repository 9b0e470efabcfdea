/**
 * One leased job, start to end: refuse what this agent cannot run (hypervisor missing, bundle not matching its
 * digest or unsafe, local-execution steps), fetch and extract the bundle and the variables into a fresh 0700
 * folder `<workDir>/<jobId>`, run packer there with a scrubbed environment in its own process group, stream its
 * output through heartbeats, stop it on cancel / agent stop / lost lease, then complete (retried: complete is
 * idempotent per lease). The folder, variables included, is removed whatever happens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as z from 'zod/mini';
import {
  type AgentJobVariables,
  agentJobVariablesSchema,
  type CompleteRequest,
  type LeasedJob,
  LIMITS,
} from '../aws/agent-gateway-contract.ts';
import { hypervisorGap, type PackerInstall } from './capabilities.ts';
import { CannotRunError, GatewayResponseError, isRetryable, UploadFailedError } from './errors.ts';
import { entryPath, extractBundle } from './extract.ts';
import type { GatewayClient } from './gateway-client.ts';
import { Heartbeater } from './heartbeat.ts';
import { MachineReadableCollector } from './machine-readable.ts';
import { type JobDirs, jobDirs, packerArgs, packerEnv, writeVariables } from './packer-run.ts';
import { redactor } from './redact.ts';
import { localExecSteps } from './template-scan.ts';
import { uploadArtifactFiles } from './upload.ts';

export interface JobContext {
  readonly client: GatewayClient;
  readonly workDir: string;
  readonly allowLocalExec: boolean;
  /** `--upload-artifacts`: PUT the artifact files through presigned URLs before completing (agent/upload.ts). */
  readonly uploadArtifacts: boolean;
  /** Where packer and the hypervisor CLIs are looked up; packer's PATH. */
  readonly path: string;
  readonly packer: PackerInstall;
  /** Aborted when the agent is told to stop (SIGTERM/SIGINT). */
  readonly stop: AbortSignal;
  /** How long packer gets to clean up after SIGINT before its process group is killed. */
  readonly graceMs: number;
  readonly log: (line: string) => void;
}

export type JobEnd =
  | { readonly status: 'completed'; readonly outcome: CompleteRequest }
  /** The lease was lost or the agent refused: nothing was completed. */
  | { readonly status: 'lost'; readonly error: GatewayResponseError };

const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
export const AGENT_STOPPED_REASON = 'agent stopped: the kiln-agent process was told to stop while running the job';
export const CANCELLED_REASON = 'cancelled in Kiln: packer was interrupted and cleaned up';

const clip = (text: string, max: number = LIMITS.reasonLength) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text || '(no reason given)';
const failed = (kind: 'build-failed' | 'cannot-run' | 'cancelled', reason: string): CompleteRequest => ({
  outcome: 'failed',
  kind,
  reason: clip(reason),
});

/** Downloads `url` to `file`, refusing more than `bytes` bytes; checks the size and sha256 the payload names. */
async function download(url: string, file: string, expected: { sha256: string; bytes: number }, stop: AbortSignal) {
  const res = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), stop]) }).catch(
    (error: unknown) => {
      throw new CannotRunError(`the template bundle could not be downloaded: ${(error as Error).message}`);
    },
  );
  if (!res.ok || !res.body) throw new CannotRunError(`the template bundle download answered HTTP ${res.status}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      bytes += chunk.length;
      hash.update(chunk);
      if (bytes > expected.bytes) {
        callback(new CannotRunError(`the template bundle is larger than the ${expected.bytes} bytes the job names`));
      } else callback(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
    count,
    createWriteStream(file, { mode: 0o600 }),
  );
  const sha256 = hash.digest('hex');
  if (bytes !== expected.bytes || sha256 !== expected.sha256) {
    throw new CannotRunError(
      `the template bundle does not match the job (got ${bytes} bytes sha256 ${sha256}, expected ${expected.bytes} bytes sha256 ${expected.sha256})`,
    );
  }
}

async function fetchVariables(url: string, stop: AbortSignal): Promise<AgentJobVariables> {
  const res = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(60_000), stop]) }).catch(
    (error: unknown) => {
      throw new CannotRunError(`the job's variables could not be downloaded: ${(error as Error).message}`);
    },
  );
  if (!res.ok) throw new CannotRunError(`the job's variables download answered HTTP ${res.status}`);
  const parsed = z.safeParse(agentJobVariablesSchema, await res.json().catch(() => undefined));
  if (!parsed.success) throw new CannotRunError("the job's variables document does not follow the agent contract");
  return parsed.data;
}

/** Everything up to packer: returns the prepared folder's template path, var files and PKR_VAR_ values. */
async function prepare(job: LeasedJob, ctx: JobContext, dirs: JobDirs) {
  const { payload } = job.spec;
  for (const dir of [dirs.template, dirs.home, dirs.tmp, dirs.cache])
    await mkdir(dir, { recursive: true, mode: 0o700 });
  const archive = join(dirs.root, 'bundle.tar.gz');
  await download(job.downloads.bundle, archive, payload.bundle, ctx.stop);
  await extractBundle(archive, dirs.template);
  await rm(archive, { force: true });
  const variables = job.downloads.variables ? await fetchVariables(job.downloads.variables, ctx.stop) : undefined;
  // `.`: an HCL template that is the bundle's whole root folder.
  const template = /^\.\/?$/.test(payload.templatePath)
    ? { path: dirs.template }
    : entryPath(dirs.template, payload.templatePath);
  if ('why' in template) throw new CannotRunError(`the job's template path ${payload.templatePath}: ${template.why}`);
  if (!(await stat(template.path).catch(() => undefined))) {
    throw new CannotRunError(`the template bundle has no ${payload.templatePath}`);
  }
  if (!ctx.allowLocalExec) {
    const local = await localExecSteps(payload.format, template.path);
    if (local.length > 0) {
      throw new CannotRunError(
        `the template has ${local.join(', ')}, which would run commands on the agent's own host: this agent does not allow local execution (start it with --allow-local-exec to permit it)`,
      );
    }
  }
  const prepared = await writeVariables(dirs, payload.format, variables);
  return { ...prepared, redact: variables?.redact ?? [] };
}

type StopReason = 'cancel' | 'agent-stop' | 'lost';

export async function runJob(job: LeasedJob, ctx: JobContext, leasedAt = Date.now()): Promise<JobEnd> {
  const { spec } = job;
  ctx.log(`job ${job.jobId}: build ${spec.buildId} ${spec.build} (attempt ${job.attempt})`);
  // Without the hypervisor the build cannot run here; the job is still prepared and `packer validate`d, so the
  // refusal also says whether the template arrived whole (the gateway only offers such a job on stale capabilities).
  const gap = hypervisorGap(spec.builderType, ctx.path);
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(job.jobId)) {
    return complete(job, ctx, failed('cannot-run', `the job id ${JSON.stringify(job.jobId)} cannot name a folder`));
  }
  const dirs = jobDirs(join(resolve(ctx.workDir), job.jobId));
  let stopReason: StopReason | undefined;
  let lostError: GatewayResponseError | undefined;
  let interrupt: ((reason: StopReason) => void) | undefined;
  const requestStop = (reason: StopReason) => {
    stopReason ??= reason;
    interrupt?.(reason);
  };
  const heart = new Heartbeater(ctx.client, job.jobId, job.credential, job.heartbeatSeconds * 1000, {
    onCancel: () => requestStop('cancel'),
    onLost: (error) => {
      lostError = error;
      requestStop('lost');
    },
    onWarning: (message) => ctx.log(message),
  });
  const onStop = () => requestStop('agent-stop');
  ctx.stop.addEventListener('abort', onStop);
  if (ctx.stop.aborted) onStop();
  heart.start();
  let outcome: CompleteRequest;
  try {
    await rm(dirs.root, { recursive: true, force: true });
    await mkdir(dirs.root, { recursive: true, mode: 0o700 });
    const prepared = await prepare(job, ctx, dirs);
    const redact = redactor(prepared.redact);
    if (stopReason) {
      outcome = stopOutcome(stopReason);
    } else if (gap) {
      const env = packerEnv(dirs, ctx.path, prepared.pkrVars);
      const checked = await validate(ctx, dirs, spec.payload, prepared.varFiles, env);
      for (const line of checked.lines) heart.push(redact(line));
      outcome = failed(
        'cannot-run',
        redact(
          checked.ok
            ? `${gap}; the job's template passed \`packer validate\` on this agent`
            : `${gap}; \`packer validate\` of the job's template also failed: ${checked.reason}`,
        ),
      );
    } else {
      const env = packerEnv(dirs, ctx.path, prepared.pkrVars);
      const args = packerArgs(spec.payload, prepared.varFiles);
      const collector = new MachineReadableCollector();
      const stderrTail: string[] = [];
      const child = spawn(ctx.packer.path, args, {
        cwd: dirs.template,
        env,
        // Its own process group: SIGINT reaches packer and its plugins, not the agent (and not the other way).
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const started = Date.now();
      ctx.log(`job ${job.jobId}: packer started ${started - leasedAt} ms after the lease (pid ${child.pid})`);
      interrupt = stopper(child, ctx.graceMs, ctx.log);
      if (stopReason) interrupt(stopReason);
      const exited = new Promise<number | null>((res, rej) => {
        child.once('error', rej);
        child.once('close', (code) => res(code));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        for (const out of collector.feed(line)) heart.push(redact(out));
        heart.setProgress(collector.progress() && redact(collector.progress() ?? ''));
      });
      createInterface({ input: child.stderr }).on('line', (line) => {
        heart.push(redact(line));
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
      });
      const code = await exited;
      ctx.log(`job ${job.jobId}: packer exited ${code} after ${Date.now() - started} ms`);
      if (stopReason) outcome = stopOutcome(stopReason);
      else if (code === 0 && collector.buildsFinished().length === 0) {
        // packer 1.6 exits 0 when -only matches no build: a build that did nothing is not a success.
        outcome = failed(
          'build-failed',
          `packer ran no build: -only=${spec.payload.only} matched no build of the template`,
        );
      } else if (code === 0) {
        const artifacts = await artifactsOf(collector, dirs.template);
        outcome = ctx.uploadArtifacts
          ? await upload(job, ctx, dirs, artifacts, (stop) => {
              interrupt = stop;
              if (stopReason) stop();
            })
          : { outcome: 'succeeded', artifacts };
        if (stopReason) outcome = stopOutcome(stopReason);
      } else {
        const why = collector.failureReason() ?? (stderrTail.join('\n') || `packer exited with code ${code}`);
        outcome = failed('build-failed', redact(why));
      }
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    outcome = stopReason
      ? stopOutcome(stopReason)
      : gap
        ? failed('cannot-run', `${gap} (the job could not be prepared either: ${message})`)
        : failed(
            'cannot-run',
            error instanceof CannotRunError ? message : `the agent could not run the job: ${message}`,
          );
  } finally {
    ctx.stop.removeEventListener('abort', onStop);
    await rm(dirs.root, { recursive: true, force: true }).catch((e: unknown) =>
      ctx.log(`job ${job.jobId}: could not remove ${dirs.root}: ${(e as Error).message}`),
    );
  }
  if (stopReason === 'lost' && lostError) {
    heart.stop();
    ctx.log(`job ${job.jobId}: lease lost, not completing (${lostError.message})`);
    return { status: 'lost', error: lostError };
  }
  await heart.finish();
  if (lostError) return { status: 'lost', error: lostError };
  return complete(job, ctx, outcome);
}

/** Uploads the artifact files (heartbeats go on meanwhile); a failed upload fails the build with its reason. */
async function upload(
  job: LeasedJob,
  ctx: JobContext,
  dirs: JobDirs,
  artifacts: Awaited<ReturnType<typeof artifactsOf>>,
  onInterrupt: (stop: () => void) => void,
): Promise<CompleteRequest> {
  const aborter = new AbortController();
  onInterrupt(() => aborter.abort());
  try {
    const uploaded = await uploadArtifactFiles(artifacts, job, {
      client: ctx.client,
      templateDir: dirs.template,
      signal: aborter.signal,
      log: ctx.log,
    });
    return { outcome: 'succeeded', artifacts: uploaded };
  } catch (error) {
    if (!(error instanceof UploadFailedError)) throw error;
    return failed('build-failed', `packer succeeded but the artifact upload failed: ${error.message}`);
  }
}

/** `packer validate` of the prepared job (no build runs): whether the template arrived whole and valid. */
async function validate(
  ctx: JobContext,
  dirs: JobDirs,
  payload: LeasedJob['spec']['payload'],
  varFiles: readonly string[],
  env: Record<string, string>,
): Promise<{ ok: boolean; reason: string; lines: string[] }> {
  const args = [
    'validate',
    '-machine-readable',
    `-only=${payload.only}`,
    ...varFiles.map((f) => `-var-file=${f}`),
    payload.templatePath,
  ];
  const child = spawn(ctx.packer.path, args, {
    cwd: dirs.template,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  const collector = new MachineReadableCollector();
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(...collector.feed(line)));
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
  const code = await new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', (c) => res(c));
  });
  return { ok: code === 0, reason: collector.failureReason() ?? (lines.join('\n') || `exit ${code}`), lines };
}

function stopOutcome(reason: StopReason): CompleteRequest {
  return reason === 'agent-stop' ? failed('cancelled', AGENT_STOPPED_REASON) : failed('cancelled', CANCELLED_REASON);
}

/** SIGINT to packer's group (packer cancels and cleans up its VM), SIGKILL after the grace period. */
function stopper(child: ChildProcess, graceMs: number, log: (line: string) => void): (reason: StopReason) => void {
  let sent = false;
  return (reason) => {
    if (sent || child.pid === undefined || child.exitCode !== null) return;
    sent = true;
    log(`packer (pid ${child.pid}): interrupting (${reason}), ${graceMs} ms to clean up`);
    const group = -child.pid;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(group, sig);
      } catch {
        // already gone
      }
    };
    signal('SIGINT');
    const kill = setTimeout(() => signal('SIGKILL'), graceMs);
    child.once('close', () => clearTimeout(kill));
  };
}

async function artifactsOf(collector: MachineReadableCollector, cwd: string) {
  const artifacts = collector.result().slice(0, LIMITS.artifacts);
  return Promise.all(
    artifacts.map(async (a) => ({
      builderId: a.builderId.slice(0, 256),
      artifactId: a.artifactId.slice(0, 2048),
      files: await Promise.all(
        a.files.slice(0, 1000).map(async ({ name }) => {
          const size = await stat(resolve(cwd, name)).then(
            (s) => (s.isFile() ? s.size : undefined),
            () => undefined,
          );
          return { name: name.slice(0, 1024), ...(size === undefined ? {} : { size }) };
        }),
      ),
    })),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Completes the job, retrying what did not reach the gateway (complete is idempotent per lease). */
async function complete(job: LeasedJob, ctx: JobContext, outcome: CompleteRequest): Promise<JobEnd> {
  let delay = 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await ctx.client.complete(job.jobId, job.credential, outcome);
      const what = outcome.outcome === 'succeeded' ? 'succeeded' : `${outcome.kind}: ${outcome.reason}`;
      ctx.log(`job ${job.jobId}: completed ${answer.status} (${what})`);
      return { status: 'completed', outcome };
    } catch (error) {
      if (isRetryable(error) && attempt < 10) {
        ctx.log(`job ${job.jobId}: complete did not go through, retrying in ${delay} ms: ${(error as Error).message}`);
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      if (error instanceof GatewayResponseError) {
        ctx.log(`job ${job.jobId}: complete refused (${error.code}): ${error.message}`);
        return { status: 'lost', error };
      }
      throw error;
    }
  }
}
