/**
 * `--upload-artifacts` on the agent's side (agent/upload.ts) against a loopback server playing the gateway's
 * uploads route and S3's presigned PUTs: regular files inside the template folder are streamed with their
 * Content-Length and get their key; missing files and folders are left out; a file outside the folder, a
 * symbolic link and a file behind a linked folder are refused before anything is asked or sent; a PUT refused
 * by S3 fails with its status.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UploadFailedError } from '../../../agent/errors.ts';
import { GatewayClient } from '../../../agent/gateway-client.ts';
import { uploadArtifactFiles } from '../../../agent/upload.ts';
import { authorizationHeader } from '../../../aws/agent-gateway-contract.ts';

let server: Server;
let base: string;
let root: string;
let dir: string;
/** What the "gateway" was asked, and what "S3" stored (with the Content-Length it was sent). */
const asked: { auth: string | undefined; body: { files: { name: string; size: number }[] } }[] = [];
const stored = new Map<string, { body: string; length: string | undefined }>();
let refusePut: string | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && url.pathname === '/jobs/job-1/uploads') {
        const parsed = JSON.parse(body) as (typeof asked)[number]['body'];
        asked.push({ auth: req.headers.authorization, body: parsed });
        const uploads = parsed.files.map(({ name }) => ({
          name,
          key: `agent-artifacts/b-1/file.example/${name}`,
          url: `${base}/s3/${encodeURIComponent(name)}?X-Amz-Signature=x`,
        }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uploads }));
      } else if (req.method === 'PUT' && url.pathname.startsWith('/s3/')) {
        const name = decodeURIComponent(url.pathname.slice('/s3/'.length));
        if (name === refusePut) {
          res.writeHead(403).end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
          return;
        }
        stored.set(name, { body, length: req.headers['content-length'] });
        res.writeHead(200).end();
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kiln-upload-'));
  dir = join(root, 'template');
  mkdirSync(join(dir, 'out'), { recursive: true });
  asked.length = 0;
  stored.clear();
  refusePut = undefined;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const job = { jobId: 'job-1', credential: 'job-1.secret' };
const ctx = () => ({
  client: new GatewayClient(base),
  templateDir: dir,
  signal: new AbortController().signal,
  log: () => {},
});
const artifact = (...names: string[]) => ({
  builderId: 'packer.file',
  artifactId: 'File',
  files: names.map((name) => ({ name })),
});

async function refusal(names: string[]): Promise<string> {
  const error = await uploadArtifactFiles([artifact(...names)], job, ctx()).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof UploadFailedError)) throw new Error(`expected an UploadFailedError, got ${String(error)}`);
  return error.message;
}

describe('uploadArtifactFiles', () => {
  it('streams regular files with their Content-Length and reports each key; missing files and folders are left out', async () => {
    writeFileSync(join(dir, 'out/release-notes.txt'), 'v1.2: faster\n');
    writeFileSync(join(dir, 'empty.bin'), '');
    mkdirSync(join(dir, 'out/folder'));
    const out = await uploadArtifactFiles(
      [
        artifact('out/release-notes.txt', 'missing.iso', 'out/folder', `${dir}/empty.bin`),
        artifact('./out/release-notes.txt'),
      ],
      job,
      ctx(),
    );
    expect(asked).toEqual([
      {
        auth: authorizationHeader('job', job.credential),
        body: {
          files: [
            { name: 'out/release-notes.txt', size: 13 },
            { name: 'empty.bin', size: 0 },
          ],
        },
      },
    ]);
    expect([...stored]).toEqual([
      ['out/release-notes.txt', { body: 'v1.2: faster\n', length: '13' }],
      ['empty.bin', { body: '', length: '0' }],
    ]);
    expect(out).toEqual(
      [
        artifact('out/release-notes.txt', 'missing.iso', 'out/folder', `${dir}/empty.bin`),
        artifact('./out/release-notes.txt'),
      ].map((a) => ({
        ...a,
        files: a.files.map((f) =>
          f.name.endsWith('release-notes.txt')
            ? { ...f, key: 'agent-artifacts/b-1/file.example/out/release-notes.txt' }
            : f.name.endsWith('empty.bin')
              ? { ...f, key: 'agent-artifacts/b-1/file.example/empty.bin' }
              : f,
        ),
      })),
    );
  });

  it('refuses a file outside the job folder, a symbolic link and a file behind a linked folder, sending nothing', async () => {
    writeFileSync(join(root, 'host-secret'), 'do not send');
    writeFileSync(join(dir, 'out/ok.txt'), 'ok');
    symlinkSync(join(root, 'host-secret'), join(dir, 'out/link.txt'));
    mkdirSync(join(root, 'elsewhere'));
    writeFileSync(join(root, 'elsewhere/x.txt'), 'elsewhere');
    symlinkSync(join(root, 'elsewhere'), join(dir, 'linked'));
    expect(await refusal(['out/ok.txt', '../host-secret'])).toBe(
      'artifact file ../host-secret is outside the job folder: not uploaded',
    );
    expect(await refusal([join(root, 'host-secret')])).toMatch(/is outside the job folder: not uploaded$/);
    expect(await refusal(['out/link.txt'])).toBe('artifact file out/link.txt is a symbolic link: not uploaded');
    expect(await refusal(['linked/x.txt'])).toBe(
      'artifact file linked/x.txt is reached through a symbolic link: not uploaded',
    );
    expect([asked, [...stored]]).toEqual([[], []]);
  });

  it('fails with the status when S3 refuses the PUT', async () => {
    writeFileSync(join(dir, 'out/a.txt'), 'a');
    refusePut = 'out/a.txt';
    expect(await refusal(['out/a.txt'])).toBe(
      'uploading out/a.txt answered HTTP 403: <Error><Code>SignatureDoesNotMatch</Code></Error>',
    );
  });
});
