/**
 * The stack's base image digest settings (`KilnStackProps.baseImageDigests`, context `kiln:digestRegistries`) as
 * PrepareBuild's environment, read back by the same parser the function uses (functions/lib/registry-digest.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DIGEST_REGISTRIES,
  parseDigestRegistries,
  parseRegistryMirrors,
} from '../../functions/lib/registry-digest.ts';
import { baseImageDigestEnv } from '../../infra/kiln-stack.ts';

describe('baseImageDigests → PrepareBuild environment', () => {
  it('sets nothing by default: the function uses DEFAULT_DIGEST_REGISTRIES and no mirror', () => {
    expect(baseImageDigestEnv(undefined)).toEqual({});
    expect(parseDigestRegistries(baseImageDigestEnv(undefined).digestRegistries)).toEqual(DEFAULT_DIGEST_REGISTRIES);
  });

  it('passes a list, an empty list as none, and mirrors as the JSON map the function parses', () => {
    const env = baseImageDigestEnv({
      registries: ['Docker.io', 'registry.example.com:8443'],
      mirrors: { 'docker.io': 'https://cache.example.com' },
    });
    expect(parseDigestRegistries(env.digestRegistries)).toEqual(['docker.io', 'registry.example.com:8443']);
    expect(parseRegistryMirrors(env.registryMirrors)).toEqual({ 'docker.io': 'https://cache.example.com' });
    expect(parseDigestRegistries(baseImageDigestEnv({ registries: [] }).digestRegistries)).toEqual([]);
  });

  it('refuses what is not a registry host, and a mirror that is not an http(s) origin', () => {
    expect(() => baseImageDigestEnv({ registries: ['https://docker.io'] })).toThrow(/must be registry hosts/);
    expect(() => baseImageDigestEnv({ mirrors: { 'docker.io': 'ftp://x' } })).toThrow(
      /baseImageDigests.mirrors: .*must map to http\(s\)/,
    );
  });
});
