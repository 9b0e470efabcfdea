/**
 * Presigned URLs for the files a provisioner uses: one GET URL per staged file (directories expand to every
 * object under their prefix) and, for file downloads, one PUT URL under the build's prefix.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ProvisionerFailedError } from '../../../core/errors.ts';
import type { FileRef } from '../../../core/plan/types.ts';
import type { StagedUrls } from '../../../core/provisioners/render/shell.ts';
import { awsCall } from '../aws-errors.ts';
import { stagedFileKey } from '../plan-store.ts';

export type Presign = (
  method: 'GET' | 'PUT' | 'DELETE',
  bucket: string,
  key: string,
  expiresInSeconds: number,
) => Promise<string>;

/** Long enough for the command to start and fetch everything first; short enough to be of little use later. */
export const URL_EXPIRY_SECONDS = 3600;

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await awsCall(
      `listing staged files under ${prefix}`,
      (m, c) => new ProvisionerFailedError(m, { cause: c }),
      () =>
        s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
        ),
    );
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function presignFiles(
  s3: S3Client,
  presign: Presign,
  bucket: string,
  buildId: string,
  refs: readonly FileRef[],
): Promise<Map<string, StagedUrls>> {
  const map = new Map<string, StagedUrls>();
  for (const ref of refs) {
    const key = stagedFileKey(buildId, ref.relativePath);
    let entries: { subPath: string; url: string }[];
    if (ref.directory) {
      const prefix = `${key.replace(/\/+$/, '')}/`;
      const keys = await listKeys(s3, bucket, prefix);
      entries = await Promise.all(
        keys.map(async (k) => ({
          subPath: k.slice(prefix.length),
          url: await presign('GET', bucket, k, URL_EXPIRY_SECONDS),
        })),
      );
    } else {
      entries = [{ subPath: '', url: await presign('GET', bucket, key, URL_EXPIRY_SECONDS) }];
    }
    const value: StagedUrls = { path: ref.path, directory: !!ref.directory, entries };
    // Config values may name the file as written, as resolved, or relative to the template directory.
    map.set(ref.path, value);
    map.set(ref.relativePath, value);
    map.set(`./${ref.relativePath}`, value);
  }
  return map;
}
