/**
 * A docker base image's current digest, for PrepareBuild's fingerprint (only-if-changed) and the artifact's lineage.
 * - The deployment's own ECR registry (its account, the stack's region): ECR DescribeImages with the SDK (the
 *   role may read only Kiln-managed repositories, the ones builder hosts may pull).
 * - Other registries by the Registry HTTP API v2: `HEAD /v2/<repository>/manifests/<tag>` accepting the OCI index,
 *   the Docker manifest list, the OCI manifest and the Docker v2 manifest; a 401 is answered by its
 *   `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge (an anonymous token from an https realm), once;
 *   the digest is the `Docker-Content-Digest` header, checked to be sha256. Nothing is downloaded but the token.
 *   Written here on Node's fetch: no small, well-kept library does only this (the registry clients on npm pull
 *   whole images, carry credential helpers or are unmaintained).
 * The reference comes from an uploaded template, so it must gain nothing: only registries on the allowlist
 * (`KILN_DIGEST_REGISTRIES`, default DEFAULT_DIGEST_REGISTRIES) are contacted, over https, never an IP literal,
 * `localhost` or a dot-less name, unless the deployment's mirror map (`KILN_REGISTRY_MIRRORS`) says where a registry
 * is served; every lookup has one deadline, redirects are refused, the token body is bounded, and no credential
 * of the function (AWS or other) is ever sent: requests carry only the anonymous token the registry's realm gave.
 * Every failure is a typed `unresolved` with its reason, never a thrown error (a build never fails for it).
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import {
  type ImageReference,
  internalHostProblem,
  parseImageReference,
  SHA256_DIGEST,
} from '../../core/docker/image-reference.ts';
import { parseEcrHost } from '../../core/schema/docker-names.ts';
import { KILN_ENV } from '../registry.ts';

export type DigestLookup =
  | { readonly kind: 'digest'; readonly digest: string }
  | { readonly kind: 'unresolved'; readonly reason: string };

export type ImageDigestResolver = (reference: string) => Promise<DigestLookup>;

/** Public registries whose anonymous digests are read unless the deployment sets its own list. */
export const DEFAULT_DIGEST_REGISTRIES: readonly string[] = [
  'docker.io',
  'public.ecr.aws',
  'ghcr.io',
  'quay.io',
  'mcr.microsoft.com',
  'gcr.io',
  'registry.k8s.io',
];

/** One lookup's whole budget (challenge, token, HEAD), in milliseconds. */
export const DEFAULT_DIGEST_TIMEOUT_MS = 4_000;
/** The most a token answer may hold; a larger one is refused unread. */
export const MAX_TOKEN_BYTES = 64 * 1024;

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface DigestResolverOptions {
  /** Registries (as docker names them: `docker.io`, `host:port`) whose digests may be read over the network. */
  readonly registries: readonly string[];
  /** Registry → the base URL serving it (`{"docker.io":"http://127.0.0.1:5000"}`): the only http and local hosts. */
  readonly mirrors: Readonly<Record<string, string>>;
  /** The deployment's own ECR registry, read with the SDK; absent: every ECR host is unresolved. */
  readonly ownEcr?: { readonly account: string; readonly region: string; readonly client: ECRClient };
  readonly timeoutMs?: number;
  /** For tests: Node's fetch otherwise. */
  readonly fetch?: typeof fetch;
}

const unresolved = (reason: string) => ({ kind: 'unresolved', reason }) as const;
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function registryDigestResolver(options: DigestResolverOptions): ImageDigestResolver {
  const allowed = new Set(options.registries.map((r) => r.toLowerCase()));
  return async (reference) => {
    const parsed = parseImageReference(reference);
    if (!parsed.ok) return unresolved(parsed.reason);
    const ref = parsed.ref;
    if (ref.digest) return { kind: 'digest', digest: ref.digest };
    const ecr = parseEcrHost(ref.registry);
    if (ecr) {
      const own = options.ownEcr;
      if (!own || ecr.account !== own.account) {
        return unresolved(`${ref.registry} is the ECR registry of another account: only this deployment's is read`);
      }
      if (ecr.region !== own.region) {
        return unresolved(`${ref.registry} is in ${ecr.region}: only the stack's region (${own.region}) is read`);
      }
      return await ecrDigest(own.client, ref, options.timeoutMs ?? DEFAULT_DIGEST_TIMEOUT_MS);
    }
    const mirror = options.mirrors[ref.registry];
    if (!mirror) {
      if (!allowed.has(ref.registry)) {
        return unresolved(
          `${ref.registry} is not among the registries Kiln reads digests from (kiln:digestRegistries, ` +
            `${KILN_ENV.digestRegistries}: ` +
            `${[...allowed].join(', ') || 'none'})`,
        );
      }
      const problem = internalHostProblem(ref.apiHost);
      if (problem) return unresolved(`${ref.registry} is never contacted: ${problem}`);
    }
    const base = mirror ?? `https://${ref.apiHost}`;
    try {
      return await httpDigest(options.fetch ?? fetch, base, ref, options.timeoutMs ?? DEFAULT_DIGEST_TIMEOUT_MS);
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return unresolved(
        timedOut
          ? `${ref.registry} did not answer within ${options.timeoutMs ?? DEFAULT_DIGEST_TIMEOUT_MS} ms`
          : `${ref.registry}: ${message(err)}`,
      );
    }
  };
}

async function ecrDigest(client: ECRClient, ref: ImageReference, timeoutMs: number): Promise<DigestLookup> {
  try {
    const out = await client.send(
      new DescribeImagesCommand({ repositoryName: ref.repository, imageIds: [{ imageTag: ref.tag }] }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
    const digest = out.imageDetails?.[0]?.imageDigest;
    if (!digest || !SHA256_DIGEST.test(digest)) {
      return unresolved(`ECR gave no sha256 digest for ${ref.repository}:${ref.tag}`);
    }
    return { kind: 'digest', digest };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    const hint = name === 'AccessDeniedException' ? ' (Kiln reads only repositories tagged kiln:managed=true)' : '';
    return unresolved(`ECR DescribeImages of ${ref.repository}:${ref.tag}: ${name}: ${message(err)}${hint}`);
  }
}

async function httpDigest(
  fetchFn: typeof fetch,
  base: string,
  ref: ImageReference,
  timeoutMs: number,
): Promise<DigestLookup> {
  const signal = AbortSignal.timeout(timeoutMs);
  const url = `${base.replace(/\/+$/, '')}/v2/${ref.repository}/manifests/${encodeURIComponent(ref.tag)}`;
  const head = (token?: string) =>
    fetchFn(url, {
      method: 'HEAD',
      redirect: 'manual',
      signal,
      headers: { Accept: MANIFEST_ACCEPT, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });
  let response = await head();
  if (response.status === 401) {
    const challenge = parseBearerChallenge(response.headers.get('www-authenticate') ?? '');
    if (!challenge) return unresolved(`${ref.registry} asked for authentication Kiln does not do anonymously`);
    const token = await anonymousToken(fetchFn, challenge, ref, signal);
    if ('kind' in token) return token;
    response = await head(token.token);
  }
  if (response.status >= 300 && response.status < 400) {
    return unresolved(`${ref.registry} redirected the manifest request (HTTP ${response.status}): refused`);
  }
  if (response.status === 401 || response.status === 403) {
    return unresolved(`${ref.registry} refused anonymous access to ${ref.repository} (HTTP ${response.status})`);
  }
  if (response.status === 404) return unresolved(`${ref.registry} has no ${ref.repository}:${ref.tag}`);
  if (!response.ok)
    return unresolved(`${ref.registry} answered HTTP ${response.status} for ${ref.repository}:${ref.tag}`);
  const digest = response.headers.get('docker-content-digest') ?? '';
  if (!SHA256_DIGEST.test(digest)) {
    return unresolved(
      digest
        ? `${ref.registry} sent a Docker-Content-Digest that is not sha256:<64 hex>`
        : `${ref.registry} sent no Docker-Content-Digest`,
    );
  }
  return { kind: 'digest', digest };
}

export interface BearerChallenge {
  readonly realm: string;
  readonly service?: string;
  readonly scope?: string;
}

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:…:pull"`. */
export function parseBearerChallenge(header: string): BearerChallenge | undefined {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[1] as string).matchAll(/([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) {
    params[(p[1] as string).toLowerCase()] = p[2] ?? p[3] ?? '';
  }
  if (!params.realm) return undefined;
  return {
    realm: params.realm,
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

/** The anonymous token of a challenge, or why there is none. */
async function anonymousToken(
  fetchFn: typeof fetch,
  challenge: BearerChallenge,
  ref: ImageReference,
  signal: AbortSignal,
): Promise<{ readonly token: string } | { readonly kind: 'unresolved'; readonly reason: string }> {
  let realm: URL;
  try {
    realm = new URL(challenge.realm);
  } catch {
    return unresolved(`${ref.registry}'s token realm is not a URL`);
  }
  if (realm.protocol !== 'https:') return unresolved(`${ref.registry}'s token realm is not https: refused`);
  const problem = internalHostProblem(realm.host);
  if (problem) return unresolved(`${ref.registry}'s token realm is never contacted: ${problem}`);
  if (realm.username || realm.password) return unresolved(`${ref.registry}'s token realm carries credentials: refused`);
  if (challenge.service) realm.searchParams.set('service', challenge.service);
  realm.searchParams.set('scope', challenge.scope ?? `repository:${ref.repository}:pull`);
  const response = await fetchFn(realm, { method: 'GET', redirect: 'manual', signal });
  if (!response.ok) {
    await response.body?.cancel();
    return unresolved(`${ref.registry}'s token realm answered HTTP ${response.status}`);
  }
  const text = await boundedText(response, MAX_TOKEN_BYTES);
  if (text === undefined) return unresolved(`${ref.registry}'s token answer is over ${MAX_TOKEN_BYTES} bytes: refused`);
  let token: unknown;
  try {
    const body = JSON.parse(text) as { token?: unknown; access_token?: unknown };
    token = body.token ?? body.access_token;
  } catch {
    return unresolved(`${ref.registry}'s token answer is not JSON`);
  }
  // A token goes into one header: printable ASCII only.
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,8192}$/.test(token)) {
    return unresolved(`${ref.registry}'s token answer holds no usable token`);
  }
  return { token };
}

/** The body as text, or undefined once it passes `max` bytes (the rest is not read). */
async function boundedText(response: Response, max: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * PrepareBuild's resolver as its environment configures it (the contract is functions/registry.ts KILN_ENV):
 * the allowlist, the mirror map and the own account's ECR in `region`. A malformed setting throws (cold start).
 */
export function digestResolverFromEnv(
  env: NodeJS.ProcessEnv,
  own: { readonly region: string; readonly ecr: ECRClient },
): ImageDigestResolver {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  const account = value(KILN_ENV.accountId);
  if (!account) throw new Error(`Environment variable ${KILN_ENV.accountId} is required`);
  return registryDigestResolver({
    registries: parseDigestRegistries(value(KILN_ENV.digestRegistries)),
    mirrors: parseRegistryMirrors(value(KILN_ENV.registryMirrors)),
    ownEcr: { account, region: own.region, client: own.ecr },
  });
}

/** The mirror map of `KILN_REGISTRY_MIRRORS` (JSON object registry → http(s) base URL); malformed: throws. */
export function parseRegistryMirrors(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  const fail = (why: string) => new Error(`Environment variable ${KILN_ENV.registryMirrors} ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw fail('must be a JSON object of registry → URL');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail('must be a JSON object of registry → URL');
  }
  const out: Record<string, string> = {};
  for (const [registry, url] of Object.entries(parsed)) {
    if (typeof url !== 'string' || !/^https?:\/\/[^/?#@]+\/?$/.test(url)) {
      throw fail(`: "${registry}" must map to http(s)://host[:port], got ${JSON.stringify(url)}`);
    }
    out[registry.toLowerCase()] = url.replace(/\/$/, '');
  }
  return out;
}

/** The allowlist of `KILN_DIGEST_REGISTRIES` (comma list; unset: the default; `none`: no registry). */
export function parseDigestRegistries(raw: string | undefined): readonly string[] {
  if (raw === undefined || raw.trim() === '') return DEFAULT_DIGEST_REGISTRIES;
  if (raw.trim() === 'none') return [];
  return raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}
