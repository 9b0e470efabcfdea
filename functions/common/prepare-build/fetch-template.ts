/**
 * Materializes a template from S3 into a local directory for the template engine (which reads files
 * synchronously). A plain `.json`/`.pkr.hcl` object is fetched by version id, together with the objects next to
 * it (the scripts and files it references), within fixed limits; a bundle (`.zip`/`.tar.gz`/`.tgz`) is read by
 * version id and extracted into the directory (archive.ts).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { BUNDLE_SIDECAR_FILE } from '../../../aws/build-input.ts';
import { NotFoundError, TemplateInvalidError } from '../../../core/errors.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import type { TemplateLocation } from '../../lib/plan-store.ts';
import { archiveKindOf, BUNDLE_LIMITS, extractArchive } from './archive.ts';
import { confinedPath, printable } from './confined-path.ts';

export const MAX_SIBLING_OBJECTS = 200;
export const MAX_SIBLING_BYTES = 20 * 1024 * 1024;

export interface MaterializedTemplate {
  /** Local path of the template: a file, or a folder of `.pkr.hcl`/`.pkr.json` files (Packer builds the folder). */
  readonly templatePath: string;
  /** The template's root: every path it names must stay inside (its S3 folder, or the bundle's root). */
  readonly root: string;
  /** What the user knows the root as, to show instead of the local path (`s3://bucket/folder`, `s3://bucket/app.zip!`). */
  readonly displayRoot: string;
  /**
   * When one file of an HCL2 folder was uploaded and the folder is built: that file. The upload builds the folder
   * only if this file declares a build (so a folder uploaded file by file builds once, not once per file).
   */
  readonly uploadedFile?: string;
}

export interface TemplateSource {
  readonly matches: (key: string) => boolean;
  readonly materialize: (s3: S3Client, location: TemplateLocation, dir: string) => Promise<MaterializedTemplate>;
}

const notFound = (m: string, cause: unknown) => new NotFoundError(m, { cause });

/**
 * Where an S3 key (relative to the template's folder) lands under `dir`, by the upload-name rule of
 * confined-path.ts; a key that breaks it is the uploader's to rename.
 */
export function localPathForKey(dir: string, rel: string, displayKey: string = rel): string {
  const where = confinedPath(dir, rel);
  if (where.ok) return where.path;
  throw new TemplateInvalidError(
    `The S3 key "${printable(displayKey)}" beside the template cannot be used: ${where.why}; rename the object`,
  );
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

async function getText(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId?: string,
  maxBytes?: number,
): Promise<Uint8Array> {
  const out = await awsCall(`reading s3://${bucket}/${key}`, notFound, () =>
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) })),
  );
  if (maxBytes !== undefined && (out.ContentLength ?? 0) > maxBytes) {
    // Refused before the body is read: a huge object never reaches the Lambda's memory.
    await out.Body?.transformToWebStream().cancel();
    throw new TemplateInvalidError(
      `s3://${bucket}/${key} is ${Math.ceil((out.ContentLength ?? 0) / 1024 / 1024)} MB, over the ${maxBytes / 1024 / 1024} MB limit for a template bundle`,
    );
  }
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

const HCL_FILE = /\.pkr\.(hcl|json)$/i;
const LEGACY_FILE = /\.json$/i;
const VAR_FILE = /\.pkrvars\.(hcl|json)$/i;

export const plainTemplateSource: TemplateSource = {
  // Variable files (`.pkrvars.hcl`, `.pkrvars.json`) are inputs, never templates.
  matches: (key) => /\.(pkr\.hcl|pkr\.json|json)$/i.test(key) && !/\.pkrvars\.json$/i.test(key),
  materialize: async (s3, location, dir) => {
    const folder = posix.dirname(location.key) === '.' ? '' : `${posix.dirname(location.key)}/`;
    const templatePath = join(dir, posix.basename(location.key));
    await writeFile(templatePath, await getText(s3, location.bucket, location.key, location.versionId));
    const siblings = await siblingKeys(s3, location.bucket, folder, location.key);
    for (const key of siblings) {
      const local = localPathForKey(dir, key.slice(folder.length), key);
      await writeObject(local, await getText(s3, location.bucket, key), key);
    }
    const displayRoot = `s3://${location.bucket}/${folder}`.replace(/\/$/, '');
    // Packer builds a folder of .pkr.hcl/.pkr.json files as one template (variables beside builds).
    const inFolder = (k: string) => !k.slice(folder.length).includes('/') && HCL_FILE.test(k) && !VAR_FILE.test(k);
    if (HCL_FILE.test(location.key) && siblings.some(inFolder)) {
      return { templatePath: dir, root: dir, displayRoot, uploadedFile: templatePath };
    }
    return { templatePath, root: dir, displayRoot };
  },
};

/** The folder inside an extracted bundle that holds the template: its root, or the one folder wrapping everything. */
async function bundleRoot(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  const only = entries.length === 1 ? entries[0] : undefined;
  return only?.isDirectory() ? join(dir, only.name) : dir;
}

/**
 * Which template a bundle builds, by Packer's own rules for a folder: `.pkr.hcl`/`.pkr.json` files at the root
 * make the root an HCL2 template folder (all its files together, variables beside builds); otherwise the one
 * legacy `.json` template at the root. Variable files never count.
 */
export async function bundleTemplate(root: string, label: string): Promise<string> {
  const files = (await readdir(root, { withFileTypes: true }))
    // A bundle's sidecar (`kiln.json`) holds its inputs; it is never the template.
    .filter((e) => e.isFile() && !VAR_FILE.test(e.name) && e.name !== BUNDLE_SIDECAR_FILE)
    .map((e) => e.name)
    .sort();
  if (files.some((f) => HCL_FILE.test(f))) return root;
  const legacy = files.filter((f) => LEGACY_FILE.test(f));
  if (legacy.length === 1 && legacy[0]) return join(root, legacy[0]);
  throw new TemplateInvalidError(
    legacy.length === 0
      ? `The bundle ${label} has no template at its root: put the .pkr.hcl files (or one legacy .json template) at the top of the archive, or inside one folder that holds everything`
      : `The bundle ${label} has several .json files at its root (${legacy.join(', ')}): keep one legacy template there and move the other files into a folder`,
  );
}

/**
 * `.zip` / `.tar.gz` / `.tgz`: the template with its scripts and files in one object, read by version id and
 * extracted under archive.ts's rules (confined names, no links, bounded entries and bytes).
 */
export const bundleTemplateSource: TemplateSource = {
  matches: (key) => archiveKindOf(key) !== undefined,
  materialize: async (s3, location, dir) => {
    const kind = archiveKindOf(location.key);
    if (!kind) throw new TemplateInvalidError(`s3 object "${printable(location.key)}" is not a bundle`);
    const label = `s3://${location.bucket}/${location.key}`;
    const bytes = await getText(s3, location.bucket, location.key, location.versionId, BUNDLE_LIMITS.maxArchiveBytes);
    await extractArchive(kind, bytes, dir, label);
    const root = await bundleRoot(dir);
    return { templatePath: await bundleTemplate(root, label), root, displayRoot: `${label}!` };
  },
};

export const TEMPLATE_SOURCES: readonly TemplateSource[] = [plainTemplateSource, bundleTemplateSource];

export function sourceFor(key: string): TemplateSource {
  const source = TEMPLATE_SOURCES.find((s) => s.matches(key));
  if (!source) {
    throw new TemplateInvalidError(
      `s3 object "${printable(key)}" is not a template: expected .pkr.hcl, .pkr.json or .json, or a bundle (.zip, .tar.gz, .tgz)`,
    );
  }
  return source;
}

/** The folder inside the template's root that fetched variable files land in (never part of a build context). */
export const VAR_FILES_FOLDER = '.kiln-var-files';

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
    const local = localPathForKey(dir, `${VAR_FILES_FOLDER}/${n}-${posix.basename(key)}`, key);
    await writeObject(local, await getText(s3, bucket, key), key);
    paths.push(local);
  }
  return paths;
}
