/**
 * SSM inlines at most 24,000 characters of stdout and 8,000 of stderr in GetCommandInvocation, and keeps the
 * beginning. A failing script's cause is at the end, so when the inline text was cut, the failure message is
 * taken from the end of the full output SSM wrote to S3 (read with a range: only the tail is fetched).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** GetCommandInvocation's inline limits (SSM API reference). */
export const SSM_INLINE_LIMITS = { stdout: 24_000, stderr: 8_000 } as const;
/** Bytes read from the end of the full output: enough for the tail lines, bounded whatever the log size. */
export const TAIL_BYTES = 16 * 1024;

/** Bucket and key of an SSM output URL (path style `s3.<region>.amazonaws.com/<bucket>/<key>` or virtual-hosted). */
export function parseOutputUrl(url: string): { bucket: string; key: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(parsed.pathname.replace(/^\/+/, ''));
  const hosted = /^(.+)\.s3[.-]/.exec(parsed.hostname);
  if (hosted?.[1] && !parsed.hostname.startsWith('s3.')) return path ? { bucket: hosted[1], key: path } : undefined;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) return undefined;
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

/**
 * The text to take a failure tail from: the inline text when it is whole, else the end of the S3 object.
 * A missing or unreadable object falls back to the inline text (the message then says it may be cut).
 */
export async function outputForTail(
  s3: S3Client,
  inline: string,
  url: string | undefined,
  limit: number,
): Promise<{ text: string; from: 'inline' | 's3' | 'inline-truncated' }> {
  if (inline.length < limit) return { text: inline, from: 'inline' };
  const location = url ? parseOutputUrl(url) : undefined;
  if (!location) return { text: inline, from: 'inline-truncated' };
  try {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key, Range: `bytes=-${TAIL_BYTES}` }),
    );
    const text = (await out.Body?.transformToString('utf8')) ?? '';
    // The range may start inside a line (or a UTF-8 sequence): drop the partial first line.
    const cut = text.length >= TAIL_BYTES ? text.slice(text.indexOf('\n') + 1) : text;
    return { text: cut, from: 's3' };
  } catch {
    return { text: inline, from: 'inline-truncated' };
  }
}
