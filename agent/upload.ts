/**
 * `--upload-artifacts`: after packer succeeds, the artifact files it reported that exist as regular files
 * inside the job's template folder (packer's working directory) are PUT to the presigned URLs the gateway's
 * uploads route gives for them, one at a time, streamed with their Content-Length. A file outside the folder, or
 * reached through a symbolic link, is refused rather than uploaded: a template must not be able to make the
 * agent send a host file. Files packer names that do not exist (or are folders) are left out.
 */
import { constants, createReadStream } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import * as z from 'zod/mini';
import { type agentArtifactSchema, artifactFileName, LIMITS } from '../aws/agent-gateway-contract.ts';
import { isRetryable, UploadFailedError } from './errors.ts';
import type { GatewayClient } from './gateway-client.ts';

type Artifact = z.infer<typeof agentArtifactSchema>;

/** A PUT whose socket stays silent this long is given up (a slow line still moves bytes). */
const IDLE_TIMEOUT_MS = 120_000;

interface Candidate {
  /** Relative to the template folder, `/`-separated: the name the upload is asked for. */
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

/** Where `name` (as packer reported it) is, if it should be uploaded; throws when it must be refused. */
async function candidate(dir: string, realDir: string, name: string): Promise<Candidate | undefined> {
  const path = resolve(dir, name);
  const rel = relative(dir, path);
  const outside = rel === '' || rel.startsWith('..') || isAbsolute(rel);
  const found = await lstat(path).catch(() => undefined);
  if (!found) return undefined;
  if (outside) throw new UploadFailedError(`artifact file ${name} is outside the job folder: not uploaded`);
  if (found.isSymbolicLink()) throw new UploadFailedError(`artifact file ${name} is a symbolic link: not uploaded`);
  if (!found.isFile()) return undefined;
  // A folder on the way that is a link would lead elsewhere: the file's real path must be the same file here.
  if ((await realpath(path)) !== resolve(realDir, rel)) {
    throw new UploadFailedError(`artifact file ${name} is reached through a symbolic link: not uploaded`);
  }
  const upload = rel.split(sep).join('/');
  if (!z.safeParse(artifactFileName, upload).success) {
    throw new UploadFailedError(`artifact file ${name} has a name an upload cannot carry (a backslash or NUL)`);
  }
  if (found.size > LIMITS.uploadFileBytes) {
    throw new UploadFailedError(
      `artifact file ${name} is ${found.size} bytes, over S3's ${LIMITS.uploadFileBytes}-byte limit for one upload`,
    );
  }
  return { name: upload, path, size: found.size };
}

/** PUTs the file's bytes (opened without following links, its size checked again) to `url`. */
async function put(url: string, file: Candidate, signal: AbortSignal): Promise<void> {
  const handle = await open(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const opened = await handle.stat();
  if (!opened.isFile() || opened.size !== file.size) {
    await handle.close();
    throw new UploadFailedError(`artifact file ${file.name} changed while it was being uploaded`);
  }
  const body = createReadStream('', { fd: handle, autoClose: true });
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = send(target, {
    method: 'PUT',
    headers: { 'content-length': String(file.size) },
    signal,
  });
  req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no progress for ${IDLE_TIMEOUT_MS / 1000} s`)));
  const answered = new Promise<IncomingMessage>((ok, fail) => {
    req.once('response', ok);
    req.once('error', fail);
  });
  try {
    // The answer is what counts: S3 answers 200 only once it has the signed length. pipeline() would also fail a
    // PUT whose socket closed right after the answer ("Premature close"), which loaded machines do.
    body.once('error', (error) => req.destroy(error));
    body.pipe(req);
    const res = await answered;
    let text = '';
    for await (const chunk of res) if (text.length < 2000) text += String(chunk);
    if (res.statusCode !== 200) {
      throw new UploadFailedError(
        `uploading ${file.name} answered HTTP ${res.statusCode}: ${text.replace(/\s+/g, ' ').slice(0, 300)}`,
      );
    }
  } catch (error) {
    body.destroy();
    if (error instanceof UploadFailedError) throw error;
    throw new UploadFailedError(`uploading ${file.name} failed: ${(error as Error).message}`);
  }
}

/**
 * Uploads the artifacts' files and returns the artifacts with each uploaded file's `key`. Throws
 * UploadFailedError (the job then fails as build-failed with its message).
 */
export async function uploadArtifactFiles(
  artifacts: readonly Artifact[],
  job: { jobId: string; credential: string },
  ctx: { client: GatewayClient; templateDir: string; signal: AbortSignal; log: (line: string) => void },
): Promise<Artifact[]> {
  const dir = resolve(ctx.templateDir);
  const realDir = await realpath(dir);
  const byName = new Map<string, Candidate>();
  /** packer's name → the upload's name (one file named twice is sent once). */
  const uploadOf = new Map<string, string>();
  for (const file of artifacts.flatMap((a) => a.files)) {
    if (uploadOf.has(file.name)) continue;
    const found = await candidate(dir, realDir, file.name);
    if (!found) continue;
    uploadOf.set(file.name, found.name);
    byName.set(found.name, found);
  }
  const files = [...byName.values()];
  const keys = new Map<string, string>();
  for (let i = 0; i < files.length; i += LIMITS.uploadFiles) {
    const batch = files.slice(i, i + LIMITS.uploadFiles);
    const answer = await askForUrls(ctx, job, batch);
    for (const file of batch) {
      const given = answer.uploads.find((u) => u.name === file.name);
      if (!given) throw new UploadFailedError(`the gateway gave no upload URL for ${file.name}`);
      const started = Date.now();
      await put(given.url, file, ctx.signal);
      ctx.log(
        `job ${job.jobId}: uploaded ${file.name} (${file.size} bytes) to ${given.key} in ${Date.now() - started} ms`,
      );
      keys.set(file.name, given.key);
    }
  }
  return artifacts.map((a) => ({
    ...a,
    files: a.files.map((f) => {
      const key = keys.get(uploadOf.get(f.name) ?? '');
      return key ? { ...f, key } : f;
    }),
  }));
}

/** The upload URLs of one batch; a request that did not reach the gateway (or a 5xx) is tried again, as complete. */
async function askForUrls(
  ctx: { client: GatewayClient; signal: AbortSignal; log: (line: string) => void },
  job: { jobId: string; credential: string },
  batch: readonly Candidate[],
) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.client.uploads(job.jobId, job.credential, {
        files: batch.map(({ name, size }) => ({ name, size })),
      });
    } catch (error) {
      if (isRetryable(error) && attempt < 5 && !ctx.signal.aborted) {
        ctx.log(`job ${job.jobId}: the upload URLs did not come, retrying: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 500 * attempt));
        continue;
      }
      throw new UploadFailedError(`the gateway gave no upload URLs: ${(error as Error).message}`);
    }
  }
}
