/**
 * Credentials of a deployed role, as Lambda, an instance profile or Step Functions would hand them out:
 * `sts:AssumeRole` by the harness's admin user (the deploy adds it to each role's trust policy), cached per
 * role and renewed before they expire. moto then authorizes each call against that role's policies.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type LocalCredentials, localClientConfig } from './clients.ts';

/** Renew this long before expiry, so a call never starts with credentials about to lapse. */
export const RENEW_BEFORE_MS = 5 * 60_000;
const DURATION_SECONDS = 3600;

export interface RoleCredentials extends LocalCredentials {
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly roleArn: string;
}

export class RoleCredentialsCache {
  private cache = new Map<string, Promise<RoleCredentials>>();
  /** Access key id → role ARN and session, for the router's own authorization of calls it answers itself. */
  private readonly issued = new Map<string, { roleArn: string; sessionName: string }>();

  constructor(private readonly motoEndpoint: string) {}

  async forRole(roleArn: string, sessionName = 'kiln-local'): Promise<RoleCredentials> {
    const cached = this.cache.get(roleArn);
    if (cached) {
      const credentials = await cached.catch(() => undefined);
      if (credentials && credentials.expiration.getTime() - Date.now() > RENEW_BEFORE_MS) return credentials;
    }
    const fresh = this.assume(roleArn, sessionName);
    this.cache.set(roleArn, fresh);
    return await fresh;
  }

  /** The role whose credentials use this access key id, if the harness issued them. */
  roleOf(accessKeyId: string): string | undefined {
    return this.issued.get(accessKeyId)?.roleArn;
  }

  /** The session name the credentials with this access key id were issued under. */
  sessionOf(accessKeyId: string): string | undefined {
    return this.issued.get(accessKeyId)?.sessionName;
  }

  /** After `/moto-api/reset` moto forgot every session. */
  reset(): void {
    this.cache = new Map();
  }

  private async assume(roleArn: string, sessionName: string): Promise<RoleCredentials> {
    const sts = new STSClient(localClientConfig(this.motoEndpoint));
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: DURATION_SECONDS }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new Error(`AssumeRole ${roleArn}: moto returned no credentials`);
    }
    this.issued.set(c.AccessKeyId, { roleArn, sessionName });
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration ?? new Date(Date.now() + DURATION_SECONDS * 1000),
      roleArn,
    };
  }
}
