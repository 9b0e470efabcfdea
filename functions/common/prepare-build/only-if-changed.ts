/**
 * PrepareBuild's half of only-if-changed: compute a build's input fingerprint (aws/build-fingerprint.ts owns its
 * form and the comparison) and find the template's last successful build to compare with.
 *
 * - template: sha256 over every file of the materialized template root (the template, the scripts and files
 *   beside it, a bundle's entries, fetched var files), path by path;
 * - amazon-ebs: `source_ami` as written, or `source_ami_filter` resolved now with LaunchBuilder's own rules
 *   (functions/lib/ec2/source-image.ts: newest when most_recent);
 * - docker: `image` with its digest: the one the reference pins (`name@sha256:...`), else the tag's current digest
 *   from `resolveImageDigest` (functions/lib/registry-digest.ts: the own account's ECR by DescribeImages, the
 *   allowlisted public registries by the Registry HTTP API, the deployment's mirrors); a `build` block's
 *   Dockerfile base is not read. The digest also becomes the artifact's lineage (Finalize reads it from the plan).
 * A lookup that fails makes that source `unresolved` with its reason (never a failed build): the build is then not
 * skipped, and LaunchBuilder (or the docker host's pull) reports the real error.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import {
  type ChangeVerdict,
  compareFingerprints,
  type InputFingerprint,
  type SourceInput,
} from '../../../aws/build-fingerprint.ts';
import { lastSuccessfulBuild } from '../../../aws/build-history.ts';
import type { PlannedBuild } from '../../../core/plan/types.ts';
import { known } from '../../../core/schema/decoded.ts';
import { resolveSourceImage } from '../../lib/ec2/source-image.ts';
import type { ImageDigestResolver } from '../../lib/registry-digest.ts';

export interface FingerprintDeps {
  readonly ec2For: (region: string) => EC2Client;
  readonly homeRegion: string;
  /** A docker image reference's current digest (`sha256:...`), or why it cannot be resolved; absent: not looked up. */
  readonly resolveImageDigest?: ImageDigestResolver;
}

/** sha256 over the tree: for each regular file in path order, `<relative path>\0<sha256 of content>\n`. */
export async function treeSha256(root: string): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
      // Links and other kinds are never materialized (archive.ts, fetch-template.ts refuse them).
    }
  };
  await walk(root);
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  files.sort((a, b) => (rel(a) < rel(b) ? -1 : rel(a) > rel(b) ? 1 : 0));
  const hash = createHash('sha256');
  for (const file of files) {
    const content = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    hash.update(`${rel(file)}\0${content}\n`);
  }
  return hash.digest('hex');
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const DIGEST_IN_REFERENCE = /@(sha256:[0-9a-f]{64})$/;

async function amiSource(deps: FingerprintDeps, build: PlannedBuild & { driver: 'ec2-ami' }): Promise<SourceInput> {
  const region = build.ami.region ?? deps.homeRegion;
  const sourceAmi = build.config.source_ami || undefined;
  if (sourceAmi) return { kind: 'ami', region, id: sourceAmi, from: 'source_ami' };
  const what = 'source_ami_filter';
  if (!known(build.config.source_ami_filter))
    return { kind: 'unresolved', what, reason: 'no filter known at plan time' };
  try {
    const image = await resolveSourceImage(deps.ec2For(region), build.config);
    if (!image.ImageId) return { kind: 'unresolved', what, reason: 'the matched image has no id' };
    return { kind: 'ami', region, id: image.ImageId, from: 'source_ami_filter' };
  } catch (err) {
    return { kind: 'unresolved', what, reason: message(err) };
  }
}

async function imageSource(
  deps: FingerprintDeps,
  config: Record<string, unknown>,
  lookups: Map<string, Promise<SourceInput>>,
): Promise<SourceInput> {
  const reference = typeof config.image === 'string' && config.image !== '' ? config.image : undefined;
  if (!reference) {
    return config.build
      ? { kind: 'unresolved', what: 'the Dockerfile of the build block', reason: 'its FROM image is not read' }
      : { kind: 'unresolved', what: 'image', reason: 'no image known at plan time' };
  }
  const pinned = DIGEST_IN_REFERENCE.exec(reference)?.[1];
  if (pinned) return { kind: 'image', reference, digest: pinned };
  const resolve = deps.resolveImageDigest;
  if (!resolve) return { kind: 'image', reference };
  // One lookup per reference per execution: builds starting from the same image see the same digest.
  let lookup = lookups.get(reference);
  if (!lookup) {
    lookup = resolve(reference).then(
      (found): SourceInput =>
        found.kind === 'digest'
          ? { kind: 'image', reference, digest: found.digest }
          : { kind: 'unresolved', what: `image ${reference}`, reason: found.reason },
      (err: unknown): SourceInput => ({ kind: 'unresolved', what: `image ${reference}`, reason: message(err) }),
    );
    lookups.set(reference, lookup);
  }
  return lookup;
}

async function sourceOf(
  deps: FingerprintDeps,
  build: PlannedBuild,
  lookups: Map<string, Promise<SourceInput>>,
): Promise<SourceInput> {
  if (build.driver === 'ec2-ami') return amiSource(deps, build);
  if (build.driver === 'ec2-docker') return imageSource(deps, build.config, lookups);
  return { kind: 'none' };
}

/** The fingerprint of a planned execution; builds are resolved one after another (a few lookups). */
export async function inputFingerprint(
  deps: FingerprintDeps,
  input: { readonly root: string; readonly versionId?: string; readonly builds: readonly PlannedBuild[] },
): Promise<InputFingerprint> {
  const builds: InputFingerprint['builds'] = [];
  const lookups = new Map<string, Promise<SourceInput>>();
  for (const b of input.builds) {
    builds.push({ name: b.name, driver: b.driver, source: await sourceOf(deps, b, lookups) });
  }
  return {
    version: 1,
    template: { sha256: await treeSha256(input.root), ...(input.versionId ? { versionId: input.versionId } : {}) },
    builds,
  };
}

/**
 * The fingerprint as it may be stored: a source that is (or contains) a sensitive value becomes unresolved, so the
 * build record never holds one (and such a build always counts as changed).
 */
export function withoutSensitive(fp: InputFingerprint, sensitive: readonly string[]): InputFingerprint {
  const values = sensitive.filter((v) => v.length > 0);
  if (values.length === 0) return fp;
  const holds = (text: string) => values.some((v) => text.includes(v));
  return {
    ...fp,
    builds: fp.builds.map((b) => {
      const s = b.source;
      const texts =
        s.kind === 'ami'
          ? [s.id]
          : s.kind === 'image'
            ? [s.reference, s.digest ?? '']
            : s.kind === 'unresolved'
              ? [s.what, s.reason]
              : [];
      return texts.some(holds)
        ? {
            ...b,
            source: {
              kind: 'unresolved',
              what: 'the source',
              reason: 'it comes from a sensitive value, which is never recorded',
            },
          }
        : b;
    }),
  };
}

/** The verdict for this fingerprint against the template's last successful build in the builds table. */
export async function onlyIfChangedVerdict(
  deps: { readonly dynamo: DynamoDBClient; readonly buildsTable: string },
  template: { readonly bucket: string; readonly key: string },
  fingerprint: InputFingerprint,
): Promise<ChangeVerdict> {
  const last = await lastSuccessfulBuild(deps.dynamo, deps.buildsTable, template);
  return compareFingerprints(fingerprint, last ? { buildId: last.buildId, fingerprint: last.fingerprint } : undefined);
}

/** PrepareBuild's `skipped` text for an unchanged build (the execution's output; the record keeps the verdict). */
export function unchangedSkip(verdict: ChangeVerdict): string {
  return `skipped: ${verdict.reason}`;
}
