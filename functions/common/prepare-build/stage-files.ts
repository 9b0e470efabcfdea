/**
 * Stages the files a plan references (scripts, user_data_file, file provisioner sources) from the local
 * template directory to `s3://<artifacts>/builds/<buildId>/files/<relativePath>`, encrypted. Directories are
 * walked and staged file by file under their own prefix. Every path is confined to the template directory
 * (after symlinks) and read as a bounded regular file: the plan is checked already, this is the last gate
 * before anything leaves the Lambda.
 */
import { join, relative } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { STAGED_TAGGING } from '../../../aws/store-layout.ts';
import { TemplateInvalidError, TransientError } from '../../../core/errors.ts';
import { fileAccess } from '../../../core/files/access.ts';
import { MAX_STAGED_FILE_BYTES } from '../../../core/files/read.ts';
import type { FileRef } from '../../../core/plan/types.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { stagedFileKey } from '../../lib/plan-store.ts';
import { MAX_SIBLING_OBJECTS } from './fetch-template.ts';

export async function stageFiles(
  s3: S3Client,
  bucket: string,
  buildId: string,
  templateDir: string,
  refs: readonly FileRef[],
): Promise<string[]> {
  const files = fileAccess({ confinement: { root: templateDir } });
  const staged: string[] = [];
  const put = async (local: string, rel: string) => {
    const key = stagedFileKey(buildId, rel);
    const read = files.readBytes(local, MAX_STAGED_FILE_BYTES, `"${rel}"`);
    if (!read.ok) throw new TemplateInvalidError(`The file ${read.problem}; it cannot be staged for the build`);
    const body = read.bytes;
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
    const checked = files.check(local, `"${ref.relativePath}"`);
    if (!checked.ok) throw new TemplateInvalidError(`The file ${checked.problem}; it cannot be staged for the build`);
    const kind = files.kind(local);
    if (kind === 'missing') {
      throw new TemplateInvalidError(`The file "${ref.relativePath}" that the template references does not exist`);
    }
    if (kind === 'directory') {
      for (const file of files.listFiles(local, MAX_SIBLING_OBJECTS)) await put(file, relative(templateDir, file));
    } else {
      await put(local, ref.relativePath);
    }
  }
  return staged;
}
