/**
 * AWS client settings. Clients are created once per container and region (module scope caches), so warm
 * invocations reuse connections. Each client has its own module under clients/ so that a function imports (and
 * pays the cold-start cost of) only the SDK packages it uses. The endpoint comes from `AWS_ENDPOINT_URL`, which the SDK reads itself;
 * only the retry budget is ours (`KILN_SDK_MAX_ATTEMPTS`, the harness sets 1).
 */
import { numberEnv, optionalEnv, SDK_MAX_ATTEMPTS_ENV } from './env.ts';

export interface ClientConfig {
  readonly region?: string;
  readonly maxAttempts: number;
}

export function clientConfig(region?: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const maxAttempts = numberEnv(SDK_MAX_ATTEMPTS_ENV, 3, env);
  const resolved = region ?? optionalEnv('AWS_REGION', env);
  return resolved ? { region: resolved, maxAttempts } : { maxAttempts };
}

/** The region the function runs in: the build's source region unless the template names another. */
export function homeRegion(env: NodeJS.ProcessEnv = process.env): string {
  return optionalEnv('AWS_REGION', env) ?? optionalEnv('AWS_DEFAULT_REGION', env) ?? 'us-east-1';
}

export function cachedPerRegion<T>(make: (region: string) => T): (region?: string) => T {
  const cache = new Map<string, T>();
  return (region = homeRegion()) => {
    let client = cache.get(region);
    if (!client) {
      client = make(region);
      cache.set(region, client);
    }
    return client;
  };
}
