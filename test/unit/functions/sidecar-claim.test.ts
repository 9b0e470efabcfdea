/**
 * PrepareBuild's two upload rules: the sidecar version read is the one current when the template's version was
 * written, and one object version builds once however many times its event is delivered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildRequest } from '../../../functions/common/prepare-build/input.ts';
import { readSidecar, withSidecar } from '../../../functions/common/prepare-build/sidecar.ts';
import { claimUpload, uploadClaimKey } from '../../../functions/common/prepare-build/upload-claim.ts';
import { body } from './fakes.ts';

const upload = (key: string, versionId?: string): BuildRequest => ({
  template: { bucket: 'tpl', key, ...(versionId ? { versionId } : {}) },
  vars: [],
  varFiles: [],
  only: [],
  except: [],
  trigger: 's3-upload',
});
const at = (s: string) => new Date(`2026-12-02T10:00:${s}Z`);

describe('readSidecar', () => {
  const s3 = mockClient(S3Client);
  let root: string;
  beforeEach(() => {
    s3.reset();
    root = mkdtempSync(join(tmpdir(), 'kiln-sidecar-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads the sidecar version current when the template version was written, not a later one', async () => {
    s3.on(HeadObjectCommand, { Key: 'templates/web.pkr.hcl', VersionId: 't2' }).resolves({ LastModified: at('20') });
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: 'templates/web.pkr.hcl.kiln.json', VersionId: 's3', LastModified: at('30') },
        { Key: 'templates/web.pkr.hcl.kiln.json', VersionId: 's2', LastModified: at('15') },
        { Key: 'templates/web.pkr.hcl.kiln.json', VersionId: 's1', LastModified: at('05') },
        // Another key the prefix also lists: never taken.
        { Key: 'templates/web.pkr.hcl.kiln.json.bak', VersionId: 'x', LastModified: at('19') },
      ],
    });
    s3.on(GetObjectCommand, { Key: 'templates/web.pkr.hcl.kiln.json', VersionId: 's2' }).resolves({
      Body: body('{"vars":{"app_version":"2.0.0"},"except":["docker.app"]}'),
      VersionId: 's2',
    });
    const sidecar = await readSidecar(new S3Client({}), upload('templates/web.pkr.hcl', 't2'), root);
    expect(sidecar).toEqual({
      input: { vars: { app_version: '2.0.0' }, except: ['docker.app'] },
      label: 's3://tpl/templates/web.pkr.hcl.kiln.json?versionId=s2',
      localPath: 'web.pkr.hcl.kiln.json',
    });
    const request = withSidecar(upload('templates/web.pkr.hcl', 't2'), sidecar);
    expect(request).toMatchObject({ vars: [['app_version', '2.0.0']], except: ['docker.app'], only: [] });
  });

  it('a sidecar deleted before the template was written means none; a sidecar written only after it, none', async () => {
    s3.on(HeadObjectCommand).resolves({ LastModified: at('20') });
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'templates/web.pkr.hcl.kiln.json', VersionId: 's1', LastModified: at('05') }],
      DeleteMarkers: [{ Key: 'templates/web.pkr.hcl.kiln.json', VersionId: 'd1', LastModified: at('10') }],
    });
    expect(await readSidecar(new S3Client({}), upload('templates/web.pkr.hcl', 't'), root)).toBeUndefined();
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [{ Key: 'templates/web.pkr.hcl.kiln.json', VersionId: 's9', LastModified: at('25') }],
    });
    expect(await readSidecar(new S3Client({}), upload('templates/web.pkr.hcl', 't'), root)).toBeUndefined();
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it("a bundle's kiln.json is its sidecar; a direct request reads none", async () => {
    writeFileSync(join(root, 'kiln.json'), '{"only":["amazon-ebs.web"]}');
    const bundle = upload('templates/app.tar.gz', 'v1');
    expect(await readSidecar(new S3Client({}), bundle, root)).toEqual({
      input: { only: ['amazon-ebs.web'] },
      label: 's3://tpl/templates/app.tar.gz!kiln.json',
      localPath: 'kiln.json',
    });
    expect(await readSidecar(new S3Client({}), { ...bundle, trigger: 'request' }, root)).toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
    // Without one inside, the sidecar beside the bundle (the latest, for a schedule without a version id).
    rmSync(join(root, 'kiln.json'));
    s3.on(GetObjectCommand, { Key: 'templates/app.tar.gz.kiln.json' }).resolves({ Body: body('{"except":["x"]}') });
    expect(
      await readSidecar(new S3Client({}), { ...upload('templates/app.tar.gz'), trigger: 'schedule' }, root),
    ).toEqual({
      input: { except: ['x'] },
      label: 's3://tpl/templates/app.tar.gz.kiln.json',
    });
  });

  it('a sidecar that is not JSON or breaks the schema fails with Kiln.InputInvalid, without quoting its text', async () => {
    writeFileSync(join(root, 'kiln.json'), '{"vars": {"password": "hunter2-secret"');
    const bad = await readSidecar(new S3Client({}), upload('templates/app.zip'), root).catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'Kiln.InputInvalid' });
    expect((bad as Error).message).toMatch(/^The sidecar s3:\/\/tpl\/templates\/app\.zip!kiln\.json is not valid JSON/);
    expect((bad as Error).message).not.toContain('hunter2');
    writeFileSync(join(root, 'kiln.json'), '{"variables": {}}');
    await expect(readSidecar(new S3Client({}), upload('templates/app.zip'), root)).rejects.toThrow(
      /unknown field "variables" \(variables go in "vars"\)/,
    );
  });
});

describe('claimUpload', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());
  const deps = () => ({ s3: new S3Client({}), artifactsBucket: 'art', now: () => at('00') });
  const request = upload('templates/web.pkr.hcl', 'v7');
  const key = uploadClaimKey({ bucket: 'tpl', key: 'templates/web.pkr.hcl', versionId: 'v7' });

  it('the first execution claims the object version with a conditional put and builds', async () => {
    s3.on(PutObjectCommand).resolves({});
    expect(await claimUpload(deps(), request, { name: 'exec-a', buildId: 'kb-a' })).toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'art', Key: key, IfNoneMatch: '*' });
    expect(key).toMatch(/^builds\/upload-claims\/[0-9a-f]{64}\.json$/);
  });

  it('a second execution for the same version is told who builds it; the owner retrying goes on', async () => {
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      }),
    );
    s3.on(GetObjectCommand, { Key: key }).callsFake(() => ({
      Body: body(JSON.stringify({ executionName: 'exec-a', buildId: 'kb-a' })),
    }));
    expect(await claimUpload(deps(), request, { name: 'exec-b', buildId: 'kb-b' })).toBe(
      'duplicate event: s3://tpl/templates/web.pkr.hcl version v7 is built by kb-a (execution exec-a); one build per uploaded version',
    );
    expect(await claimUpload(deps(), request, { name: 'exec-a', buildId: 'kb-a' })).toBeUndefined();
  });

  it('claims nothing for a direct request, a schedule or an event without a version id', async () => {
    expect(await claimUpload(deps(), { ...request, trigger: 'request' }, { name: 'e', buildId: 'kb' })).toBeUndefined();
    expect(
      await claimUpload(deps(), { ...request, trigger: 'schedule' }, { name: 'e', buildId: 'kb' }),
    ).toBeUndefined();
    expect(await claimUpload(deps(), upload('templates/web.pkr.hcl'), { name: 'e', buildId: 'kb' })).toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
  });
});
