/**
 * The one Presign the handlers wire in: presigned S3 URLs (GET a staged file, PUT a download or an output, DELETE
 * a one-shot script) signed with the function's own role.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Presign } from './presign-files.ts';

export function s3Presigner(s3: S3Client): Presign {
  return (method, Bucket, Key, expiresIn) =>
    getSignedUrl(
      s3,
      method === 'GET'
        ? new GetObjectCommand({ Bucket, Key })
        : method === 'DELETE'
          ? new DeleteObjectCommand({ Bucket, Key })
          : new PutObjectCommand({ Bucket, Key }),
      { expiresIn },
    );
}
