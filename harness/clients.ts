/**
 * SDK client configuration for the local emulator: one attempt (see HARNESS.md) and the credentials of the
 * harness's admin IAM user. moto enforces IAM (moto.ts bootstraps that user), so setup calls, uploads and test
 * assertions sign as the admin; functions, the SSM stand-in and Step Functions sign as their own roles.
 */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface LocalClientConfig {
  readonly endpoint: string;
  readonly region: string;
  /** A provider, so clients made before a moto reset pick up the admin user bootstrapped after it. */
  readonly credentials: () => Promise<LocalCredentials>;
  /** moto answers unimplemented calls with HTTP 500; a retry would repeat side effects. */
  readonly maxAttempts: number;
  /** S3 on a loopback endpoint needs path-style addressing. */
  readonly forcePathStyle: boolean;
}

/** Credentials moto accepts while authentication is off (before the admin user exists, or plain moto). */
const UNAUTHENTICATED: LocalCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** The admin credentials in force per endpoint (moto's and the router's in front of it). */
const admins = new Map<string, LocalCredentials>();

export function setAdminCredentials(endpoints: readonly string[], credentials: LocalCredentials | undefined): void {
  for (const endpoint of endpoints) {
    if (credentials) admins.set(endpoint, credentials);
    else admins.delete(endpoint);
  }
}

export function adminCredentials(endpoint: string): LocalCredentials {
  return admins.get(endpoint) ?? UNAUTHENTICATED;
}

export function localClientConfig(endpoint: string, region: string = LOCAL_REGION): LocalClientConfig {
  return {
    endpoint,
    region,
    // An expiration of "now" makes the SDK ask again on every request: the lookup is a map read.
    credentials: async () => ({ ...adminCredentials(endpoint), expiration: new Date() }),
    maxAttempts: 1,
    forcePathStyle: true,
  };
}

export function fixedClientConfig(
  endpoint: string,
  region: string,
  credentials: LocalCredentials,
): Omit<LocalClientConfig, 'credentials'> & { credentials: LocalCredentials } {
  return { endpoint, region, credentials, maxAttempts: 1, forcePathStyle: true };
}

/** Environment for code that builds its own clients (handlers, scripts): endpoint, region and the credentials. */
export function localAwsEnv(
  endpoint: string,
  region: string = LOCAL_REGION,
  credentials: LocalCredentials = adminCredentials(endpoint),
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    AWS_MAX_ATTEMPTS: '1',
  };
}
