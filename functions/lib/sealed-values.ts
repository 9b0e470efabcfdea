/**
 * The short-lived encrypted channel for sensitive values. PrepareBuild writes them to
 * `secrets/<buildId>/values.json` (SSE-KMS with the bucket's own key), never to plan.json; RunProvisioner writes a
 * script that carries one to a one-shot object under `secrets/<buildId>/oneshot/`. Finalize and Cleanup remove
 * every version of everything under the prefix, and a one-day lifecycle rule on `secrets/` is the backstop.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { STORE_LAYOUT } from '../../aws/store-layout.ts';
import { NotFoundError, TransientError } from '../../core/errors.ts';
import type { SealTable } from '../../core/template/sensitive.ts';
import { awsCall, isNotFoundAwsError } from './aws-errors.ts';

export const SECRETS_PREFIX: string = STORE_LAYOUT.secretsPrefix;
export const secretsPrefixFor = (buildId: string): string => `${SECRETS_PREFIX}${buildId}/`;
export const sealedKeyFor = (buildId: string): string => `${secretsPrefixFor(buildId)}values.json`;
export const oneShotKeyFor = (buildId: string, name: string): string =>
  `${secretsPrefixFor(buildId)}oneshot/${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;

/** What the sealed object holds; plan.json only says whether there is one. */
export interface SealedValues {
  readonly version: 1;
  /** The sensitive values themselves (redaction needs them; so does unsealing through `table`). */
  readonly values: readonly string[];
  readonly table: SealTable;
}

export const EMPTY_SEALED: SealedValues = { version: 1, values: [], table: { nonce: 'none', forms: [] } };

export interface SecretStoreDeps {
  readonly s3: S3Client;
  readonly artifactsBucket: string;
  /** The artifacts bucket's own KMS key; without it the bucket default applies (never the AWS-managed key). */
  readonly dataKeyId?: string;
}

const transient = (m: string, cause: unknown) => new TransientError(m, { cause });

/** SSE parameters for an object that carries a secret. */
export function encryptionFor(deps: Pick<SecretStoreDeps, 'dataKeyId'>) {
  return deps.dataKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: deps.dataKeyId } : {};
}

export async function putSecretObject(deps: SecretStoreDeps, key: string, body: string, what: string): Promise<void> {
  await awsCall(what, transient, () =>
    deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.artifactsBucket,
        Key: key,
        Body: body,
        ContentType: 'application/octet-stream',
        ...encryptionFor(deps),
      }),
    ),
  );
}

export async function storeSealedValues(deps: SecretStoreDeps, buildId: string, sealed: SealedValues): Promise<void> {
  await putSecretObject(deps, sealedKeyFor(buildId), JSON.stringify(sealed), 'storing the sealed values');
}

const cache = new Map<string, SealedValues>();

/** The build's sealed values; empty when the build has none (or they were already removed). */
export async function loadSealedValues(
  deps: Pick<SecretStoreDeps, 's3' | 'artifactsBucket'>,
  buildId: string,
): Promise<SealedValues> {
  const key = sealedKeyFor(buildId);
  const hit = cache.get(`${deps.artifactsBucket}/${key}`);
  if (hit) return hit;
  let text: string | undefined;
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.artifactsBucket, Key: key }));
    text = await out.Body?.transformToString('utf8');
  } catch (err) {
    if (!isNotFoundAwsError(err)) {
      await awsCall(
        `reading s3://${deps.artifactsBucket}/${key}`,
        (m, c) => new NotFoundError(m, { cause: c }),
        () => Promise.reject(err),
      );
    }
    return EMPTY_SEALED;
  }
  const sealed = text ? (JSON.parse(text) as SealedValues) : EMPTY_SEALED;
  cache.set(`${deps.artifactsBucket}/${key}`, sealed);
  return sealed;
}

/** Removes every version of every object under `prefix` (the bucket is versioned: a plain delete keeps them). */
export async function deleteAllVersions(
  deps: Pick<SecretStoreDeps, 's3' | 'artifactsBucket'>,
  prefix: string,
  /** Only the object named `prefix` itself, not others that start with it. */
  exact = false,
): Promise<number> {
  let removed = 0;
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await deps.s3.send(
      new ListObjectVersionsCommand({
        Bucket: deps.artifactsBucket,
        Prefix: prefix,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
      }),
    );
    const objects = [...(out?.Versions ?? []), ...(out?.DeleteMarkers ?? [])]
      .filter((v) => v.Key && (!exact || v.Key === prefix))
      .map((v) => ({ Key: v.Key as string, ...(v.VersionId ? { VersionId: v.VersionId } : {}) }));
    if (objects.length > 0) {
      await deps.s3.send(
        new DeleteObjectsCommand({ Bucket: deps.artifactsBucket, Delete: { Objects: objects, Quiet: true } }),
      );
      removed += objects.length;
    }
    if (!out?.IsTruncated) break;
    keyMarker = out.NextKeyMarker;
    versionMarker = out.NextVersionIdMarker;
  }
  return removed;
}

/** Removes the build's sealed values and one-shot objects (Finalize, Cleanup). */
export async function deleteBuildSecrets(
  deps: Pick<SecretStoreDeps, 's3' | 'artifactsBucket'>,
  buildId: string,
): Promise<number> {
  cache.delete(`${deps.artifactsBucket}/${sealedKeyFor(buildId)}`);
  return deleteAllVersions(deps, secretsPrefixFor(buildId));
}

/** For tests: forget cached values. */
export function clearSealedCache(): void {
  cache.clear();
}
