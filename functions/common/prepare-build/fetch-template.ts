/**
 * Materializes a template from S3 into a local directory for the template engine (which reads files
 * synchronously). A plain `.json`/`.pkr.hcl` object is fetched by version id, together with the objects next to
 * it (the scripts and files it references), within fixed limits. Bundles (`.zip`/`.tar.gz`) will implement the
 * same `TemplateSource` interface by extracting the archive into the directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError, TemplateInvalidError } from '../../../core/errors.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import type { TemplateLocation } from '../../lib/plan-store.ts';

export const MAX_SIBLING_OBJECTS = 200;
export const MAX_SIBLING_BYTES = 20 * 1024 * 1024;

export interface MaterializedTemplate {
  /** Local path of the template file. */
  readonly templatePath: string;
  /** Local directory that mirrors the template's S3 folder. */
  readonly dir: string;
  /** How to show a local path to the user (`s3://bucket/folder/x.sh`). */
  readonly displayPath: (local: string) => string;
}

export interface TemplateSource {
  readonly matches: (key: string) => boolean;
  readonly materialize: (s3: S3Client, location: TemplateLocation, dir: string) => Promise<MaterializedTemplate>;
}

const notFound = (m: string, cause: unknown) => new NotFoundError(m, { cause });

const isControl = (ch: string) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f';
/** The key with control characters (NUL, newlines) shown as `?`, safe to put in a message. */
const printable = (key: string) => [...key].map((ch) => (isControl(ch) ? '?' : ch)).join('');

/**
 * Where an S3 key (relative to the template's folder) lands under `dir`. Keys are written by whoever uploads
 * the template, so anything that could leave `dir` or alias another path is refused: absolute keys, `.` and
 * `..` segments, empty segments (`a//b`), backslashes and control characters.
 */
export function localPathForKey(dir: string, rel: string, displayKey: string = rel): string {
  const refuse = (why: string) =>
    new TemplateInvalidError(
      `The S3 key "${printable(displayKey)}" beside the template cannot be used: ${why}; rename the object`,
    );
  if (rel === '') throw refuse('it names the folder itself');
  if (printable(rel) !== rel) throw refuse('it contains a control character');
  if (rel.includes('\\')) throw refuse('it contains a backslash');
  if (rel.startsWith('/')) throw refuse('it is an absolute path');
  const segments = rel.split('/');
  if (segments.some((seg) => seg === '')) throw refuse('it has an empty path segment');
  if (segments.some((seg) => seg === '.' || seg === '..')) throw refuse('it has a "." or ".." path segment');
  const local = resolve(dir, ...segments);
  const back = relative(resolve(dir), local);
  if (back === '' || back.startsWith('..') || isAbsolute(back))
    throw refuse('it would land outside the scratch folder');
  return local;
}

/** Writes an object's body; a key that clashes with a folder of another key (`a` and `a/b`) is the user's to fix. */
async function writeObject(local: string, body: Uint8Array, key: string): Promise<void> {
  try {
    await mkdir(dirname(local), { recursive: true });
    // `wx`: never overwrite, never follow what is already there.
    await writeFile(local, body, { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new TemplateInvalidError(
        `The S3 key "${key}" clashes with another object beside the template (a file and a folder of the same name); rename one of them`,
        { cause: err },
      );
    }
    throw err;
  }
}

async function getText(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<Uint8Array> {
  const out = await awsCall(`reading s3://${bucket}/${key}`, notFound, () =>
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) })),
  );
  return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
}

/** Keys in the template's folder (not the template itself), bounded so a bucket root is never mirrored whole. */
async function siblingKeys(s3: S3Client, bucket: string, folder: string, templateKey: string): Promise<string[]> {
  const keys: string[] = [];
  let bytes = 0;
  let token: string | undefined;
  do {
    const out = await awsCall(`listing s3://${bucket}/${folder}`, notFound, () =>
      s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: folder, ...(token ? { ContinuationToken: token } : {}) }),
      ),
    );
    for (const o of out.Contents ?? []) {
      if (!o.Key || o.Key === templateKey || o.Key.endsWith('/')) continue;
      keys.push(o.Key);
      bytes += o.Size ?? 0;
    }
    if (keys.length > MAX_SIBLING_OBJECTS || bytes > MAX_SIBLING_BYTES) {
      throw new TemplateInvalidError(
        `The folder s3://${bucket}/${folder} holds more than ${MAX_SIBLING_OBJECTS} objects or ` +
          `${MAX_SIBLING_BYTES / 1024 / 1024} MB; put the template and its files in a folder of their own`,
      );
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export const plainTemplateSource: TemplateSource = {
  // Variable files (`.pkrvars.hcl`, `.pkrvars.json`) are inputs, never templates.
  matches: (key) => /\.(pkr\.hcl|pkr\.json|json)$/i.test(key) && !/\.pkrvars\.json$/i.test(key),
  materialize: async (s3, location, dir) => {
    const folder = posix.dirname(location.key) === '.' ? '' : `${posix.dirname(location.key)}/`;
    const templatePath = join(dir, posix.basename(location.key));
    await writeFile(templatePath, await getText(s3, location.bucket, location.key, location.versionId));
    for (const key of await siblingKeys(s3, location.bucket, folder, location.key)) {
      const local = localPathForKey(dir, key.slice(folder.length), key);
      await writeObject(local, await getText(s3, location.bucket, key), key);
    }
    const displayPrefix = `s3://${location.bucket}/${folder}`;
    return {
      templatePath,
      dir,
      displayPath: (local) => (local.startsWith(`${dir}/`) ? displayPrefix + local.slice(dir.length + 1) : local),
    };
  },
};

export const TEMPLATE_SOURCES: readonly TemplateSource[] = [plainTemplateSource];

export function sourceFor(key: string): TemplateSource {
  const source = TEMPLATE_SOURCES.find((s) => s.matches(key));
  if (!source) {
    throw new TemplateInvalidError(
      `s3 object "${key}" is not a template: expected .pkr.hcl, .pkr.json or .json (bundles .zip/.tar.gz are not supported yet)`,
    );
  }
  return source;
}

/** `varFiles` are keys in the template bucket; they are fetched (latest version) next to the template. */
export async function fetchVarFiles(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  dir: string,
): Promise<string[]> {
  const paths: string[] = [];
  for (const [n, key] of keys.entries()) {
    // The key must be a clean relative key too, though only its last segment names the local file.
    localPathForKey(dir, key);
    const local = localPathForKey(dir, `.kiln-var-files/${n}-${posix.basename(key)}`, key);
    await writeObject(local, await getText(s3, bucket, key), key);
    paths.push(local);
  }
  return paths;
}
