/**
 * Docker's reference normalization (distribution/reference), as the digest resolver reads a base image, and the
 * hosts a template's reference must never make Kiln contact.
 */
import { describe, expect, it } from 'vitest';
import { internalHostProblem, parseImageReference, pinnedReference } from '../../../core/docker/image-reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each([
    ['python:3.9-slim', 'docker.io', 'registry-1.docker.io', 'library/python', '3.9-slim'],
    ['python', 'docker.io', 'registry-1.docker.io', 'library/python', 'latest'],
    ['bitnami/redis:7.2', 'docker.io', 'registry-1.docker.io', 'bitnami/redis', '7.2'],
    ['docker.io/python:3.12', 'docker.io', 'registry-1.docker.io', 'library/python', '3.12'],
    ['index.docker.io/library/python', 'docker.io', 'registry-1.docker.io', 'library/python', 'latest'],
    ['ghcr.io/org/app:v1', 'ghcr.io', 'ghcr.io', 'org/app', 'v1'],
    ['quay.io/a/b/c', 'quay.io', 'quay.io', 'a/b/c', 'latest'],
    ['myhost:5000/team/app:1.0', 'myhost:5000', 'myhost:5000', 'team/app', '1.0'],
    ['localhost/app', 'localhost', 'localhost', 'app', 'latest'],
    ['MyHost.Example.com/app', 'myhost.example.com', 'myhost.example.com', 'app', 'latest'],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/base/python:3.12',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'base/python',
      '3.12',
    ],
  ])('%s → registry %s (API %s), %s:%s', (reference, registry, apiHost, repository, tag) => {
    expect(parseImageReference(reference)).toEqual({ ok: true, ref: { registry, apiHost, repository, tag } });
  });

  it('keeps a pinned digest, with or without a tag', () => {
    expect(parseImageReference(`python@${D}`)).toEqual({
      ok: true,
      ref: {
        registry: 'docker.io',
        apiHost: 'registry-1.docker.io',
        repository: 'library/python',
        tag: 'latest',
        digest: D,
      },
    });
    expect(parseImageReference(`ghcr.io/o/a:v1@${D}`)).toMatchObject({ ok: true, ref: { tag: 'v1', digest: D } });
  });

  it.each([
    ['', /not an image reference/],
    ['Python:3', /not a valid repository path/],
    ['python:bad tag', /not a valid tag/],
    ['python:-x', /not a valid tag/],
    [`python@sha256:${'A'.repeat(64)}`, /digest is not sha256/],
    ['python@md5:abc', /digest is not sha256/],
    ['a//b', /not a valid repository path/],
    ['ex_ample.com/app', /not a registry host/],
    [`docker.io/${'a'.repeat(300)}`, /over 255 characters/],
  ])('refuses %j', (reference, reason) => {
    const parsed = parseImageReference(reference);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('internalHostProblem', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.1:5000',
    '169.254.169.254',
    '10.0.0.1',
    '[::1]:5000',
    '[fe80::1]',
    '2130706433',
    '0x7f000001',
    '0177.0.0.1',
    'localhost',
    'localhost:5000',
    'metadata.localhost',
    'registry',
    'internal-host:443',
  ])('refuses %s', (host) => {
    expect(internalHostProblem(host)).toBeDefined();
  });

  it.each(['registry-1.docker.io', 'ghcr.io', 'quay.io:443', 'auth.docker.io', 'public.ecr.aws'])(
    'accepts %s',
    (host) => {
      expect(internalHostProblem(host)).toBeUndefined();
    },
  );
});

describe('pinnedReference', () => {
  it.each([
    ['python:3.9-slim', `python@${D}`],
    ['python', `python@${D}`],
    ['docker.io/library/python:3.9-slim', `docker.io/library/python@${D}`],
    ['myhost:5000/team/app:1.0', `myhost:5000/team/app@${D}`],
    ['myhost:5000/team/app', `myhost:5000/team/app@${D}`],
    ['ghcr.io/org/app:v1', `ghcr.io/org/app@${D}`],
  ])('%s → %s', (reference, pinned) => {
    expect(pinnedReference(reference, D)).toBe(pinned);
    expect(parseImageReference(pinned)).toMatchObject({ ok: true, ref: { digest: D } });
  });
  it('keeps a reference already pinned by digest, and refuses an invalid reference or digest', () => {
    const already = `python:3.9-slim@sha256:${'e'.repeat(64)}`;
    expect(pinnedReference(already, D)).toBe(already);
    expect(pinnedReference('Not A Reference', D)).toBeUndefined();
    expect(pinnedReference('python:3.9-slim', 'sha256:short')).toBeUndefined();
  });
});
