/**
 * The base image digest resolver (functions/lib/registry-digest.ts): the Registry HTTP API flow against a local
 * node:http server playing the registry and its token realm (401 challenge → anonymous token → HEAD with the
 * digest), its refusals (bad digest, oversized token, timeout, redirect, http realm), the allowlist (IP literals,
 * localhost, unknown hosts are never contacted), and the own account's ECR through the SDK (mocked).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_DIGEST_REGISTRIES,
  type DigestResolverOptions,
  MANIFEST_ACCEPT,
  MAX_TOKEN_BYTES,
  parseBearerChallenge,
  parseDigestRegistries,
  parseRegistryMirrors,
  registryDigestResolver,
} from '../../../functions/lib/registry-digest.ts';

const DIGEST = `sha256:${'1'.repeat(64)}`;

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** What the fake registry does for the next requests; `seen` records every request it got. */
let behaviour: (req: Seen, res: import('node:http').ServerResponse) => void;
let seen: Seen[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    seen.push(r);
    behaviour(r, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
});

/**
 * Docker Hub as it answers: the manifest HEAD asks for a bearer token from the https realm, the realm gives one,
 * the HEAD with it gets the digest. The realm's https URL reaches the local server through `viaLocal`.
 */
function dockerHub(options: { token?: string | Buffer; digest?: string; realm?: string } = {}) {
  behaviour = (req, res) => {
    if (req.url.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(options.token ?? JSON.stringify({ token: 'anon-token', expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== 'Bearer anon-token') {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${options.realm ?? 'https://auth.docker.io/token'}",service="registry.docker.io",scope="repository:library/python:pull"`,
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    res.writeHead(200, {
      'docker-content-digest': options.digest ?? DIGEST,
      'content-type': 'application/vnd.oci.image.index.v1+json',
    });
    res.end();
  };
}

/** Node's fetch, with every https URL sent to the local server instead (the path and query kept), recorded. */
const asked: string[] = [];
const viaLocal: typeof fetch = (input, init) => {
  const url = input instanceof URL ? input.href : String(input);
  asked.push(url);
  return fetch(url.replace(/^https:\/\/[^/]+/, base), init);
};
const refuseFetch: typeof fetch = (input) => {
  throw new Error(`must not be contacted: ${String(input)}`);
};

const resolver = (over: Partial<DigestResolverOptions> = {}) =>
  registryDigestResolver({ registries: DEFAULT_DIGEST_REGISTRIES, mirrors: {}, fetch: viaLocal, ...over });

describe('the Registry HTTP API flow', () => {
  beforeEach(() => {
    asked.length = 0;
  });

  it('follows the 401 challenge to an anonymous token from the https realm, then reads Docker-Content-Digest', async () => {
    dockerHub();
    expect(await resolver()('python:3.9-slim')).toEqual({ kind: 'digest', digest: DIGEST });
    expect(asked).toEqual([
      'https://registry-1.docker.io/v2/library/python/manifests/3.9-slim',
      'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fpython%3Apull',
      'https://registry-1.docker.io/v2/library/python/manifests/3.9-slim',
    ]);
    expect(seen.map((r) => r.method)).toEqual(['HEAD', 'GET', 'HEAD']);
    // Only the manifest types and, on the retry, the realm's token: no credential of the function ever goes out.
    const [first, token, retry] = seen as [Seen, Seen, Seen];
    expect(first.headers.accept).toBe(MANIFEST_ACCEPT);
    expect(first.headers.authorization).toBeUndefined();
    expect(token.headers.authorization).toBeUndefined();
    expect(retry.headers.authorization).toBe('Bearer anon-token');
    for (const r of seen) {
      expect(
        Object.keys(r.headers).filter((h) => /auth|token|cookie|amz|aws/i.test(h) && h !== 'authorization'),
      ).toEqual([]);
    }
  });

  it('is unresolved when the digest is not sha256:<64 hex>, or missing', async () => {
    dockerHub({ digest: 'sha256:XYZ' });
    expect(await resolver()('python:3.9-slim')).toEqual({
      kind: 'unresolved',
      reason: 'docker.io sent a Docker-Content-Digest that is not sha256:<64 hex>',
    });
    behaviour = (_req, res) => {
      res.writeHead(200);
      res.end();
    };
    expect(await resolver()('ghcr.io/o/a:v1')).toEqual({
      kind: 'unresolved',
      reason: 'ghcr.io sent no Docker-Content-Digest',
    });
  });

  it('refuses a token answer over 64 KiB, declared or streamed', async () => {
    const big = JSON.stringify({ token: 'x'.repeat(MAX_TOKEN_BYTES) });
    dockerHub({ token: big });
    expect(await resolver()('python:3.9-slim')).toEqual({
      kind: 'unresolved',
      reason: `docker.io's token answer is over ${MAX_TOKEN_BYTES} bytes: refused`,
    });
    // Chunked, no content-length: the reader stops past the bound.
    behaviour = (req, res) => {
      if (req.url.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 80; i++) res.write('x'.repeat(1024));
        res.end();
        return;
      }
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="https://auth.docker.io/token"' });
      res.end();
    };
    expect(await resolver()('python:3.9-slim')).toMatchObject({ reason: /token answer is over 65536 bytes/ });
  });

  it('gives up within its deadline when the registry does not answer', async () => {
    behaviour = () => {
      // Never answers.
    };
    const started = Date.now();
    expect(await resolver({ timeoutMs: 300 })('python:3.9-slim')).toEqual({
      kind: 'unresolved',
      reason: 'docker.io did not answer within 300 ms',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses redirects of the manifest request and of the token request', async () => {
    behaviour = (_req, res) => {
      res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    };
    expect(await resolver()('python:3.9-slim')).toEqual({
      kind: 'unresolved',
      reason: 'docker.io redirected the manifest request (HTTP 307): refused',
    });
    expect(seen.map((r) => r.url)).toEqual(['/v2/library/python/manifests/3.9-slim']);
    behaviour = (req, res) => {
      if (req.url.startsWith('/token')) {
        res.writeHead(302, { location: 'http://169.254.169.254/' });
        res.end();
        return;
      }
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="https://auth.docker.io/token"' });
      res.end();
    };
    expect(await resolver()('python:3.9-slim')).toEqual({
      kind: 'unresolved',
      reason: "docker.io's token realm answered HTTP 302",
    });
  });

  it('never follows a realm that is not https or is an internal host', async () => {
    for (const [realm, reason] of [
      ['http://auth.docker.io/token', "docker.io's token realm is not https: refused"],
      ['https://169.254.169.254/token', "docker.io's token realm is never contacted: 169.254.169.254 is an IP address"],
      ['https://localhost/token', "docker.io's token realm is never contacted: localhost is a loopback name"],
    ] as const) {
      dockerHub({ realm });
      seen = [];
      expect(await resolver()('python:3.9-slim')).toEqual({ kind: 'unresolved', reason });
      expect(seen.map((r) => r.method)).toEqual(['HEAD']);
    }
  });

  it('says what the registry answered: unknown tag, denied, other errors', async () => {
    for (const [status, reason] of [
      [404, 'quay.io has no a/b:latest'],
      [403, 'quay.io refused anonymous access to a/b (HTTP 403)'],
      [500, 'quay.io answered HTTP 500 for a/b:latest'],
    ] as const) {
      behaviour = (_req, res) => {
        res.writeHead(status);
        res.end();
      };
      expect(await resolver()('quay.io/a/b')).toEqual({ kind: 'unresolved', reason });
    }
  });

  it('reads a mirror the deployment configured over http, and only there', async () => {
    behaviour = (_req, res) => {
      res.writeHead(200, { 'docker-content-digest': DIGEST });
      res.end();
    };
    const mirrored = registryDigestResolver({
      registries: [],
      mirrors: { 'docker.io': base },
      fetch: (input, init) => {
        asked.push(String(input));
        return fetch(input, init);
      },
    });
    expect(await mirrored('python:3.9-slim')).toEqual({ kind: 'digest', digest: DIGEST });
    expect(asked).toEqual([`${base}/v2/library/python/manifests/3.9-slim`]);
    expect(await mirrored('ghcr.io/o/a')).toMatchObject({ kind: 'unresolved', reason: /ghcr.io is not among/ });
  });
});

describe('what is never contacted', () => {
  const strict = (over: Partial<DigestResolverOptions> = {}) => resolver({ fetch: refuseFetch, ...over });

  it.each([
    [
      '10.0.0.1:5000/app:1',
      /10\.0\.0\.1:5000 is not among the registries Kiln reads digests from \(kiln:digestRegistries, KILN_DIGEST_REGISTRIES: docker\.io, /,
    ],
    ['169.254.169.254/latest/meta-data', /169\.254\.169\.254 is not among/],
    ['localhost:5000/app', /localhost:5000 is not among/],
    ['[::1]:5000/app', /\[::1\]:5000 is not among/],
    ['registry.example.com/app', /registry\.example\.com is not among/],
  ])('%s: not on the allowlist', async (reference, reason) => {
    expect(await strict()(reference)).toMatchObject({ kind: 'unresolved', reason });
  });

  it('an IP literal or loopback name is refused even when the allowlist names it', async () => {
    const listed = strict({ registries: ['10.0.0.1:5000', 'localhost:5000', 'registry'] });
    expect(await listed('10.0.0.1:5000/app')).toEqual({
      kind: 'unresolved',
      reason: '10.0.0.1:5000 is never contacted: 10.0.0.1 is an IP address',
    });
    expect(await listed('localhost:5000/app')).toEqual({
      kind: 'unresolved',
      reason: 'localhost:5000 is never contacted: localhost is a loopback name',
    });
  });

  it('a reference that is not one docker pulls, or one pinned by digest, needs no request', async () => {
    expect(await strict()('Not A Reference')).toMatchObject({ kind: 'unresolved', reason: /not a valid/ });
    expect(await strict()(`python@${DIGEST}`)).toEqual({ kind: 'digest', digest: DIGEST });
  });
});

describe("the deployment's own ECR", () => {
  const ecr = mockClient(ECRClient);
  const own = { account: '123456789012', region: 'us-east-1', client: new ECRClient({ region: 'us-east-1' }) };
  const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
  beforeEach(() => ecr.reset());

  it('reads the tag with DescribeImages and never over HTTP', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['3.12'] }] });
    const resolve = resolver({ fetch: refuseFetch, ownEcr: own });
    expect(await resolve(`${host}/base/python:3.12`)).toEqual({ kind: 'digest', digest: DIGEST });
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, {
      repositoryName: 'base/python',
      imageIds: [{ imageTag: '3.12' }],
    });
  });

  it('says why a repository it may not read is unresolved', async () => {
    ecr
      .on(DescribeImagesCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    expect(await resolver({ fetch: refuseFetch, ownEcr: own })(`${host}/prod/app`)).toEqual({
      kind: 'unresolved',
      reason:
        'ECR DescribeImages of prod/app:latest: AccessDeniedException: not authorized (Kiln reads only repositories tagged kiln:managed=true)',
    });
  });

  it("leaves another account's ECR and another region unresolved, without a call", async () => {
    const resolve = resolver({ fetch: refuseFetch, ownEcr: own });
    expect(await resolve('210987654321.dkr.ecr.us-east-1.amazonaws.com/app:1')).toEqual({
      kind: 'unresolved',
      reason:
        "210987654321.dkr.ecr.us-east-1.amazonaws.com is the ECR registry of another account: only this deployment's is read",
    });
    expect(await resolve('123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1')).toEqual({
      kind: 'unresolved',
      reason:
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com is in eu-west-1: only the stack's region (us-east-1) is read",
    });
    expect(ecr).not.toHaveReceivedCommand(DescribeImagesCommand);
  });
});

describe('settings', () => {
  it('parses the mirror map, refusing anything but an http(s) origin', () => {
    expect(parseRegistryMirrors(undefined)).toEqual({});
    expect(parseRegistryMirrors('{"Docker.io":"http://127.0.0.1:5000/"}')).toEqual({
      'docker.io': 'http://127.0.0.1:5000',
    });
    expect(() => parseRegistryMirrors('[1]')).toThrow(/KILN_REGISTRY_MIRRORS must be a JSON object/);
    expect(() => parseRegistryMirrors('{"docker.io":"file:///etc"}')).toThrow(/must map to http\(s\):\/\/host/);
    expect(() => parseRegistryMirrors('{"docker.io":"http://user:pw@h"}')).toThrow(/must map to/);
  });

  it('parses the allowlist: default, a list, or none', () => {
    expect(parseDigestRegistries(undefined)).toEqual(DEFAULT_DIGEST_REGISTRIES);
    expect(parseDigestRegistries(' Docker.io , ghcr.io ')).toEqual(['docker.io', 'ghcr.io']);
    expect(parseDigestRegistries('none')).toEqual([]);
  });

  it('parses bearer challenges', () => {
    expect(
      parseBearerChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/a:pull"'),
    ).toEqual({ realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/a:pull' });
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseBearerChallenge('Bearer service="x"')).toBeUndefined();
  });
});
