/**
 * PrepareBuild stages the docker build context: the files the context rule selects from the template's root, as
 * one deterministic tar.gz under the build's staged files prefix, its key on each ec2-docker build of the stored
 * plan. Runs the real template engine on the reference template (examples/docker-python-app.json, unchanged),
 * S3 and DynamoDB mocked; the archive S3 received is opened and its entries compared.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import * as tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { STAGED_TAGGING } from '../../../aws/store-layout.ts';
import { BUILD_CONTEXT_PATH } from '../../../core/docker/context.ts';
import { BUILD_CONTEXT_MTIME } from '../../../functions/common/prepare-build/build-context.ts';
import { normalizeInput } from '../../../functions/common/prepare-build/input.ts';
import { buildIdFor, type PrepareDeps, prepareBuild } from '../../../functions/common/prepare-build/prepare-build.ts';
import type { StoredPlan } from '../../../functions/lib/plan-store.ts';
import { body } from './fakes.ts';
import { prepareDeps } from './prepare-deps.ts';

const REFERENCE = readFileSync(new URL('../../../examples/docker-python-app.json', import.meta.url), 'utf8');
const MAKER = new URL('../../fixtures/bundles/make_archive.py', import.meta.url).pathname;

const APP: Record<string, string> = {
  'requirements.txt': 'requests==2.31.0\n',
  'app/__init__.py': '',
  'app/main.py': 'def greet():\n    return "hello"\n',
  'tests/test_app.py': 'import unittest\n',
};

const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBClient);
afterEach(() => {
  s3.reset();
  ddb.reset();
});

const deps: PrepareDeps = prepareDeps();

/** A `.tar.gz` bundle of `files` (python's tarfile, as the security tests make them). */
function bundle(files: Record<string, string>): Buffer {
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-context-bundle-'));
  try {
    const archive = join(scratch, 'bundle.tar.gz');
    const entries = Object.entries(files).map(([name, data]) => ({ name, data }));
    execFileSync('python3', [MAKER, 'tar.gz', archive], { input: JSON.stringify(entries) });
    return readFileSync(archive);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function serveBundle(key: string, files: Record<string, string>): void {
  const bytes = bundle(files);
  s3.on(GetObjectCommand, { Bucket: 'templates', Key: key }).resolves({
    ContentLength: bytes.length,
    Body: { transformToByteArray: async () => new Uint8Array(bytes) } as never,
  });
}

/** A plain upload: the template and the objects beside it in its S3 folder. */
function serveFolder(folder: string, template: string, files: Record<string, string>): void {
  const all = { [template]: REFERENCE, ...files };
  for (const [name, text] of Object.entries(all)) {
    s3.on(GetObjectCommand, { Bucket: 'templates', Key: `${folder}/${name}` }).resolves({ Body: body(text) });
  }
  s3.on(ListObjectsV2Command).resolves({
    Contents: Object.entries(all).map(([name, text]) => ({ Key: `${folder}/${name}`, Size: text.length })),
  });
}

const prepare = (key: string, extra: { varFiles?: string[] } = {}, executionName = 'exec-ctx') =>
  prepareBuild(
    deps,
    normalizeInput({ template: { bucket: 'templates', key, versionId: 'v1' }, ...extra }),
    executionName,
  );

function puts(): { Key: string; Body: unknown; Tagging?: string }[] {
  return s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input as { Key: string; Body: unknown });
}

function storedPlan(): StoredPlan {
  const put = puts().find((p) => p.Key.endsWith('/plan.json'));
  if (!put) throw new Error('no plan stored');
  return JSON.parse(String(put.Body)) as StoredPlan;
}

function contextPut() {
  return puts().find((p) => p.Key.endsWith(`/files/${BUILD_CONTEXT_PATH}`));
}

interface TarEntry {
  readonly name: string;
  readonly text: string;
  readonly header: tar.Header;
}

async function entriesOf(bytes: Uint8Array): Promise<TarEntry[]> {
  const extract = tar.extract();
  const out: TarEntry[] = [];
  const reading = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      out.push({ name: entry.header.name, text: Buffer.concat(chunks).toString('utf8'), header: entry.header });
    }
  })();
  extract.end(gunzipSync(bytes));
  await reading;
  return out;
}

describe('PrepareBuild stages the build context of an ec2-docker build', () => {
  it('a bundle with the reference template: the app files, not the template, var files or what .kilnignore lists', async () => {
    serveBundle('apps/python.tar.gz', {
      'docker-python-app.json': REFERENCE,
      ...APP,
      'prod.pkrvars.json': '{"password": "hunter2"}',
      'ci/other.pkr.hcl': '# a template file elsewhere in the folder',
      '.kilnignore': '# local only\nnotes/\n*.log\n',
      'notes/todo.md': 'x',
      'debug.log': 'x',
    });
    const out = await prepare('apps/python.tar.gz');
    expect(out.builds).toMatchObject([{ index: 0, driver: 'ec2-docker' }]);
    const put = contextPut();
    if (!put) throw new Error('no build context staged');
    const key = `builds/${buildIdFor('exec-ctx')}/files/${BUILD_CONTEXT_PATH}`;
    expect(put.Key).toBe(key);
    expect(put.Tagging).toBe(STAGED_TAGGING);
    const bytes = put.Body as Buffer;
    const entries = await entriesOf(bytes);
    // Exactly the app, in byte order, each with its content.
    expect(entries.map((e) => [e.name, e.text])).toEqual(
      ['app/__init__.py', 'app/main.py', 'requirements.txt', 'tests/test_app.py'].map((n) => [n, APP[n]]),
    );
    for (const { header } of entries) {
      expect(header).toMatchObject({ type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: BUILD_CONTEXT_MTIME });
    }
    expect(storedPlan().plan.builds[0]).toMatchObject({
      driver: 'ec2-docker',
      buildContext: {
        key,
        files: 4,
        bytes: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
    });
  });

  it('is deterministic: the same files give the same bytes, whatever the build or archive order', async () => {
    serveBundle('apps/a.tar.gz', { 'docker-python-app.json': REFERENCE, ...APP });
    await prepare('apps/a.tar.gz', {}, 'exec-a');
    const first = contextPut()?.Body as Buffer;
    s3.reset();
    ddb.reset();
    // Same files, written to the archive in reverse order, another build.
    const reversed = Object.fromEntries(Object.entries({ 'docker-python-app.json': REFERENCE, ...APP }).reverse());
    serveBundle('apps/b.tar.gz', reversed);
    await prepare('apps/b.tar.gz', {}, 'exec-b');
    const second = contextPut()?.Body as Buffer;
    expect(second.equals(first)).toBe(true);
    expect(contextPut()?.Key).toBe(`builds/${buildIdFor('exec-b')}/files/${BUILD_CONTEXT_PATH}`);
  });

  it('a plain upload: the objects beside the template, minus variable files the request names and fetches', async () => {
    serveFolder('site', 'docker-python-app.json', {
      ...APP,
      'vars.json': '{"token": "s3cr3t"}',
      'dev.pkrvars.hcl': 'x = 1',
    });
    s3.on(GetObjectCommand, { Bucket: 'templates', Key: 'site/vars.json' }).resolves({ Body: body('{}') });
    await prepare('site/docker-python-app.json', { varFiles: ['site/vars.json'] });
    const put = contextPut();
    if (!put) throw new Error('no build context staged');
    // Neither the var file as uploaded nor its fetched copy (.kiln-var-files/) is shipped.
    expect((await entriesOf(put.Body as Buffer)).map((e) => e.name)).toEqual(Object.keys(APP).sort());
  });

  it('a .kilnignore holding * turns it off: nothing staged, no buildContext in the plan', async () => {
    serveBundle('apps/off.tar.gz', { 'docker-python-app.json': REFERENCE, ...APP, '.kilnignore': '*\n' });
    await prepare('apps/off.tar.gz');
    expect(contextPut()).toBeUndefined();
    expect(storedPlan().plan.builds[0]).not.toHaveProperty('buildContext');
  });

  it('a template alone in its bundle has no build context', async () => {
    serveBundle('apps/alone.tar.gz', { 'docker-python-app.json': REFERENCE });
    await prepare('apps/alone.tar.gz');
    expect(contextPut()).toBeUndefined();
    expect(storedPlan().plan.builds[0]).not.toHaveProperty('buildContext');
  });

  it('nothing for an ec2-ami build, even with app files beside it', async () => {
    const ami = {
      builders: [
        {
          type: 'amazon-ebs',
          region: 'us-east-1',
          source_ami: 'ami-12345678',
          instance_type: 't3.micro',
          ssh_username: 'ubuntu',
          ami_name: 'x-{{timestamp}}',
        },
      ],
    };
    serveBundle('apps/ami.tar.gz', { 'ami.json': JSON.stringify(ami), ...APP });
    const out = await prepare('apps/ami.tar.gz');
    expect(out.builds).toMatchObject([{ driver: 'ec2-ami' }]);
    expect(contextPut()).toBeUndefined();
    expect(storedPlan().plan.builds[0]).not.toHaveProperty('buildContext');
  });

  it('refuses a template file staged under the name Kiln keeps for the context, instead of overwriting either', async () => {
    const template = JSON.parse(REFERENCE) as { provisioners: unknown[] };
    template.provisioners.unshift({ type: 'file', source: BUILD_CONTEXT_PATH, destination: '/tmp/x' });
    serveBundle('apps/clash.tar.gz', {
      'docker-python-app.json': JSON.stringify(template),
      ...APP,
      [BUILD_CONTEXT_PATH]: 'not the context',
    });
    await expect(prepare('apps/clash.tar.gz')).rejects.toMatchObject({
      name: 'Kiln.TemplateInvalid',
      message: expect.stringContaining(`named ${BUILD_CONTEXT_PATH}, the name Kiln keeps for it`),
    });
    expect(puts().some((p) => p.Key.endsWith('/plan.json'))).toBe(false);
  });
});
