/**
 * Files the template references (scripts, user_data_file, file provisioner sources) are staged by PrepareBuild
 * under `builds/<buildId>/files/<relativePath>`. This maps a template path to its staged key.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError } from '../../core/errors.ts';
import type { BuildPlan, FileRef } from '../../core/plan/types.ts';
import { awsCall } from './aws-errors.ts';
import { stagedFileKey } from './plan-store.ts';

export function findFileRef(plan: BuildPlan, path: string, extra: readonly FileRef[] = []): FileRef {
  const clean = path.replace(/^\.\//, '');
  const ref = [...extra, ...plan.files].find(
    (f) => f.path === path || f.relativePath === clean || f.path.endsWith(`/${clean}`),
  );
  if (!ref) throw new NotFoundError(`The file "${path}" is not among the files staged for this build`);
  return ref;
}

export function stagedKeyFor(buildId: string, ref: FileRef): string {
  return stagedFileKey(buildId, ref.relativePath);
}

export async function readStagedText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await awsCall(
    `reading staged file s3://${bucket}/${key}`,
    (m, cause) => new NotFoundError(m, { cause }),
    () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
  );
  return (await out.Body?.transformToString('utf8')) ?? '';
}
