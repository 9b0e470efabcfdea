/**
 * The real `kiln-agent` process (agent/main.ts through tsx; the first case runs the bundle) against an in-test
 * HTTP server that implements the agent contract with the real gateway operations
 * (functions/agent-gateway/lib/gateway.ts and its http.ts adapter) on moto's DynamoDB, Step Functions recorded by
 * aws-sdk-client-mock, and the real packer (/usr/bin/packer, 1.6.6) on null/file-builder templates: success with
 * artifacts (JSON, and an HCL2 folder with PKR_VAR_ values), a failing provisioner (Kiln.AgentBuildFailed,
 * redacted), cancel through the heartbeat answer, SIGTERM mid-build, a lease lost under a running build, backoff
 * while the gateway is unreachable, an agent killed mid-job whose job the sweep re-offers to a second agent, the
 * vmware reference template refused by the agent itself and by the gateway's matching, a shell-local template
 * refused, and a revoked agent exiting 3.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as tar from 'tar-stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentJobVariables,
  acquireRequestSchema,
  completeRequestSchema,
  deregisterRequestSchema,
  type EnqueueJobInput,
  heartbeatRequestSchema,
  registerRequestSchema,
  uploadsRequestSchema,
} from '../../aws/agent-gateway-contract.ts';
import { createRegistrationToken, getJob, requestCancel, setAgentStatus } from '../../aws/agent-gateway-store.ts';
import {
  acquire,
  complete,
  deregister,
  enqueue,
  type GatewayDeps,
  heartbeat,
  register,
  sweep,
  uploads,
} from '../../functions/agent-gateway/lib/gateway.ts';
import { type GatewayHandler, httpRoute, jobIdOf } from '../../functions/agent-gateway/lib/http.ts';
import { LOCAL_REGION, localClientConfig } from '../../harness/clients.ts';
import { VMWARE_REFERENCE as VMWARE_REFERENCE_FILE } from '../../harness/example.ts';
import { type MotoServer, startMoto } from '../../harness/moto.ts';
import { buildAgent } from '../../scripts/build-agent.ts';
import { gatewayHarness, type Harness } from './agent-gateway-fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The project's Node 22, as users run the agent. */
const NODE = join(ROOT, 'node_modules/.bin/node');
const HEARTBEAT_SECONDS = 2;

let moto: MotoServer;
let h: Harness;
let deps: GatewayDeps;
let server: Server;
let base: string;
let work: string;
/** dist/kiln-agent.mjs as scripts/build-agent.ts builds it, in a folder with no node_modules above it. */
let bundle: string;
let bundleDir: string;
const objects = new Map<string, Buffer>();
const agents: Agent[] = [];
const strayGroups: number[] = [];

// --- the gateway on loopback ------------------------------------------------------------------------------

const ROUTES: { method: string; path: RegExp; handler: () => GatewayHandler }[] = [
  {
    method: 'POST',
    path: /^\/agents\/register$/,
    handler: () => httpRoute(registerRequestSchema, ({ body }) => register(deps, body)),
  },
  {
    method: 'POST',
    path: /^\/agents\/deregister$/,
    handler: () => httpRoute(deregisterRequestSchema, ({ authorization }) => deregister(deps, authorization)),
  },
  {
    method: 'POST',
    path: /^\/jobs\/acquire$/,
    handler: () => httpRoute(acquireRequestSchema, ({ body, authorization }) => acquire(deps, authorization, body)),
  },
  {
    method: 'POST',
    path: /^\/jobs\/(?<jobId>[^/]+)\/heartbeat$/,
    handler: () => httpRoute(heartbeatRequestSchema, (r) => heartbeat(deps, r.authorization, jobIdOf(r), r.body)),
  },
  {
    method: 'POST',
    path: /^\/jobs\/(?<jobId>[^/]+)\/complete$/,
    handler: () => httpRoute(completeRequestSchema, (r) => complete(deps, r.authorization, jobIdOf(r), r.body)),
  },
  {
    method: 'POST',
    path: /^\/jobs\/(?<jobId>[^/]+)\/uploads$/,
    handler: () => httpRoute(uploadsRequestSchema, (r) => uploads(deps, r.authorization, jobIdOf(r), r.body)),
  },
];
/** Uploads go to moto's S3, through URLs presigned as the uploads function presigns them (Content-Length signed). */
const ARTIFACTS_BUCKET = 'kiln-artifacts';

function startServer(): Promise<void> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname.startsWith('/objects/')) {
        const body = objects.get(decodeURIComponent(url.pathname.slice('/objects/'.length)));
        res.writeHead(body ? 200 : 404).end(body ?? 'no such object');
        return;
      }
      const route = ROUTES.find((r) => r.method === req.method && r.path.test(url.pathname));
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      const jobId = route.path.exec(url.pathname)?.groups?.jobId;
      const out = await route.handler()({
        headers: req.headers as Record<string, string>,
        body: Buffer.concat(chunks).toString('utf8'),
        isBase64Encoded: false,
        pathParameters: jobId ? { jobId: decodeURIComponent(jobId) } : null,
      });
      res.writeHead(out.statusCode, out.headers as Record<string, string>).end(out.body);
    });
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => {
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      ok();
    }),
  );
}

// --- the agent process ------------------------------------------------------------------------------------

interface Agent {
  readonly child: ChildProcess;
  readonly config: string;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
}

/** The agent from its sources (tsx), or from the bundle (`useBundle`), run outside the repository. */
function spawnAgent(args: string[], env: Record<string, string> = {}, useBundle = false): Agent {
  const config = env.KILN_AGENT_CONFIG ?? join(work, 'config.json');
  const argv = useBundle ? [bundle, ...args] : ['--import', 'tsx', 'agent/main.ts', ...args];
  const child = spawn(NODE, argv, {
    cwd: useBundle ? bundleDir : ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: work, KILN_AGENT_CONFIG: config, ...env },
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const agent: Agent = {
    child,
    config,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match;
        if (Date.now() > until || child.exitCode !== null) {
          throw new Error(`no ${pattern} in the agent's output (exit ${child.exitCode}):\n${out}`);
        }
        await sleep(50);
      }
    },
  };
  agents.push(agent);
  return agent;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers with `kiln-agent register` and a fresh token; returns the config path. */
async function registerAgent(
  name: string,
  env: Record<string, string> = {},
  useBundle = false,
  flags: string[] = [],
): Promise<string> {
  const config = join(work, `${name}.json`);
  const { token } = await createRegistrationToken(deps.store, { labels: [] });
  const agent = spawnAgent(
    ['register', '--url', base, '--token', token, '--name', name, '--work-dir', join(work, name), ...flags],
    { KILN_AGENT_CONFIG: config, ...env },
    useBundle,
  );
  expect(await agent.exited, agent.output()).toBe(0);
  return config;
}

/** `kiln-agent run` with the agent registered as `config`, waiting until it polls. */
async function runAgent(
  config: string,
  args: string[] = [],
  env: Record<string, string> = {},
  useBundle = false,
): Promise<Agent> {
  const agent = spawnAgent(['run', '--grace-seconds', '10', ...args], { KILN_AGENT_CONFIG: config, ...env }, useBundle);
  await agent.waitFor(/waiting for jobs/);
  return agent;
}

// --- jobs -------------------------------------------------------------------------------------------------

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

let jobs = 0;
/** A JSON template (an object), or an HCL folder (`{ hcl: files }`, built from the bundle's root). */
async function enqueueTemplate(
  template: object | { hcl: Record<string, string> },
  options: { builderType?: string; only?: string; variables?: AgentJobVariables } = {},
): Promise<{ jobId: string; taskToken: string }> {
  const n = ++jobs;
  const hcl = 'hcl' in template ? (template.hcl as Record<string, string>) : undefined;
  const bundle = await tarGz(hcl ?? { 'template.json': JSON.stringify(template) });
  const key = `builds/b-${n}/files/.kiln/agent-template.tar.gz`;
  objects.set(key, bundle);
  const variablesKey = options.variables ? `builds/b-${n}/agent-variables.json` : undefined;
  if (variablesKey) objects.set(variablesKey, Buffer.from(JSON.stringify(options.variables)));
  const builderType = options.builderType ?? 'null';
  const input: EnqueueJobInput = {
    taskToken: `task-token-${n}-${'x'.repeat(40)}`,
    buildId: `b-${n}`,
    build: `${builderType}.example`,
    builderType,
    labels: [],
    payload: {
      version: 1,
      format: hcl ? 'hcl' : 'json',
      templatePath: hcl ? '.' : 'template.json',
      // packer 1.6 matches a JSON template's build by its name (`example`), not `null.example`.
      only: options.only ?? 'example',
      bundle: { key, sha256: createHash('sha256').update(bundle).digest('hex'), bytes: bundle.length },
      ...(variablesKey ? { variablesKey } : {}),
    },
  };
  const { jobId } = await enqueue(deps, input);
  return { jobId, taskToken: input.taskToken };
}

/** The second reference template, unchanged: the repository's copy of ../shared/examples/vmware-ubuntu-apache.json. */
const VMWARE_REFERENCE = JSON.parse(readFileSync(VMWARE_REFERENCE_FILE, 'utf8')) as object;
const HCL_BUILD =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation, not a JS template
  'source "file" "example" {\n  content = "${var.greeting} x${var.times + 1}"\n  target  = "out/hello.txt"\n}\nbuild {\n  sources = ["source.file.example"]\n}\n';
const nullBuilder = { type: 'null', name: 'example', communicator: 'none' };
/** A shell provisioner with communicator none fails when it uploads its script, after start_retry_timeout. */
const shellProvisioner = (retry: string) => ({ type: 'shell', inline: ['echo hi'], start_retry_timeout: retry });

async function taskAnswer(taskToken: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const success = h.sfn.commandCalls(SendTaskSuccessCommand).find((c) => c.args[0].input.taskToken === taskToken);
    if (success) return { success: JSON.parse(success.args[0].input.output ?? 'null') };
    const failure = h.sfn.commandCalls(SendTaskFailureCommand).find((c) => c.args[0].input.taskToken === taskToken);
    if (failure) return { failure: failure.args[0].input };
    if (Date.now() > until) throw new Error(`no task answer for ${taskToken}`);
    await sleep(100);
  }
}

const packerPid = async (agent: Agent) => Number((await agent.waitFor(/packer started .* \(pid (\d+)\)/))[1]);

// --- lifecycle --------------------------------------------------------------------------------------------

beforeAll(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'kiln-agent-bundle-'));
  [moto, bundle] = await Promise.all([startMoto(), buildAgent(bundleDir)]);
  await startServer();
}, 60_000);
afterAll(async () => {
  rmSync(bundleDir, { recursive: true, force: true });
  await new Promise((ok) => server?.close(ok));
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  h = await gatewayHarness(
    moto.endpoint,
    { heartbeatSeconds: HEARTBEAT_SECONDS, maxAttempts: 2, queueTimeoutSeconds: 3 },
    { pollIntervalMs: 200 },
  );
  const s3 = new S3Client(localClientConfig(moto.endpoint, LOCAL_REGION));
  deps = {
    ...h.deps,
    presignGet: async (key) => `${base}/objects/${encodeURIComponent(key)}`,
    presignPut: (key, bytes, expiresIn) =>
      getSignedUrl(s3, new PutObjectCommand({ Bucket: ARTIFACTS_BUCKET, Key: key, ContentLength: bytes }), {
        expiresIn,
      }),
  };
  work = mkdtempSync(join(tmpdir(), 'kiln-agent-it-'));
  objects.clear();
});
afterEach(async () => {
  for (const agent of agents.splice(0)) {
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  }
  for (const pgid of strayGroups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

// --- cases ------------------------------------------------------------------------------------------------

describe('kiln-agent with real packer', () => {
  it('runs a file build with its variables and reports the artifacts, then exits (--once; the bundle)', async () => {
    const config = await registerAgent('one', {}, true);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const agent = await runAgent(config, ['--once'], {}, true);
    const enqueuedAt = Date.now();
    const { taskToken } = await enqueueTemplate(
      {
        variables: { greeting: null },
        builders: [{ type: 'file', name: 'example', content: '{{user `greeting`}}', target: 'out/hello.txt' }],
      },
      { builderType: 'file', variables: { varFiles: [], vars: [['greeting', 'hello from kiln']], redact: [] } },
    );
    const answer = await taskAnswer(taskToken);
    expect(answer.success?.artifacts).toEqual([
      // The size proves the variable reached packer through the var file.
      {
        builderId: 'packer.file',
        artifactId: 'File',
        files: [{ name: 'out/hello.txt', size: 'hello from kiln'.length }],
      },
    ]);
    expect(await agent.exited).toBe(0);
    const started = /^(\S+) job \S+: packer started (\d+) ms after the lease/m.exec(agent.output()) ?? [];
    const latency = Number(started[2]);
    const dispatch = Date.parse(started[1] ?? '') - enqueuedAt;
    const took = Number((/packer exited 0 after (\d+) ms/.exec(agent.output()) ?? [])[1]);
    console.log(
      `kiln-agent: enqueue → packer start ${dispatch} ms (held poll re-looks every 200 ms); lease → packer start ${latency} ms; packer file build ${took} ms`,
    );
    expect(dispatch).toBeGreaterThan(0);
    expect(latency).toBeLessThan(5000);
    // The job folder, variables included, is gone.
    expect(readdirSync(join(work, 'one'))).toEqual([]);
    expect(h.logs.flatMap((l) => l.lines.map((x) => x.line))).toContain('--> example: Stored file: out/hello.txt');
  });

  it('runs an HCL2 folder: -var pairs as PKR_VAR_ typed by packer, var files as files', async () => {
    const config = await registerAgent('hcl');
    const agent = await runAgent(config, ['--once']);
    const { taskToken } = await enqueueTemplate(
      {
        hcl: {
          'variables.pkr.hcl': 'variable "greeting" {\n  type = string\n}\nvariable "times" {\n  type = number\n}\n',
          'build.pkr.hcl': HCL_BUILD,
        },
      },
      {
        builderType: 'file',
        only: 'file.example',
        variables: {
          varFiles: [{ name: 'site.json', content: '{"times": 2}' }],
          vars: [['greeting', 'hello']],
          redact: [],
        },
      },
    );
    const answer = await taskAnswer(taskToken);
    // "hello x3": the PKR_VAR_ string and the var file's number (typed: 2 + 1) reached packer.
    expect(answer.success?.artifacts).toEqual([
      { builderId: 'packer.file', artifactId: 'File', files: [{ name: 'out/hello.txt', size: 'hello x3'.length }] },
    ]);
    expect(await agent.exited).toBe(0);
  });

  it('uploads the artifact files through presigned URLs with --upload-artifacts (kept in the config), not with --no-upload-artifacts', async () => {
    const s3 = new S3Client(localClientConfig(moto.endpoint, LOCAL_REGION));
    await s3.send(new CreateBucketCommand({ Bucket: ARTIFACTS_BUCKET }));
    const config = await registerAgent('up', {}, false, ['--upload-artifacts']);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toMatchObject({ uploadArtifacts: true });
    const notes = 'Release 1.2\n- uploads from self-hosted agents\n';
    const template = {
      variables: { notes: null },
      builders: [{ type: 'file', name: 'example', content: '{{user `notes`}}', target: 'out/release-notes.txt' }],
    };
    const options = {
      builderType: 'file',
      variables: { varFiles: [], vars: [['notes', notes]] as [string, string][], redact: [] },
    };
    const agent = await runAgent(config, ['--once']);
    const first = await enqueueTemplate(template, options);
    const answer = await taskAnswer(first.taskToken);
    // A failure's cause says why (it is the assertion to read when this fails).
    expect(answer.failure?.cause).toBeUndefined();
    const key = `agent-artifacts/b-${jobs}/file.example/out/release-notes.txt`;
    expect(answer.success?.artifacts).toEqual([
      {
        builderId: 'packer.file',
        artifactId: 'File',
        files: [{ name: 'out/release-notes.txt', size: notes.length, key }],
      },
    ]);
    const object = await s3.send(new GetObjectCommand({ Bucket: ARTIFACTS_BUCKET, Key: key }));
    expect(await object.Body?.transformToString()).toBe(notes);
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toMatch(new RegExp(`uploaded out/release-notes.txt \\(${notes.length} bytes\\) to ${key}`));

    // The run flag overrides the config: nothing leaves the host, the files carry no key.
    const quiet = await runAgent(config, ['--once', '--no-upload-artifacts']);
    const second = await enqueueTemplate(template, options);
    const plain = await taskAnswer(second.taskToken);
    expect(plain.success?.artifacts).toEqual([
      { builderId: 'packer.file', artifactId: 'File', files: [{ name: 'out/release-notes.txt', size: notes.length }] },
    ]);
    const absent = await s3
      .send(
        new GetObjectCommand({
          Bucket: ARTIFACTS_BUCKET,
          Key: `agent-artifacts/b-${jobs}/file.example/out/release-notes.txt`,
        }),
      )
      .then(
        () => 'found',
        (e: Error) => e.name,
      );
    expect(absent).toBe('NoSuchKey');
    expect(await quiet.exited).toBe(0);
    expect(quiet.output()).not.toContain('uploaded');
  });

  it('reports a failing provisioner as Kiln.AgentBuildFailed with packer error, sensitive values redacted', async () => {
    const config = await registerAgent('two');
    await runAgent(config, ['--once']);
    const { taskToken } = await enqueueTemplate(
      { builders: [nullBuilder], provisioners: [shellProvisioner('1s')] },
      { variables: { varFiles: [], vars: [], redact: ['not implemented'] } },
    );
    const { failure } = await taskAnswer(taskToken);
    expect(failure?.error).toBe('Kiln.AgentBuildFailed');
    expect(failure?.cause).toMatch(
      /^agent ag-.*: Error uploading script: Upload is <sensitive> when communicator = 'none'$/,
    );
    const lines = h.logs.flatMap((l) => l.lines.map((x) => x.line));
    expect(lines.some((l) => l.includes('<sensitive>'))).toBe(true);
    expect(lines.some((l) => l.includes('not implemented'))).toBe(false);
  });

  it('stops packer when the heartbeat answers cancel, and completes the job cancelled', async () => {
    const config = await registerAgent('three');
    const agent = await runAgent(config, ['--once']);
    const { jobId, taskToken } = await enqueueTemplate({
      builders: [nullBuilder],
      provisioners: [shellProvisioner('60s')],
    });
    strayGroups.push(await packerPid(agent));
    const asked = Date.now();
    await requestCancel(deps.store, jobId);
    const { failure } = await taskAnswer(taskToken);
    expect(failure?.error).toBe('Kiln.BuildCancelled');
    expect(failure?.cause).toContain('cancelled in Kiln');
    expect(Date.now() - asked).toBeLessThan(HEARTBEAT_SECONDS * 1000 + 5000);
    expect(await agent.exited).toBe(0);
    expect((await getJob(deps.store, jobId))?.status).toBe('CANCELLED');
  });

  it('on SIGTERM mid-build interrupts packer, completes "agent stopped" and exits 0', async () => {
    const config = await registerAgent('four');
    const agent = await runAgent(config);
    const { taskToken } = await enqueueTemplate({ builders: [nullBuilder], provisioners: [shellProvisioner('60s')] });
    strayGroups.push(await packerPid(agent));
    agent.child.kill('SIGTERM');
    const { failure } = await taskAnswer(taskToken);
    expect([failure?.error, failure?.cause]).toEqual(['Kiln.BuildCancelled', expect.stringContaining('agent stopped')]);
    expect(await agent.exited).toBe(0);
  });

  it('stops packer without completing when a heartbeat finds the lease lost (re-offered meanwhile)', async () => {
    const agent = await runAgent(await registerAgent('lost'), ['--once']);
    const { jobId, taskToken } = await enqueueTemplate({
      builders: [nullBuilder],
      provisioners: [shellProvisioner('60s')],
    });
    const pid = await packerPid(agent);
    strayGroups.push(pid);
    // The store's clock past the lease: the sweep re-offers the job (a new lease, a new credential).
    h.setClock(new Date(Date.now() + 60_000));
    expect((await sweep(deps)).reoffered).toEqual([jobId]);
    h.setClock(undefined);
    await agent.waitFor(/lease lost, not completing/);
    expect(await agent.exited).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(h.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(h.sfn.commandCalls(SendTaskFailureCommand).filter((c) => c.args[0].input.taskToken === taskToken)).toEqual(
      [],
    );
    expect((await getJob(deps.store, jobId))?.status).toBe('QUEUED');
  });

  it('backs off while the gateway is unreachable and stops when told', async () => {
    const config = await registerAgent('offline');
    const saved = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    // A port nothing listens on (the gateway server's, closed after a listen).
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    writeFileSync(config, JSON.stringify({ ...saved, url: `http://127.0.0.1:${port}` }), { mode: 0o600 });
    const agent = spawnAgent(['run'], { KILN_AGENT_CONFIG: config });
    await agent.waitFor(
      /acquire failed, retrying in 2 s: the gateway at .* did not answer \/jobs\/acquire: .*ECONNREFUSED/,
      10_000,
    );
    expect(agent.output()).toMatch(/retrying in 1 s[\s\S]*retrying in 2 s/);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('re-offers the job of an agent killed mid-job to a second agent, which completes it', async () => {
    const slow = {
      builders: [nullBuilder],
      provisioners: [{ type: 'shell-local', inline: ['sleep 4'] }],
    };
    const first = await runAgent(await registerAgent('first'), ['--allow-local-exec']);
    const { jobId, taskToken } = await enqueueTemplate(slow);
    strayGroups.push(await packerPid(first));
    first.child.kill('SIGKILL');
    await first.exited;
    // The lease (3 heartbeat windows) runs out, then the sweep offers the job again.
    const until = Date.now() + HEARTBEAT_SECONDS * 3000 + 5000;
    let report = await sweep(deps);
    while (!report.reoffered.includes(jobId)) {
      expect(Date.now()).toBeLessThan(until);
      await sleep(500);
      report = await sweep(deps);
    }
    const second = await runAgent(await registerAgent('second'), ['--once', '--allow-local-exec']);
    const answer = await taskAnswer(taskToken);
    expect(answer.success).toMatchObject({ jobId, attempt: 2, artifacts: [{ builderId: 'fnoeding.null' }] });
    expect(second.output()).toContain(`job ${jobId}`);
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('refuses a vmware job without vmrun (agent check, then gateway matching) and a shell-local template', async () => {
    // vmrun is there at registration and in the first poll's capabilities, then goes: the held poll leases the
    // job on stale capabilities and the agent's own check refuses it.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'vmrun'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'vmrun'), 0o755);
    const path = `${bin}:${process.env.PATH ?? ''}`;
    const agent = await runAgent(await registerAgent('vm', { KILN_AGENT_PATH: path }), [], { KILN_AGENT_PATH: path });
    expect(agent.output()).toContain('hypervisors [vmrun]');
    rmSync(join(bin, 'vmrun'));
    const first = await enqueueTemplate(VMWARE_REFERENCE, { builderType: 'vmware-iso', only: 'vmware-iso' });
    const refused = await taskAnswer(first.taskToken);
    expect(refused.failure?.error).toBe('Kiln.DriverUnavailable');
    expect(refused.failure?.cause).toContain(
      "vmware not available on this agent: vmrun was not found on this agent's PATH",
    );
    // It reached the agent whole: packer validate passed on what the agent wrote.
    expect(refused.failure?.cause).toContain("the job's template passed `packer validate` on this agent");
    // Now its polls say no vmrun: the gateway does not hand it the next one, and the sweep explains.
    const second = await enqueueTemplate(VMWARE_REFERENCE, { builderType: 'vmware-iso', only: 'vmware-iso' });
    await sleep(3500);
    expect((await sweep(deps)).noAgent).toEqual([second.jobId]);
    const noAgent = await taskAnswer(second.taskToken);
    expect(noAgent.failure?.error).toBe('Kiln.NoAgentAvailable');
    expect(noAgent.failure?.cause).toContain('vmware not available on this agent (vmrun not found)');

    const local = await enqueueTemplate({
      builders: [nullBuilder],
      'post-processors': [{ type: 'shell-local', inline: ['touch /tmp/kiln-agent-was-here'] }],
    });
    const localRefused = await taskAnswer(local.taskToken);
    expect(localRefused.failure?.error).toBe('Kiln.DriverUnavailable');
    expect(localRefused.failure?.cause).toContain('post-processor "shell-local", which would run commands');
    // Idle: SIGTERM ends it at once.
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(existsSync(join(work, 'vm'))).toBe(true);
    expect(readdirSync(join(work, 'vm'))).toEqual([]);
  }, 40_000);

  it('exits 3 with the reason when the gateway refuses a revoked agent', async () => {
    const config = await registerAgent('gone');
    const { agentId } = JSON.parse(readFileSync(config, 'utf8')) as { agentId: string };
    await setAgentStatus(deps.store, agentId, 'REVOKED');
    const agent = spawnAgent(['run'], { KILN_AGENT_CONFIG: config });
    expect(await agent.exited).toBe(3);
    expect(agent.output()).toMatch(/the gateway refused this agent \(AgentRevoked\): agent ag-.* was revoked/);
  });
});
