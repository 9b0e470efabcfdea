/**
 * Stages the build context of a plan's ec2-docker builds: the files core/docker/context-files.ts selects from the
 * template's root (after bundle extraction) as one tar.gz under the build's staged files prefix, its key recorded
 * on every docker build of the plan (they share one folder, so one object). The archive is deterministic (entries
 * in byte order, fixed mtime, mode, owner; gzip without a name or time), so the same inputs give the same bytes
 * and a retried PrepareBuild writes the same object. Each file passes the staged-files gate again as it is read
 * (confined to the root after symlinks, a regular file, at most MAX_STAGED_FILE_BYTES), and the whole is bounded
 * by what a bundle may expand to.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as tar from 'tar-stream';
import { STAGED_TAGGING } from '../../../aws/store-layout.ts';
import { BUILD_CONTEXT_PATH } from '../../../core/docker/context.ts';
import { contextFilesIn, MAX_CONTEXT_FILES } from '../../../core/docker/context-files.ts';
import { TemplateInvalidError, TransientError } from '../../../core/errors.ts';
import { fileAccess } from '../../../core/files/access.ts';
import { MAX_STAGED_FILE_BYTES } from '../../../core/files/read.ts';
import type { BuildPlan, PlannedBuild, StagedBuildContext } from '../../../core/plan/types.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { stagedFileKey } from '../../lib/plan-store.ts';
import { BUNDLE_LIMITS } from './archive.ts';
import { confinedPath, printable } from './confined-path.ts';

/** Every entry's mtime: a fixed instant, so the archive depends on the files' bytes only. */
export const BUILD_CONTEXT_MTIME = new Date('2000-01-01T00:00:00Z');

export interface ContextLimits {
  readonly maxFiles: number;
  /** Bytes of all files together (uncompressed). */
  readonly maxTotalBytes: number;
}

/** What a bundle may hold: a build context never exceeds the upload it comes from. */
export const CONTEXT_LIMITS: ContextLimits = {
  maxFiles: MAX_CONTEXT_FILES,
  maxTotalBytes: BUNDLE_LIMITS.maxTotalBytes,
};

const refuse = (message: string) => new TemplateInvalidError(`The docker build context cannot be staged: ${message}`);

/**
 * The tar.gz of `files` (relative to `root`), in the order given. A name that is not a clean relative path, or a
 * file that resolves outside the root (a link out), is refused: nothing outside the root is ever read.
 */
export async function packBuildContext(
  root: string,
  files: readonly string[],
  limits: ContextLimits = CONTEXT_LIMITS,
): Promise<Buffer> {
  if (files.length > limits.maxFiles) throw refuse(`it has more than ${limits.maxFiles} files`);
  const access = fileAccess({ confinement: { root } });
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  const written = pipeline(pack, createGzip({ level: constants.Z_BEST_COMPRESSION }), sink);
  let total = 0;
  try {
    for (const rel of files) {
      const where = confinedPath(root, rel);
      if (!where.ok) throw refuse(`"${printable(rel)}" ${where.why}`);
      const read = access.readBytes(join(root, rel), MAX_STAGED_FILE_BYTES, `"${rel}"`);
      if (!read.ok) throw refuse(`the file ${read.problem}`);
      total += read.bytes.byteLength;
      if (total > limits.maxTotalBytes) {
        throw refuse(
          `its files hold more than ${Math.round(limits.maxTotalBytes / 1024 / 1024)} MB; list what the image does not need in .kilnignore`,
        );
      }
      const header = {
        name: rel,
        type: 'file' as const,
        size: read.bytes.byteLength,
        mode: 0o644,
        mtime: BUILD_CONTEXT_MTIME,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
      };
      await new Promise<void>((resolve, reject) =>
        pack.entry(header, Buffer.from(read.bytes), (err) => (err ? reject(err) : resolve())),
      );
    }
    pack.finalize();
  } catch (err) {
    pack.destroy();
    await written.catch(() => undefined);
    throw err;
  }
  await written;
  return Buffer.concat(chunks);
}

/** Where the context of a build goes: one reserved name under the build's staged files prefix. */
export const buildContextKey = (buildId: string): string => stagedFileKey(buildId, BUILD_CONTEXT_PATH);

export interface ContextSource {
  readonly root: string;
  readonly templatePath: string;
  /** Relative paths in the root that are not the template's folder (see ContextFolder.leaveOut). */
  readonly leaveOut: readonly string[];
}

const isDocker = (b: PlannedBuild) => b.driver === 'ec2-docker';

/**
 * Stages the context when the plan has docker builds and the rule leaves files, and returns the plan with each
 * docker build's `buildContext` set; otherwise the plan as given, nothing read or written. `stagedKeys` are the
 * keys stageFiles wrote: a template file staged under the reserved name is refused rather than overwritten.
 */
export async function stageBuildContext(
  s3: S3Client,
  bucket: string,
  buildId: string,
  source: ContextSource,
  plan: BuildPlan,
  stagedKeys: readonly string[],
): Promise<BuildPlan> {
  if (!plan.builds.some(isDocker)) return plan;
  const files = contextFilesIn({ ...source, maxFiles: CONTEXT_LIMITS.maxFiles });
  if (files.length === 0) return plan;
  const key = buildContextKey(buildId);
  if (stagedKeys.includes(key)) {
    throw refuse(`the template stages a file named ${BUILD_CONTEXT_PATH}, the name Kiln keeps for it; rename the file`);
  }
  const bytes = await packBuildContext(source.root, files);
  await awsCall(
    'staging the docker build context',
    (m, c) => new TransientError(m, { cause: c }),
    // As stageFiles: the bucket's default encryption, and the staged tag for the early-expiry lifecycle rule.
    () =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: 'application/gzip',
          Tagging: STAGED_TAGGING,
        }),
      ),
  );
  const context: StagedBuildContext = {
    key,
    files: files.length,
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  return { ...plan, builds: plan.builds.map((b) => (b.driver === 'ec2-docker' ? { ...b, buildContext: context } : b)) };
}
