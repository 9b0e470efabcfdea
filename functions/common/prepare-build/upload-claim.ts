/**
 * One build per uploaded object version. EventBridge delivers at least once and its Step Functions target cannot
 * name the execution, so a duplicated "Object Created" event starts a second execution with a name of its own.
 * PrepareBuild therefore claims the upload, (bucket, key, version id), before reading anything: a conditional
 * PutObject (`If-None-Match: *`) of `builds/upload-claims/<sha256>.json` in the artifacts bucket, naming the
 * execution. The first execution to claim builds; any other finds the claim and ends at once without building
 * (`skipped: duplicate event: …`, through NotATemplate), and a retry of the first finds its own name and goes on.
 * The claim lives under `builds/`, so it expires with the build's files: long after EventBridge's 24-hour
 * retry window. An event without a version id (a bucket without versioning) is not deduplicated.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { STORE_LAYOUT } from '../../../aws/store-layout.ts';
import { TransientError } from '../../../core/errors.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { encryptionFor } from '../../lib/sealed-values.ts';
import type { BuildRequest } from './input.ts';

export const UPLOAD_CLAIMS_PREFIX = `${STORE_LAYOUT.buildsPrefix}upload-claims/`;

export const uploadClaimKey = (t: { bucket: string; key: string; versionId: string }): string =>
  `${UPLOAD_CLAIMS_PREFIX}${createHash('sha256').update(`${t.bucket}\u0000${t.key}\u0000${t.versionId}`).digest('hex')}.json`;

interface ClaimBody {
  readonly executionName: string;
  readonly buildId: string;
  readonly template: { readonly bucket: string; readonly key: string; readonly versionId: string };
  readonly claimedAt: string;
}

const transient = (m: string, c: unknown) => new TransientError(m, { cause: c });

/**
 * Claims an upload for this execution. Returns undefined when this execution builds it, or why it does not
 * (another execution claimed the same object version first).
 */
export async function claimUpload(
  deps: {
    readonly s3: S3Client;
    readonly artifactsBucket: string;
    readonly dataKeyId?: string;
    readonly now: () => Date;
  },
  request: BuildRequest,
  execution: { readonly name: string; readonly buildId: string },
): Promise<string | undefined> {
  const { versionId } = request.template;
  if (request.trigger !== 's3-upload' || !versionId) return undefined;
  const template = { bucket: request.template.bucket, key: request.template.key, versionId };
  const Key = uploadClaimKey(template);
  const executionName = execution.name;
  const body: ClaimBody = {
    executionName,
    buildId: execution.buildId,
    template,
    claimedAt: deps.now().toISOString(),
  };
  const claimed = await deps.s3
    .send(
      new PutObjectCommand({
        Bucket: deps.artifactsBucket,
        Key,
        Body: JSON.stringify(body),
        ContentType: 'application/json',
        IfNoneMatch: '*',
        ...encryptionFor(deps),
      }),
    )
    .then(
      () => true,
      (err: unknown) => {
        const name = (err as Error).name;
        // 412: claimed already. 409 (ConditionalRequestConflict): a concurrent claim is in flight; read it below.
        if (
          name === 'PreconditionFailed' ||
          (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412
        )
          return false;
        if (name === 'ConditionalRequestConflict') throw transient('claiming the upload (concurrent claim)', err);
        return awsCall('claiming the upload', transient, () => Promise.reject(err));
      },
    );
  if (claimed) return undefined;
  const out = await awsCall('reading the upload claim', transient, () =>
    deps.s3.send(new GetObjectCommand({ Bucket: deps.artifactsBucket, Key })),
  );
  const owner = JSON.parse((await out.Body?.transformToString()) ?? '{}') as Partial<ClaimBody>;
  if (owner.executionName === executionName) return undefined; // this execution's own claim: a retried PrepareBuild
  return `duplicate event: s3://${template.bucket}/${template.key} version ${versionId} is built by ${owner.buildId ?? 'another build'} (execution ${owner.executionName ?? '?'}); one build per uploaded version`;
}
