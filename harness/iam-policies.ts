/**
 * The identity policies of a principal as moto's IAM stores them: inline and attached managed policies of a role
 * or a user, read with the harness's admin credentials. The SDK has no IAM client in this project, so the few
 * IAM Query calls are signed here with SigV4 (IAM is enforced, unsigned calls are refused).
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { adminCredentials, LOCAL_REGION } from './clients.ts';

export interface IdentityPolicy {
  readonly name: string;
  readonly policy: unknown;
}

export type PrincipalKind = 'role' | 'user';

/** `arn:aws:iam::<account>:role/<path/>name` or `...:user/name` → kind and name (the path is not part of it). */
export function principalOf(arn: string): { kind: PrincipalKind; name: string } | undefined {
  const match = /^arn:aws:iam::\d{12}:(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match ? { kind: match[1] as PrincipalKind, name: match[2] as string } : undefined;
}

/** Every identity policy of a role or user (inline first, then attached managed, default versions). */
export async function identityPoliciesOf(motoEndpoint: string, principalArn: string): Promise<IdentityPolicy[]> {
  const principal = principalOf(principalArn);
  if (!principal) throw new Error(`not a role or user ARN: ${principalArn}`);
  const kind = principal.kind === 'role' ? 'Role' : 'User';
  const nameParam = { [`${kind}Name`]: principal.name };
  const policies: IdentityPolicy[] = [];

  const inline = await iamCall(motoEndpoint, `List${kind}Policies`, nameParam);
  for (const name of xmlValues(inline, 'member')) {
    const doc = await iamCall(motoEndpoint, `Get${kind}Policy`, { ...nameParam, PolicyName: name });
    policies.push({ name, policy: parseDocument(xmlValues(doc, 'PolicyDocument')[0] ?? '') });
  }
  const attached = await iamCall(motoEndpoint, `ListAttached${kind}Policies`, nameParam);
  for (const arn of xmlValues(attached, 'PolicyArn')) {
    const meta = await iamCall(motoEndpoint, 'GetPolicy', { PolicyArn: arn });
    const versionId = xmlValues(meta, 'DefaultVersionId')[0] ?? 'v1';
    const version = await iamCall(motoEndpoint, 'GetPolicyVersion', { PolicyArn: arn, VersionId: versionId });
    policies.push({ name: arn, policy: parseDocument(xmlValues(version, 'Document')[0] ?? '') });
  }
  return policies;
}

/** IAM returns documents URL-encoded (moto sometimes not): decode when it is. Entities come from the XML. */
function parseDocument(text: string): unknown {
  const xml = text
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  const json = xml.trimStart().startsWith('%7B') ? decodeURIComponent(xml) : xml;
  return JSON.parse(json);
}

function xmlValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1] as string);
}

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 / HMAC-SHA-256 from node:crypto in the shape SignatureV4 wants. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export async function iamCall(motoEndpoint: string, action: string, params: Record<string, string>): Promise<string> {
  const url = new URL(motoEndpoint);
  const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString();
  const signer = new SignatureV4({
    credentials: adminCredentials(motoEndpoint),
    region: LOCAL_REGION,
    service: 'iam',
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const response = await fetch(`${motoEndpoint}/`, { method: 'POST', headers: signed.headers, body });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto IAM ${action}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return text;
}
