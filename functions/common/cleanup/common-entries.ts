/** Cleanup entries every driver may record: an S3 object the build wrote (e.g. a `file` download). */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { CleanupEntries } from '../../lib/cleanup-table.ts';

export const commonCleanup = {
  's3-object': {
    remove: (run, resource) =>
      run.attempt({ action: 'delete-object', target: `s3://${resource.bucket}/${resource.key}` }, () =>
        run.deps.s3.send(new DeleteObjectCommand({ Bucket: resource.bucket, Key: resource.key })),
      ),
  },
} satisfies CleanupEntries;
