/**
 * Stages the files a plan references (scripts, user_data_file, file provisioner sources) from the local
 * template directory to `s3://<artifacts>/builds/<buildId>/files/<relativePath>`, encrypted. Directories are
 * walked and staged file by file under their own prefix.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TemplateInvalidError, TransientError } from '../../core/errors.ts';
import type { FileRef } from '../../core/plan/types.ts';
import { awsCall } from '../lib/aws-errors.ts';
import { stagedFileKey } from '../lib/plan-store.ts';
import { STAGED_TAGGING } from '../lib/store-layout.ts';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

export async function stageFiles(
  s3: S3Client,
  bucket: string,
  buildId: string,
  templateDir: string,
  refs: readonly FileRef[],
): Promise<string[]> {
  const staged: string[] = [];
  const put = async (local: string, rel: string) => {
    const key = stagedFileKey(buildId, rel);
    const body = await readFile(local);
    await awsCall(
      `staging ${rel}`,
      (m, c) => new TransientError(m, { cause: c }),
      // No SSE header: the bucket's default (its customer-managed key) applies; `aws:kms` alone would pick the
      // AWS-managed key. The tag lets the staged-files lifecycle rule remove leftovers early.
      () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Tagging: STAGED_TAGGING })),
    );
    staged.push(key);
  };
  for (const ref of refs) {
    const local = join(templateDir, ref.relativePath);
    const info = await stat(local).catch(() => undefined);
    if (!info) throw new TemplateInvalidError(`The file "${ref.path}" that the template references does not exist`);
    if (info.isDirectory()) {
      for (const file of await walk(local)) await put(file, relative(templateDir, file));
    } else {
      await put(local, ref.relativePath);
    }
  }
  return staged;
}
