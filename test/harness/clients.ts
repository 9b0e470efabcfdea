/** SDK client configuration for the local emulator: fixed test credentials, one attempt (see HARNESS.md). */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export interface LocalClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** moto answers unimplemented calls with HTTP 500; a retry would repeat side effects. */
  readonly maxAttempts: number;
  /** S3 on a loopback endpoint needs path-style addressing. */
  readonly forcePathStyle: boolean;
}

export function localClientConfig(endpoint: string, region: string = LOCAL_REGION): LocalClientConfig {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    forcePathStyle: true,
  };
}

/** Environment for code that builds its own clients (the handlers): same endpoint, credentials and region. */
export function localAwsEnv(endpoint: string, region: string = LOCAL_REGION): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_MAX_ATTEMPTS: '1',
  };
}
