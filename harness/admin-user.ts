/**
 * moto enforces IAM once `INITIAL_NO_AUTH_ACTION_COUNT` requests have been served (HARNESS.md, "moto IAM
 * enforcement"). The harness spends exactly those first requests on an admin IAM user and its access key, which
 * every setup call then signs with. After `/moto-api/reset` (which deletes the user) `/moto-api/reset-auth`
 * grants the same allowance again and the user is made anew. The three calls are IAM Query requests sent
 * unsigned (they are the unauthenticated allowance), so no IAM client is needed.
 */
import { LOCAL_REGION, type LocalCredentials } from './clients.ts';

export const ADMIN_USER = 'kiln-harness-admin';
/** CreateUser, PutUserPolicy, CreateAccessKey. */
export const BOOTSTRAP_REQUESTS = 3;

export interface AdminUser {
  readonly arn: string;
  readonly credentials: LocalCredentials;
}

export async function bootstrapAdmin(motoEndpoint: string): Promise<AdminUser> {
  const created = await iamQuery(motoEndpoint, { Action: 'CreateUser', UserName: ADMIN_USER });
  await iamQuery(motoEndpoint, {
    Action: 'PutUserPolicy',
    UserName: ADMIN_USER,
    PolicyName: 'harness-admin',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    }),
  });
  const key = await iamQuery(motoEndpoint, { Action: 'CreateAccessKey', UserName: ADMIN_USER });
  const arn = xmlValue(created, 'Arn');
  const accessKeyId = xmlValue(key, 'AccessKeyId');
  const secretAccessKey = xmlValue(key, 'SecretAccessKey');
  if (!arn || !accessKeyId || !secretAccessKey) {
    throw new Error(`moto did not return the harness admin user and its access key:\n${created}\n${key}`);
  }
  return { arn, credentials: { accessKeyId, secretAccessKey } };
}

/** `/moto-api/reset-auth`: the next BOOTSTRAP_REQUESTS requests are unauthenticated again. */
export async function resetAuth(motoEndpoint: string): Promise<void> {
  const response = await fetch(`${motoEndpoint}/moto-api/reset-auth`, {
    method: 'POST',
    body: String(BOOTSTRAP_REQUESTS),
  });
  if (!response.ok) throw new Error(`moto /moto-api/reset-auth: HTTP ${response.status} ${await response.text()}`);
}

async function iamQuery(motoEndpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${motoEndpoint}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      // Routes the request to moto's IAM; the signature is not checked within the unauthenticated allowance.
      Authorization: `AWS4-HMAC-SHA256 Credential=bootstrap/20260101/${LOCAL_REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto IAM ${params.Action}: HTTP ${response.status} ${text}`);
  return text;
}

function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}
