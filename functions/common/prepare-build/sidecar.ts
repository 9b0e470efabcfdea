/**
 * A template's sidecar: the inputs an upload (or a schedule) cannot carry, variables, var files and only/except,
 * in `<template key>.kiln.json` beside the template (or bundle) or `kiln.json` at a bundle's root, checked with the same
 * contract as a direct request (aws/build-input.ts). Direct requests carry their inputs and read no sidecar.
 *
 * Which version: the one that was current when the template's version was written, so a build uses the inputs
 * its template was uploaded with even if the sidecar changed since. In a bundle that is automatic (same object).
 * Beside a template with a version id, it is the newest sidecar version (or delete marker: none) whose
 * LastModified is not after the template version's; S3 keeps LastModified to the second, so a sidecar written in
 * the same second as its template counts as before it: write the sidecar first. Without a version id (a
 * schedule builds the latest template) it is the latest sidecar.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  BUNDLE_SIDECAR_FILE,
  parseSidecar,
  type SidecarInput,
  sidecarKeyFor,
  varPairs,
} from '../../../aws/build-input.ts';
import { InputInvalidError, NotFoundError } from '../../../core/errors.ts';
import { awsCall } from '../../lib/aws-errors.ts';
import { archiveKindOf } from './archive.ts';
import type { BuildRequest } from './input.ts';

/** A sidecar is small; anything bigger is a mistake, refused before it is read. */
export const MAX_SIDECAR_BYTES = 256 * 1024;

export interface Sidecar {
  readonly input: SidecarInput;
  /** `s3://bucket/key` (with `?versionId=`), or `s3://bucket/bundle.tgz!kiln.json`. */
  readonly label: string;
  /** Where it sits in the template's root, relative to it (left out of build contexts and agent bundles). */
  readonly localPath?: string;
}

const notFound = (m: string, cause: unknown) => new NotFoundError(m, { cause });

function parseText(text: string, label: string): SidecarInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // JSON.parse's message quotes the text, which may hold a secret: only the position is shown.
    const at = /position (\d+)/.exec(String(err))?.[1];
    throw new InputInvalidError(`The sidecar ${label} is not valid JSON${at ? ` (at character ${at})` : ''}: fix it`);
  }
  return parseSidecar(value, label);
}

/** The sidecar version current at `at`: newest version or delete marker not after it (undefined: none). */
async function versionAt(s3: S3Client, bucket: string, key: string, at: Date): Promise<string | undefined> {
  const entries: { versionId: string; modified: number; deleted: boolean }[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const out = await awsCall(`listing the versions of s3://${bucket}/${key}`, notFound, () =>
      s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: key,
          ...(keyMarker ? { KeyMarker: keyMarker, VersionIdMarker: versionMarker } : {}),
        }),
      ),
    );
    for (const v of out?.Versions ?? []) {
      if (v.Key === key && v.VersionId && v.LastModified) {
        entries.push({ versionId: v.VersionId, modified: v.LastModified.getTime(), deleted: false });
      }
    }
    for (const m of out?.DeleteMarkers ?? []) {
      if (m.Key === key && m.VersionId && m.LastModified) {
        entries.push({ versionId: m.VersionId, modified: m.LastModified.getTime(), deleted: true });
      }
    }
    keyMarker = out?.IsTruncated ? out.NextKeyMarker : undefined;
    versionMarker = out?.IsTruncated ? out.NextVersionIdMarker : undefined;
  } while (keyMarker);
  // S3 lists a key's versions newest first; a stable sort keeps that order among equal timestamps.
  const current = entries.filter((e) => e.modified <= at.getTime()).sort((a, b) => b.modified - a.modified)[0];
  return current && !current.deleted ? current.versionId : undefined;
}

async function getSidecarText(s3: S3Client, bucket: string, key: string, versionId?: string) {
  let out: GetObjectCommandOutput | undefined;
  try {
    out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
    );
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    await awsCall(`reading s3://${bucket}/${key}`, notFound, () => Promise.reject(err));
  }
  if (!out) return undefined;
  if ((out.ContentLength ?? 0) > MAX_SIDECAR_BYTES) {
    await out.Body?.transformToWebStream().cancel();
    throw new InputInvalidError(
      `The sidecar s3://${bucket}/${key} is over ${MAX_SIDECAR_BYTES / 1024} KB: a sidecar holds variables and build names only`,
    );
  }
  return { text: (await out.Body?.transformToString()) ?? '', versionId: out.VersionId };
}

/**
 * The sidecar of an upload or a scheduled build (undefined when there is none, or for a direct request).
 * `root`: the materialized template's root, where a bundle's `kiln.json` was extracted.
 */
export async function readSidecar(s3: S3Client, request: BuildRequest, root: string): Promise<Sidecar | undefined> {
  if (request.trigger === 'request') return undefined;
  const { bucket, key, versionId } = request.template;
  if (archiveKindOf(key) !== undefined) {
    // Inside the bundle first (the same object, so the same version); else beside it, as for a plain template.
    const text = await readFile(join(root, BUNDLE_SIDECAR_FILE), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const label = `s3://${bucket}/${key}!${BUNDLE_SIDECAR_FILE}`;
      return { input: parseText(text, label), label, localPath: BUNDLE_SIDECAR_FILE };
    }
  }
  const sidecarKey = sidecarKeyFor(key);
  let version: string | undefined;
  if (versionId) {
    const head = await awsCall(`reading s3://${bucket}/${key} (version ${versionId})`, notFound, () =>
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
    );
    if (!head?.LastModified) return undefined;
    version = await versionAt(s3, bucket, sidecarKey, head.LastModified);
    if (!version) return undefined;
  }
  const read = await getSidecarText(s3, bucket, sidecarKey, version);
  if (!read) return undefined;
  const label = `s3://${bucket}/${sidecarKey}${read.versionId ? `?versionId=${read.versionId}` : ''}`;
  const slash = sidecarKey.lastIndexOf('/');
  // Beside a bundle it is not in the extracted root; beside a plain template it was fetched with the siblings.
  const localPath = archiveKindOf(key) === undefined ? { localPath: sidecarKey.slice(slash + 1) } : {};
  return { input: parseText(read.text, label), label, ...localPath };
}

/** The request with the sidecar's inputs (an upload or a schedule carries none of its own). */
export function withSidecar(request: BuildRequest, sidecar: Sidecar | undefined): BuildRequest {
  if (!sidecar) return request;
  const { vars, varFiles, only, except } = sidecar.input;
  return {
    ...request,
    vars: [...request.vars, ...varPairs(vars)],
    varFiles: [...request.varFiles, ...(varFiles ?? [])],
    only: [...request.only, ...(only ?? [])],
    except: [...request.except, ...(except ?? [])],
  };
}
