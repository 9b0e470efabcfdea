/**
 * `kiln builds list | show | logs`: the builds table (aws/build-records.ts: template location, version, trigger,
 * variables, status, outcomes, manifest key) joined, for one build, with its Step Functions execution (status,
 * error and cause, per-stage timings derived from GetExecutionHistory by aws/build-timings.ts: the table stores
 * none) and, for `logs`, the provisioner output SSM wrote to the artifacts bucket (`builds/<id>/logs/`, the full
 * output; CloudWatch's provision log group holds the same, kept longer). Tables for people, `--json` for scripts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionDoesNotExist,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { listBuildRecords } from '../aws/build-history.ts';
import { BUILD_STATUSES, type BuildRecord, type BuildStatus } from '../aws/build-records.ts';
import { formatDuration, type StageTiming, stageTimings } from '../aws/build-timings.ts';
import { clientConfig, homeRegion } from '../aws/clients.ts';
import { executionHistory } from '../aws/execution-history.ts';
import { registryTemplateName } from '../aws/image-registry-records.ts';
import { buildPrefix } from '../aws/store-layout.ts';
import { InputInvalidError } from '../core/errors.ts';
import { KILN_ENV } from '../functions/registry.ts';
import { reportError } from './agents.ts';
import { buildsTableOf, resolveBuildTarget, STATE_MACHINE_ENV } from './build-target.ts';
import type { CliIO } from './io.ts';
import { renderTable } from './table.ts';

export interface BuildsReadClients {
  readonly dynamo: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
}
export type BuildsReadConnect = (region: string) => BuildsReadClients;

export const buildsReadFromEnvironment: BuildsReadConnect = (region) => ({
  dynamo: new DynamoDBClient(clientConfig(region)),
  sfn: new SFNClient(clientConfig(region)),
  s3: new S3Client(clientConfig(region)),
});

export interface BuildsReadOptions {
  readonly buildsTable?: string;
  readonly stateMachine?: string;
  readonly artifactsBucket?: string;
  readonly region?: string;
  readonly json: boolean;
}

export interface BuildsListOptions extends BuildsReadOptions {
  readonly template?: string;
  readonly status?: string;
  readonly limit?: number;
}

export const DEFAULT_LIST_LIMIT = 20;
const artifactsBucketOf = (options: BuildsReadOptions, io: CliIO): string | undefined =>
  options.artifactsBucket ?? io.env[KILN_ENV.artifactsBucket];

/** `s3://bucket/key` → the index's template; anything else is matched against key or registry name. */
function templateFilter(template: string | undefined): {
  location?: { bucket: string; key: string };
  matches: (r: BuildRecord) => boolean;
} {
  if (!template) return { matches: () => true };
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(template);
  if (s3) return { location: { bucket: s3[1] as string, key: s3[2] as string }, matches: () => true };
  return {
    matches: (r) => r.template.key === template || registryTemplateName(r.template.key) === template,
  };
}

function statusFilter(status: string | undefined): ((r: BuildRecord) => boolean) | undefined {
  if (!status) return undefined;
  const wanted = status.split(',').map((s) => s.trim().toUpperCase());
  const bad = wanted.filter((s) => !(BUILD_STATUSES as readonly string[]).includes(s));
  if (bad.length > 0) {
    throw new InputInvalidError(`--status ${bad.join(',')}: use one or more of ${BUILD_STATUSES.join(', ')}`);
  }
  return (r) => wanted.includes(r.status as BuildStatus);
}

function elapsed(r: BuildRecord, now: Date): string {
  const end = r.finishedAt ? new Date(r.finishedAt) : now;
  const ms = end.getTime() - new Date(r.createdAt).getTime();
  return Number.isFinite(ms) && ms >= 0 ? `${formatDuration(ms)}${r.finishedAt ? '' : ' so far'}` : '?';
}

export async function runBuildsList(
  options: BuildsListOptions,
  io: CliIO,
  connect: BuildsReadConnect = buildsReadFromEnvironment,
): Promise<number> {
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  try {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InputInvalidError(`--limit ${options.limit}: give a whole number from 1 to 1000`);
    }
    const table = buildsTableOf(options, io);
    const template = templateFilter(options.template);
    const status = statusFilter(options.status);
    const listing = await listBuildRecords(connect(region).dynamo, table, {
      ...(template.location ? { template: template.location } : {}),
      keep: (r) => template.matches(r) && (status ? status(r) : true),
      limit,
    });
    if (options.json) {
      io.out(`${JSON.stringify({ builds: listing.records, partial: listing.partial }, null, 2)}\n`);
      return 0;
    }
    if (listing.records.length === 0) {
      io.out(
        `No builds${options.template || options.status ? ' match' : ''} in ${table} (${region}).${listing.partial ? ' Only part of the table was read: narrow with --template s3://<bucket>/<key>.' : ''}\n`,
      );
      return 0;
    }
    const now = io.now();
    io.out(
      renderTable(
        ['BUILD', 'STATUS', 'STARTED', 'TOOK', 'TEMPLATE', 'TRIGGER', 'BUILDS'],
        listing.records.map((r) => [
          r.buildId,
          r.status,
          r.createdAt.replace(/\.\d+Z$/, 'Z'),
          elapsed(r, now),
          registryTemplateName(r.template.key),
          r.schedule ? `schedule ${r.schedule}` : r.trigger,
          buildsColumn(r),
        ]),
      ),
    );
    if (listing.partial) {
      io.err(
        `Note: the newest builds of the first ${listing.records.length} read; the table has more than one read covers (narrow with --template s3://<bucket>/<key>).\n`,
      );
    }
    return 0;
  } catch (error) {
    return reportError(error, io, region);
  }
}

function buildsColumn(r: BuildRecord): string {
  if (r.prepareFailure) return `not built (${r.prepareFailure.error})`;
  if (r.outcomes)
    return r.outcomes.map((o) => `${o.name}${o.status === 'FAILED' ? ` (${o.error ?? 'failed'})` : ''}`).join(', ');
  return r.builds.map((b) => b.name).join(', ');
}

interface ExecutionView {
  readonly executionArn: string;
  readonly status?: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly timings?: readonly StageTiming[];
  /** Why there are no timings or no status (no state machine ARN, history refused, ...). */
  readonly note?: string;
}

/** show and logs: the build's record (it must exist), its execution when known, clients in its region. */
async function recordedBuild(
  arg: string,
  options: BuildsReadOptions,
  io: CliIO,
  region: string,
  connect: BuildsReadConnect,
) {
  const target = await resolveBuildTarget(
    arg.trim(),
    { record: true, execution: false },
    options,
    io,
    region,
    (r) => connect(r).dynamo,
  );
  return { ...target, clients: connect(target.region) };
}

async function executionView(sfn: SFNClient, executionArn: string, withTimings: boolean): Promise<ExecutionView> {
  let described: DescribeExecutionCommandOutput;
  try {
    described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) {
      return { executionArn, note: 'the execution is gone (Step Functions keeps them 90 days) or the ARN is wrong' };
    }
    return { executionArn, note: `the execution could not be read: ${errorText(error)}` };
  }
  const base = {
    executionArn,
    ...(described.status ? { status: described.status } : {}),
    ...(described.startDate ? { startDate: described.startDate.toISOString() } : {}),
    ...(described.stopDate ? { stopDate: described.stopDate.toISOString() } : {}),
    ...(described.error ? { error: described.error } : {}),
    ...(described.cause ? { cause: described.cause } : {}),
  };
  if (!withTimings) return base;
  try {
    const events = await executionHistory(sfn, executionArn);
    return { ...base, timings: stageTimings(events) };
  } catch (error) {
    return { ...base, note: `per-stage timings unavailable: ${errorText(error)}` };
  }
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export async function runBuildsShow(
  arg: string,
  options: BuildsReadOptions,
  io: CliIO,
  connect: BuildsReadConnect = buildsReadFromEnvironment,
): Promise<number> {
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  try {
    const { record, executionArn, clients } = await recordedBuild(arg, options, io, region, connect);
    const execution = executionArn ? await executionView(clients.sfn, executionArn, true) : undefined;
    const bucket = artifactsBucketOf(options, io);
    const manifest = record.manifestKey
      ? bucket
        ? `s3://${bucket}/${record.manifestKey}`
        : record.manifestKey
      : undefined;
    if (options.json) {
      io.out(
        `${JSON.stringify({ build: record, manifest: manifest ?? null, execution: execution ?? null }, null, 2)}\n`,
      );
      return 0;
    }
    const t = record.template;
    const lines = [
      `Build ${record.buildId}: ${record.status}`,
      `  template    s3://${t.bucket}/${t.key}${t.versionId ? ` (version ${t.versionId})` : ''}  [registry: ${registryTemplateName(t.key)}]`,
      ...(record.fingerprint ? [`  content     sha256 ${record.fingerprint.template.sha256}`] : []),
      `  trigger     ${record.trigger}${record.schedule ? ` (schedule ${record.schedule})` : ''}`,
      ...(record.changeCheck
        ? [`  changes     ${record.changeCheck.changed ? 'changed' : 'unchanged'}: ${record.changeCheck.reason}`]
        : []),
      `  started     ${record.createdAt}`,
      `  finished    ${record.finishedAt ?? '(running)'}  took ${elapsed(record, io.now())}`,
      `  manifest    ${manifest ?? '(none yet)'}`,
      ...(execution
        ? [`  execution   ${execution.executionArn}${execution.status ? ` (${execution.status})` : ''}`]
        : []),
    ];
    io.out(`${lines.join('\n')}\n`);
    if (record.variables?.length) {
      io.out(
        `\nVariables (sensitive values redacted):\n${renderTable(
          ['NAME', 'VALUE', 'SET BY'],
          record.variables.map((v) => [v.name, v.value ?? '(unset)', v.source ?? '']),
        )}`,
      );
    }
    const outcomes = new Map((record.outcomes ?? []).map((o) => [o.name, o]));
    io.out(
      `\nBuilds:\n${renderTable(
        ['BUILD', 'DRIVER', 'STATUS', 'ARTIFACT / ERROR'],
        record.builds.map((b) => {
          const o = outcomes.get(b.name);
          return [b.name, b.driver, o?.status ?? record.status, o ? (o.artifactId ?? o.error ?? '') : ''];
        }),
      )}`,
    );
    if (execution?.timings?.length) {
      io.out(
        `\nStages (from the execution history; runs of parallel builds add up):\n${renderTable(
          ['STAGE', 'KIND', 'RUNS', 'TIME', 'FIRST STARTED'],
          execution.timings.map((s) => [
            s.stage,
            s.kind,
            String(s.runs),
            `${formatDuration(s.totalMs)}${s.open > 0 ? ` (+${s.open} running)` : ''}`,
            s.firstStartedAt,
          ]),
        )}`,
      );
    }
    if (record.prepareFailure) {
      io.out(`\nNot built: PrepareBuild failed: ${record.prepareFailure.error}\n${record.prepareFailure.cause}\n`);
    } else if (execution?.error) {
      io.out(`\nExecution failed: ${execution.error}: ${execution.cause ?? ''}\n`);
    }
    if (execution?.note) io.err(`Note: ${execution.note}\n`);
    if (!executionArn) {
      io.err(
        `Note: no per-stage timings: pass --state-machine <arn> or set ${STATE_MACHINE_ENV} (the stack's BuildStateMachineArn output), or give the execution ARN\n`,
      );
    }
    if (!bucket && record.manifestKey) {
      io.err(
        `Note: the manifest is under that key in the artifacts bucket (--artifacts-bucket or ${KILN_ENV.artifactsBucket})\n`,
      );
    }
    return 0;
  } catch (error) {
    return reportError(error, io, region);
  }
}

/** One provisioner output object: `builds/<id>/logs/<build index>/<step>-<attempt>/<command>/<instance>/.../stdout`. */
interface LogObject {
  readonly key: string;
  readonly buildIndex: number;
  readonly step: number;
  readonly attempt: number;
  readonly stream: string;
  readonly label: string;
}

function logObjectOf(key: string, prefix: string): LogObject | undefined {
  const rest = key.slice(prefix.length).split('/');
  const [index, stepAttempt] = rest;
  const stream = rest.at(-1) ?? '';
  if (!index || !stepAttempt || !/^(stdout|stderr)$/.test(stream)) return undefined;
  const m = /^(\d+)-(\d+)$/.exec(stepAttempt);
  return {
    key,
    buildIndex: Number(index),
    step: m ? Number(m[1]) : -1,
    attempt: m ? Number(m[2]) : 0,
    stream,
    // The key's attempt counts from 0 (functions/lib/provision-cursor.ts); people count tries from 1.
    label: m ? `step ${m[1]}${Number(m[2]) > 0 ? ` (try ${Number(m[2]) + 1})` : ''}` : stepAttempt,
  };
}

/** Longest output printed per object without --full (the end kept: a failure's reason is at the end). */
export const LOG_TAIL_CHARS = 20_000;

export async function runBuildsLogs(
  arg: string,
  options: BuildsReadOptions & { readonly build?: string; readonly full?: boolean },
  io: CliIO,
  connect: BuildsReadConnect = buildsReadFromEnvironment,
): Promise<number> {
  const region = options.region ?? homeRegion(io.env as NodeJS.ProcessEnv);
  try {
    const { record, executionArn, clients } = await recordedBuild(arg, options, io, region, connect);
    const bucket = artifactsBucketOf(options, io);
    if (!bucket) {
      throw new InputInvalidError(
        `the provisioner output is in the artifacts bucket: pass --artifacts-bucket <name> or set ${KILN_ENV.artifactsBucket} (the stack's ArtifactsBucketName output)`,
      );
    }
    const names = new Map(record.builds.map((b) => [b.index, b]));
    if (options.build && !record.builds.some((b) => b.name === options.build)) {
      throw new InputInvalidError(
        `build ${record.buildId} has no build named ${options.build}: it has ${record.builds.map((b) => b.name).join(', ')}`,
      );
    }
    const prefix = `${buildPrefix(record.buildId)}logs/`;
    const objects: LogObject[] = [];
    let token: string | undefined;
    do {
      const out = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of out.Contents ?? []) {
        const parsed = o.Key ? logObjectOf(o.Key, prefix) : undefined;
        if (parsed && (!options.build || names.get(parsed.buildIndex)?.name === options.build)) objects.push(parsed);
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    objects.sort(
      (a, b) =>
        a.buildIndex - b.buildIndex || a.step - b.step || a.attempt - b.attempt || a.stream.localeCompare(b.stream),
    );
    const execution = executionArn ? await executionView(clients.sfn, executionArn, false) : undefined;
    const logs: { build: string; step: string; stream: string; key: string; text: string; truncated: boolean }[] = [];
    for (const o of objects) {
      const body = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
      const text = (await body.Body?.transformToString('utf8')) ?? '';
      const cut = !options.full && text.length > LOG_TAIL_CHARS;
      logs.push({
        build: names.get(o.buildIndex)?.name ?? `build ${o.buildIndex}`,
        step: o.label,
        stream: o.stream,
        key: o.key,
        text: cut ? text.slice(-LOG_TAIL_CHARS) : text,
        truncated: cut,
      });
    }
    const failures = (record.outcomes ?? []).filter((o) => o.status === 'FAILED');
    if (options.json) {
      io.out(
        `${JSON.stringify({ buildId: record.buildId, status: record.status, logs, failures, execution: execution ?? null }, null, 2)}\n`,
      );
      return 0;
    }
    for (const l of logs) {
      if (l.text.trim() === '') continue;
      io.out(
        `==> ${l.build} · ${l.step} · ${l.stream}${l.truncated ? ` (last ${LOG_TAIL_CHARS} characters; --full for all)` : ''}\n`,
      );
      io.out(l.text.endsWith('\n') ? l.text : `${l.text}\n`);
    }
    if (logs.every((l) => l.text.trim() === '')) {
      const agents = record.builds.filter((b) => b.driver === 'agent').map((b) => b.name);
      io.err(
        `No provisioner output under s3://${bucket}/${prefix}${record.status === 'SKIPPED' ? ' (the build was skipped: nothing ran)' : record.prepareFailure ? ' (PrepareBuild failed: nothing ran)' : ''}${agents.length ? `; agent builds (${agents.join(', ')}) keep their output on the agent` : ''} (it expires with builds/: the provision log group in CloudWatch keeps it longer).\n`,
      );
    }
    for (const f of failures) io.out(`==> ${f.name} failed: ${f.error ?? 'failed'}\n`);
    if (record.prepareFailure) {
      io.out(`==> not built: PrepareBuild failed: ${record.prepareFailure.error}\n${record.prepareFailure.cause}\n`);
    } else if (execution?.error)
      io.out(`==> execution ${execution.status}: ${execution.error}: ${execution.cause ?? ''}\n`);
    if (execution?.note) io.err(`Note: ${execution.note}\n`);
    return 0;
  } catch (error) {
    return reportError(error, io, region);
  }
}
