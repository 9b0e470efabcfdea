/**
 * A docker image reference as `docker pull` reads it (distribution/reference's normalization): the registry is the
 * first component when it looks like a host (a `.` or a `:` in it, or `localhost`: docker-names.ts
 * `hasRegistryHost`), else Docker Hub (`docker.io`, whose API host is `registry-1.docker.io`, with `library/` before
 * a one-component name); the tag defaults to `latest`; a digest (`@sha256:<64 hex>`) pins the content.
 * `python:3.9-slim` → docker.io, `library/python`, `3.9-slim`. Pure: no lookup, no network.
 */
import { DOCKER_TAG, hasRegistryHost } from '../schema/docker-names.ts';
import { printable } from '../schema/env-names.ts';

export interface ImageReference {
  /** The registry as docker names it: `docker.io`, `ghcr.io`, `host:port` (lowercase). */
  readonly registry: string;
  /** Where its Registry HTTP API answers: the registry, except Docker Hub's `registry-1.docker.io`. */
  readonly apiHost: string;
  /** The repository path inside the registry (`library/python`). */
  readonly repository: string;
  /** The tag (`latest` when none is written). */
  readonly tag: string;
  /** The pinned digest, when the reference has one. */
  readonly digest?: string;
}

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** A content digest as registries give it (Docker-Content-Digest): only sha256 is accepted. */
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** distribution/reference's path component rule. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** A host name or IPv4 with an optional port, or a bracketed IPv6 literal with an optional port. */
const REGISTRY_HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** distribution/reference: a repository name (registry included) is at most 255 characters. */
const MAX_NAME = 255;

export type ParsedReference =
  | { readonly ok: true; readonly ref: ImageReference }
  | { readonly ok: false; readonly reason: string };

/** The reference normalized as docker does, or why it is not a reference docker would pull. */
export function parseImageReference(reference: string): ParsedReference {
  const fail = (reason: string): ParsedReference => ({ ok: false, reason });
  const shown = printable(reference);
  if (reference === '' || reference.length > 1024) return fail(`"${shown}" is not an image reference`);
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256_DIGEST.test(digest)) return fail(`"${shown}": the digest is not sha256:<64 lowercase hex>`);
  }
  let registry = DOCKER_HUB;
  if (hasRegistryHost(rest)) {
    const slash = rest.indexOf('/');
    registry = rest.slice(0, slash).toLowerCase();
    rest = rest.slice(slash + 1);
    if (!REGISTRY_HOST.test(registry)) return fail(`"${shown}": "${printable(registry)}" is not a registry host`);
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!DOCKER_TAG.test(tag)) return fail(`"${shown}": "${printable(tag)}" is not a valid tag`);
  }
  const components = rest.split('/');
  if (!components.every((c) => PATH_COMPONENT.test(c))) {
    return fail(`"${shown}": "${printable(rest)}" is not a valid repository path (lowercase components, / between)`);
  }
  const repository = registry === DOCKER_HUB && components.length === 1 ? `library/${rest}` : rest;
  if (registry.length + 1 + repository.length > MAX_NAME)
    return fail(`"${shown}": the name is over ${MAX_NAME} characters`);
  return {
    ok: true,
    ref: {
      registry,
      apiHost: registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry,
      repository,
      tag,
      ...(digest ? { digest } : {}),
    },
  };
}

/** The host part of a registry (`host:port` → `host`, `[::1]:5000` → `::1`), lowercase. */
export function hostOf(registry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (bracketed) return (bracketed[1] as string).toLowerCase();
  return registry.replace(/:\d+$/, '').toLowerCase();
}

/**
 * Hosts a reference from an uploaded template must never make Kiln contact on its own: IP literals (v4, v6, any
 * form the URL parser would read as one), `localhost` and `*.localhost`, and names with no dot (an internal name).
 * Link-local and metadata addresses are IP literals, so they are among them.
 */
export function internalHostProblem(host: string): string | undefined {
  const h = hostOf(host).replace(/\.$/, '');
  if (h.includes(':')) return `${h} is an IP address`;
  // The URL parser reads a name whose last label is a number (decimal, octal, 0x hex) as an IPv4 address.
  if (/(?:^|\.)(?:\d+|0x[0-9a-f]*)$/i.test(h)) return `${h} is an IP address`;
  if (h === 'localhost' || h.endsWith('.localhost')) return `${h} is a loopback name`;
  if (!h.includes('.')) return `${h} is not a public host name`;
  return undefined;
}

/**
 * The reference `docker pull` should use so that it gets exactly `digest` (the one Kiln resolved for `reference`):
 * the reference as written with its tag replaced by the digest, in docker's short form (`python:3.9-slim` →
 * `python@sha256:…`, `host:5000/team/app:1.0` → `host:5000/team/app@sha256:…`; same registry and repository).
 * A reference already pinned by digest is returned as is. None when the reference or the digest is not valid.
 */
export function pinnedReference(reference: string, digest: string): string | undefined {
  const parsed = parseImageReference(reference);
  if (!parsed.ok) return undefined;
  if (parsed.ref.digest) return reference;
  if (!SHA256_DIGEST.test(digest)) return undefined;
  const colon = reference.lastIndexOf(':');
  const name = colon > reference.lastIndexOf('/') ? reference.slice(0, colon) : reference;
  return `${name}@${digest}`;
}
