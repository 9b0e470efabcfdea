/**
 * The agent gateway's wire contract, one owner for both sides: the gateway's Lambda handlers
 * (functions/agent-gateway/) parse requests and build responses with these schemas, `kiln-agent` builds requests
 * and parses responses with the same ones. Routes, the Authorization schemes, limits, error codes and statuses,
 * and the ASL → gateway enqueue input live here; nothing else defines them.
 *
 * Auth: `Authorization: Kiln-Agent <agent id>.<agent secret>` on agent routes (acquire, deregister);
 * `Authorization: Kiln-Job <job id>.<job secret>` on job routes (heartbeat, complete, uploads), a credential issued with
 * each lease and valid only for that job and lease. Registration carries its one-time token in the body. The
 * Step Functions task token is stored with the job and never appears in any response.
 */
import * as z from 'zod/mini';
import { type Credential, type IdKind, parseCredential } from '../core/agents/credentials.ts';
import type { AgentGatewayErrorCode } from '../core/agents/errors.ts';
import { HYPERVISORS } from '../core/agents/matching.ts';
import type { KilnErrorName } from '../core/errors.ts';

export const AGENT_ROUTES = {
  register: { method: 'POST', path: '/agents/register', auth: 'registration-token' },
  deregister: { method: 'POST', path: '/agents/deregister', auth: 'agent' },
  acquire: { method: 'POST', path: '/jobs/acquire', auth: 'agent' },
  heartbeat: { method: 'POST', path: '/jobs/{jobId}/heartbeat', auth: 'job' },
  complete: { method: 'POST', path: '/jobs/{jobId}/complete', auth: 'job' },
  uploads: { method: 'POST', path: '/jobs/{jobId}/uploads', auth: 'job' },
} as const;
export type AgentRoute = keyof typeof AGENT_ROUTES;

/** The path of a job route for one job (the agent side). */
export const jobRoutePath = (route: 'heartbeat' | 'complete' | 'uploads', jobId: string): string =>
  AGENT_ROUTES[route].path.replace('{jobId}', encodeURIComponent(jobId));

export const AUTH_SCHEMES = { agent: 'Kiln-Agent', job: 'Kiln-Job' } as const;
export type AuthKind = keyof typeof AUTH_SCHEMES;
const ID_KIND_OF: Record<AuthKind, IdKind> = { agent: 'agent', job: 'job' };

export const authorizationHeader = (kind: AuthKind, credential: string): string =>
  `${AUTH_SCHEMES[kind]} ${credential}`;

/** The credential an Authorization header carries for this kind of route, or undefined. */
export function parseAuthorization(header: string | undefined, kind: AuthKind): Credential | undefined {
  if (header === undefined) return undefined;
  const [scheme, value, ...rest] = header.trim().split(/\s+/);
  if (scheme !== AUTH_SCHEMES[kind] || value === undefined || rest.length > 0) return undefined;
  return parseCredential(value, ID_KIND_OF[kind]);
}

/** Long poll: the gateway holds an acquire at most this long, under API Gateway's 29 s integration limit. */
export const ACQUIRE_MAX_WAIT_SECONDS = 20;
export const LIMITS = {
  labels: 20,
  labelLength: 64,
  logLinesPerHeartbeat: 200,
  logLineLength: 8192,
  progressLength: 1024,
  reasonLength: 4096,
  artifacts: 100,
  /** Artifact files one uploads request may ask URLs for. */
  uploadFiles: 100,
  /** S3's limit for one PUT (5 GiB): a presigned PUT cannot carry more, multipart would need a URL per part. */
  uploadFileBytes: 5 * 1024 ** 3,
  /** The job payload as JSON text: a DynamoDB item holds 400 KB, the rest of the job item is small. */
  payloadBytes: 300_000,
} as const;

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const label = z
  .string()
  .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, 'a label is 1-64 of A-Z a-z 0-9 . _ : / -'));
export const labelsSchema = z.array(label).check(z.maxLength(LIMITS.labels));
const isoTime = z.iso.datetime();

export const capabilitiesSchema = z.object({
  builders: z.array(text(64)).check(z.maxLength(64)),
  hypervisors: z.array(z.enum(HYPERVISORS)),
  packerVersion: text(64),
  os: text(32),
  arch: text(32),
});

// --- POST /agents/register --------------------------------------------------------------------------------
export const registerRequestSchema = z.object({
  /** The one-time registration token `rt-….<secret>` from `kiln agents token create`. */
  token: text(128),
  /** A display name (the host name by default). */
  name: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a name is 1-64 of A-Z a-z 0-9 . _ -')),
  capabilities: capabilitiesSchema,
});
export const registerResponseSchema = z.object({
  agentId: z.string(),
  /** `ag-….<secret>`: returned this once, stored server-side only as a hash. */
  credential: z.string(),
  /** The labels the token carried: the admin's choice, not the agent's. */
  labels: labelsSchema,
  heartbeatSeconds: z.number(),
});

// --- POST /agents/deregister ------------------------------------------------------------------------------
export const deregisterRequestSchema = z.object({});
export const deregisterResponseSchema = z.object({ agentId: z.string(), status: z.literal('DEREGISTERED') });

// --- POST /jobs/acquire -----------------------------------------------------------------------------------
export const acquireRequestSchema = z.object({
  /** What the agent finds now (a hypervisor may have gone since registration); stored for `kiln agents list`. */
  capabilities: capabilitiesSchema,
  /** Take only jobs whose labels are among these (a subset of the agent's labels); default all of them. */
  labels: z.optional(labelsSchema),
  /** How long the gateway may hold the request when no job is waiting; 0 answers at once. */
  waitSeconds: z.optional(z.int().check(z.minimum(0), z.maximum(ACQUIRE_MAX_WAIT_SECONDS))),
});

// --- the job document: what PrepareBuild stages for an agent build, EnqueueAgentJob queues, kiln-agent runs ------
const sha256Hex = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex digits'));
const relativePath = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path inside the bundle'),
);
/**
 * The template as uploaded (a JSON file, or an HCL2 file or folder), packed as one deterministic tar.gz of the
 * template's root (var files the request named left out), and the build to run from it. The agent verifies the
 * sha256 before extracting; S3 keys never reach the agent, only URLs presigned at lease time (`downloads`).
 */
export const agentJobPayloadSchema = z.object({
  version: z.literal(1),
  format: z.enum(['json', 'hcl']),
  /** The template file (JSON) or file/folder (HCL) inside the bundle, as `packer build` is given it. */
  templatePath: relativePath,
  /** `packer build -only=<only>`: the build's name as packer 1.6+ matches it (`vmware-iso`, `vmware-iso.ubuntu`). */
  only: text(256),
  bundle: z.object({ key: text(1024), sha256: sha256Hex, bytes: z.int().check(z.minimum(0)) }),
  /** The variables document (`agentJobVariablesSchema`), SSE-KMS in the artifacts bucket; absent: no variables. */
  variablesKey: z.optional(text(1024)),
});
export type AgentJobPayload = z.infer<typeof agentJobPayloadSchema>;

/**
 * The build's variables as the request gave them: var files (in order, each `{ name, content }`) then `-var`
 * pairs, Packer's precedence. `redact` lists the sensitive values (sensitive variables, secrets resolved by data
 * sources): the agent removes them from every log line it sends. Lives only in S3 and the agent's job folder.
 */
export const agentJobVariablesSchema = z.object({
  varFiles: z.array(z.object({ name: relativePath, content: z.string() })),
  vars: z.array(z.tuple([z.string(), z.string()])),
  redact: z.array(z.string()),
});
export type AgentJobVariables = z.infer<typeof agentJobVariablesSchema>;

/** How long a download URL of a lease stays valid: the agent fetches at once, before it heartbeats. */
export const DOWNLOAD_URL_SECONDS = 900;

/** What the agent runs: the build and the job document the pipeline prepared. */
export const jobSpecSchema = z.object({
  buildId: z.string(),
  /** The build's name in the template (`vmware-iso.ubuntu`): `packer build -only=<build>`. */
  build: z.string(),
  builderType: z.string(),
  labels: labelsSchema,
  payload: agentJobPayloadSchema,
});
export type JobSpec = z.infer<typeof jobSpecSchema>;

export const leasedJobSchema = z.object({
  jobId: z.string(),
  /** `job-….<secret>` for this job's routes, valid for this lease only. */
  credential: z.string(),
  /** 1 for the first lease; more when an earlier agent lost it. */
  attempt: z.int(),
  leaseExpiresAt: isoTime,
  heartbeatSeconds: z.number(),
  spec: jobSpecSchema,
  /** GET URLs presigned at lease time (valid DOWNLOAD_URL_SECONDS): the bundle, and the variables document. */
  downloads: z.object({ bundle: z.url(), variables: z.optional(z.url()) }),
});
export type LeasedJob = z.infer<typeof leasedJobSchema>;

export const acquireResponseSchema = z.union([
  z.object({ job: leasedJobSchema }),
  z.object({ job: z.null(), retryAfterSeconds: z.number() }),
]);
export type AcquireResponse = z.infer<typeof acquireResponseSchema>;

// --- POST /jobs/{jobId}/heartbeat -------------------------------------------------------------------------
export const logLineSchema = z.object({ time: isoTime, line: z.string().check(z.maxLength(LIMITS.logLineLength)) });
export const heartbeatRequestSchema = z.object({
  /** A short state for `kiln builds show` ("provisioner 2/3: shell"). */
  progress: z.optional(z.string().check(z.maxLength(LIMITS.progressLength))),
  /** Build output since the last heartbeat; the gateway writes it to CloudWatch Logs. */
  logLines: z.optional(z.array(logLineSchema).check(z.maxLength(LIMITS.logLinesPerHeartbeat))),
});
export const heartbeatResponseSchema = z.object({
  leaseExpiresAt: isoTime,
  /** Stop the build, clean up, then complete with outcome `cancelled`. */
  cancel: z.boolean(),
});

// --- POST /jobs/{jobId}/uploads ---------------------------------------------------------------------------
/**
 * An artifact file's name as packer reported it: relative to the job's template folder, inside it (no leading
 * `/`, no `..` segment, no backslash or NUL), so it can name an S3 key under the build's prefix as it is.
 */
export const artifactFileName = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.refine(
    (p) => !p.startsWith('/') && !/[\\\0]/.test(p) && !p.split('/').some((s) => s === '..' || s === '.' || s === ''),
    'a relative path inside the job folder: no leading /, no . or .. or empty segment, no backslash',
  ),
);
export const uploadsRequestSchema = z.object({
  files: z
    .array(
      z.object({
        name: artifactFileName,
        /** Bytes; the URL is signed for exactly this Content-Length. At most S3's single-PUT limit. */
        size: z.int().check(z.minimum(0), z.maximum(LIMITS.uploadFileBytes)),
      }),
    )
    .check(z.minLength(1), z.maxLength(LIMITS.uploadFiles)),
});
/** How long an upload URL stays valid: the agent PUTs at once, but a VM image over a slow line takes a while. */
export const UPLOAD_URL_SECONDS = 3600;
export const uploadsResponseSchema = z.object({
  /** One per requested file, in order: PUT `url` with the file as body and its size as Content-Length. */
  uploads: z.array(z.object({ name: z.string(), url: z.url(), key: z.string() })),
});
export type UploadsResponse = z.infer<typeof uploadsResponseSchema>;

// --- POST /jobs/{jobId}/complete --------------------------------------------------------------------------
export const agentArtifactSchema = z.object({
  /** Packer's builder id (`mitchellh.vmware`, `packer.null`...) and artifact id, as the manifest writes them. */
  builderId: text(256),
  artifactId: z.string().check(z.maxLength(2048)),
  files: z
    .array(
      z.object({
        name: text(1024),
        size: z.optional(z.int().check(z.minimum(0))),
        /** The artifacts bucket key the agent uploaded the file to (`--upload-artifacts`); absent: not uploaded. */
        key: z.optional(text(1024)),
      }),
    )
    .check(z.maxLength(1000)),
});
export const FAILURE_KINDS = ['build-failed', 'cannot-run', 'cancelled'] as const;
export const completeRequestSchema = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('succeeded'),
    artifacts: z.array(agentArtifactSchema).check(z.maxLength(LIMITS.artifacts)),
  }),
  z.object({
    outcome: z.literal('failed'),
    /** build-failed: packer exited non-zero; cannot-run: the agent refuses (no hypervisor...); cancelled. */
    kind: z.enum(FAILURE_KINDS),
    reason: text(LIMITS.reasonLength),
  }),
]);
export type CompleteRequest = z.infer<typeof completeRequestSchema>;
export const completeResponseSchema = z.object({
  jobId: z.string(),
  status: z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED']),
  /** True when this repeated an earlier complete of the same lease (a retry after a lost response). */
  repeated: z.boolean(),
});

/** The Step Functions error a failed job ends its task with. */
export const TASK_ERROR_OF: Record<(typeof FAILURE_KINDS)[number], KilnErrorName> = {
  'build-failed': 'Kiln.AgentBuildFailed',
  'cannot-run': 'Kiln.DriverUnavailable',
  cancelled: 'Kiln.BuildCancelled',
};

// --- errors -----------------------------------------------------------------------------------------------
export const errorResponseSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export const STATUS_OF: Record<AgentGatewayErrorCode, number> = {
  InvalidRequest: 400,
  Unauthorized: 401,
  AgentRevoked: 403,
  TokenInvalid: 401,
  Forbidden: 403,
  NotFound: 404,
  LeaseLost: 409,
};

// --- the pipeline's side: the ASL task (`.waitForTaskToken`) that hands a build to the gateway -------------
export const enqueueJobInputSchema = z.object({
  /** `$$.Task.Token`: kept on the job item, used for SendTask*, never returned to an agent. */
  taskToken: text(8192),
  buildId: text(256),
  build: text(256),
  builderType: text(64),
  labels: z._default(labelsSchema, []),
  payload: agentJobPayloadSchema,
});
export type EnqueueJobInput = z.infer<typeof enqueueJobInputSchema>;
/** What the task's output is on success (SendTaskSuccess). */
export interface AgentTaskOutput {
  readonly jobId: string;
  readonly agentId: string;
  readonly attempt: number;
  readonly artifacts: z.infer<typeof agentArtifactSchema>[];
}
