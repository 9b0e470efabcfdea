/**
 * ECR's data plane, locally: an HTTP front on 127.0.0.1 that speaks the registry protocol for every ECR registry
 * (`<account>.dkr.ecr.<region>.amazonaws.com`, mapped to the path namespace `ecr/<account>/<region>/` here by the
 * docker wrapper for login and push, by registries.conf for pulls: wrapper.ts), stores in the local docker-registry
 * and keeps moto's ECR API in step.
 *
 * - Auth as ECR: Basic `AWS:<password>`, where the password is what ECR GetAuthorizationToken returns for that
 *   registry (asked of moto). No credentials: 401 with a Basic challenge, so a push without `docker login` fails
 *   as on AWS. (docker-registry itself runs without auth on loopback; this front is the only ECR door.)
 * - Repositories as ECR: a request for a repository moto's ECR does not have answers `NAME_UNKNOWN` with ECR's
 *   message; nothing is created implicitly. An IMMUTABLE repository refuses to move an existing tag (`TAG_INVALID`).
 * - The bridge: when a manifest PUT succeeds in the registry, the same bytes go to moto's PutImage (imageTag,
 *   imageManifest, imageManifestMediaType) before the push gets its answer, so DescribeImages/BatchGetImage know
 *   the image when `docker push` returns. moto's digest must equal the registry's Docker-Content-Digest (the
 *   digest users pull by; moto_launcher.py fixes moto's hash): a mismatch fails the push.
 * Not verified: the IAM check ECR makes on each push (ecr:InitiateLayerUpload, ecr:PutImage, ...) for the identity
 * behind the token; the front calls moto as the harness's admin.
 */
import { createHash } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  type Repository,
} from '@aws-sdk/client-ecr';
import { LOCAL_ACCOUNT, LOCAL_REGION, localClientConfig } from '../clients.ts';
import { freePort } from '../ports.ts';

/** The registry path namespace of one ECR registry: `ecr/<account>/<region>`. */
export function ecrNamespace(account: string, region: string): string {
  return `ecr/${account}/${region}`;
}

const ECR_PATH = /^\/v2\/ecr\/(\d{12})\/([a-z0-9-]+)\/(.+?)\/(manifests|blobs|tags)(\/.*)?$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

/** One image pushed through the front and bridged into moto's ECR. */
export interface BridgedPush {
  readonly account: string;
  readonly region: string;
  readonly repository: string;
  /** The tag pushed; absent for a push by digest. */
  readonly tag?: string;
  /** Docker-Content-Digest of the registry = moto's imageDigest. */
  readonly digest: string;
  readonly mediaType: string;
  readonly at: Date;
}

export interface EcrFront {
  /** `127.0.0.1:<port>` (plain HTTP). */
  readonly address: string;
  /** Every push bridged so far (oldest first). */
  pushes(): readonly BridgedPush[];
  stop(): Promise<void>;
}

export interface EcrFrontOptions {
  /** `127.0.0.1:<port>` of the docker-registry holding the images. */
  readonly registry: string;
  /** moto's endpoint; the front signs as the harness's admin user. */
  readonly motoEndpoint: string;
}

type Problem = { status: number; code: string; message: string; headers?: Record<string, string> };

export async function startEcrFront(options: EcrFrontOptions): Promise<EcrFront> {
  const clients = new Map<string, ECRClient>();
  const ecr = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = new ECRClient(localClientConfig(options.motoEndpoint, region));
      clients.set(region, client);
    }
    return client;
  };
  const pushes: BridgedPush[] = [];

  /** The password ECR's GetAuthorizationToken gives for this registry (moto's; asked each time: cheap, reset-proof). */
  const expectedPassword = async (account: string, region: string): Promise<string> => {
    const out = await ecr(region).send(new GetAuthorizationTokenCommand({ registryIds: [account] }));
    const token = out.authorizationData?.[0]?.authorizationToken ?? '';
    return Buffer.from(token, 'base64').toString('utf8').replace(/^AWS:/, '');
  };

  const authProblem = async (req: IncomingMessage, account: string, region: string): Promise<Problem | undefined> => {
    const challenge = {
      'WWW-Authenticate': `Basic realm="https://${account}.dkr.ecr.${region}.amazonaws.com/",service="ecr.amazonaws.com"`,
    };
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) {
      return { status: 401, code: 'DENIED', message: 'Not Authorized', headers: challenge };
    }
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    if (user !== 'AWS' || rest.join(':') !== (await expectedPassword(account, region))) {
      return {
        status: 401,
        code: 'DENIED',
        message: 'Your authorization token has expired. Reauthenticate and try again.',
        headers: challenge,
      };
    }
    return undefined;
  };

  const repositoryOf = async (account: string, region: string, name: string): Promise<Repository | undefined> => {
    try {
      const out = await ecr(region).send(
        new DescribeRepositoriesCommand({ registryId: account, repositoryNames: [name] }),
      );
      return out.repositories?.find((r) => r.registryId === account);
    } catch (error) {
      if ((error as Error).name === 'RepositoryNotFoundException') return undefined;
      throw error;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://front');
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      // The ping: valid credentials of the local account's registry (the only one moto has) or a challenge.
      const problem = await authProblem(req, LOCAL_ACCOUNT, LOCAL_REGION);
      if (problem) return answer(res, { ...problem, headers: { 'WWW-Authenticate': 'Basic realm="Kiln local ECR"' } });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' });
      res.end('{}');
      return;
    }
    const m = ECR_PATH.exec(url.pathname);
    if (!m) return answer(res, { status: 404, code: 'UNSUPPORTED', message: 'The operation is unsupported.' });
    const [, account, region, repository, kind, rest] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string?,
    ];
    const problem = await authProblem(req, account, region);
    if (problem) return answer(res, problem);
    const repo = await repositoryOf(account, region, repository);
    if (!repo) {
      return answer(res, {
        status: 404,
        code: 'NAME_UNKNOWN',
        message: `The repository with name '${repository}' does not exist in the registry with id '${account}'`,
      });
    }
    if (kind === 'manifests' && req.method === 'PUT') {
      const reference = decodeURIComponent((rest ?? '').replace(/^\//, ''));
      const body = await readBody(req);
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const tag = DIGEST.test(reference) ? undefined : reference;
      if (tag && repo.imageTagMutability === 'IMMUTABLE') {
        const existing = await existingDigest(ecr(region), account, repository, tag);
        if (existing && existing !== digest) {
          return answer(res, {
            status: 400,
            code: 'TAG_INVALID',
            message: `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`,
          });
        }
      }
      const upstream = await forward(options.registry, req, body);
      if (upstream.status < 200 || upstream.status >= 300) return relay(res, upstream);
      const registryDigest = String(upstream.headers['docker-content-digest'] ?? digest);
      const mediaType = String(req.headers['content-type'] ?? '');
      const image = await putImage(ecr(region), {
        account,
        repository,
        manifest: body.toString('utf8'),
        mediaType,
        ...(tag ? { tag } : {}),
      });
      if (image !== registryDigest) {
        return answer(res, {
          status: 500,
          code: 'UNKNOWN',
          message: `local ECR bridge: moto's ECR computed digest ${image} for the manifest the registry stored as ${registryDigest}`,
        });
      }
      pushes.push({
        account,
        region,
        repository,
        ...(tag ? { tag } : {}),
        digest: registryDigest,
        mediaType,
        at: new Date(),
      });
      return relay(res, upstream);
    }
    const upstream = await forward(options.registry, req);
    return relay(res, upstream);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        answer(res, { status: 500, code: 'UNKNOWN', message: `local ECR front: ${String(error)}` });
      } else res.destroy();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  let stopped: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    pushes: () => [...pushes],
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const client of clients.values()) client.destroy();
      });
      return stopped;
    },
  };
}

async function existingDigest(
  client: ECRClient,
  account: string,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  try {
    const out = await client.send(
      new DescribeImagesCommand({ registryId: account, repositoryName: repository, imageIds: [{ imageTag: tag }] }),
    );
    return out.imageDetails?.[0]?.imageDigest;
  } catch (error) {
    if ((error as Error).name === 'ImageNotFoundException') return undefined;
    throw error;
  }
}

/** PutImage; pushing the same manifest under a tag it already has is a no-op for the data plane (moto raises). */
async function putImage(
  client: ECRClient,
  input: { account: string; repository: string; manifest: string; mediaType: string; tag?: string },
): Promise<string> {
  try {
    const out = await client.send(
      new PutImageCommand({
        registryId: input.account,
        repositoryName: input.repository,
        imageManifest: input.manifest,
        ...(input.mediaType ? { imageManifestMediaType: input.mediaType } : {}),
        ...(input.tag ? { imageTag: input.tag } : {}),
      }),
    );
    return out.image?.imageId?.imageDigest ?? '';
  } catch (error) {
    if ((error as Error).name !== 'ImageAlreadyExistsException' || !input.tag) throw error;
    return (await existingDigest(client, input.account, input.repository, input.tag)) ?? '';
  }
}

interface Upstream {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: IncomingMessage;
}

/** The request to the registry: same method, path and headers (Authorization dropped); body streamed or given. */
function forward(registry: string, req: IncomingMessage, body?: Buffer): Promise<Upstream> {
  const [host, port] = registry.split(':') as [string, string];
  const headers = { ...req.headers };
  delete headers.authorization;
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const out = httpRequest({ host, port: Number(port), method: req.method, path: req.url, headers }, (response) =>
      resolve({ status: response.statusCode ?? 502, headers: response.headers, body: response }),
    );
    out.once('error', reject);
    if (body) out.end(body);
    else req.pipe(out);
  });
}

function relay(res: ServerResponse, upstream: Upstream): void {
  res.writeHead(upstream.status, upstream.headers);
  upstream.body.pipe(res);
}

function answer(res: ServerResponse, problem: Problem): void {
  res.writeHead(problem.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Docker-Distribution-API-Version': 'registry/2.0',
    ...problem.headers,
  });
  res.end(JSON.stringify({ errors: [{ code: problem.code, message: problem.message, detail: null }] }));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
