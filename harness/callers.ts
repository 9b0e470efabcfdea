/**
 * Who signed a request, from the access key id in its SigV4 `Authorization` header: the harness's admin user,
 * a role the harness assumed (functions, builder instances: role-credentials.ts), or a role moto's Step Functions
 * interpreter assumed (recorded by moto_launcher.py in KILN_ASSUMED_ROLES_FILE). moto's IAM knows the same
 * keys; the harness keeps its own map because moto offers no lookup by access key without its secret.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface Caller {
  /** The role or user whose identity policies apply. */
  readonly principalArn: string;
  /** How AWS names the caller in a denial (`arn:aws:sts::<account>:assumed-role/<role>/<session>` for a role). */
  readonly display: string;
}

export interface CallerSources {
  /** The admin user's ARN and access key id (replaced by each reset). */
  readonly admin: () => { readonly arn: string; readonly accessKeyId: string };
  readonly roleOf: (accessKeyId: string) => string | undefined;
  readonly sessionOf: (accessKeyId: string) => string | undefined;
  /** JSON lines `{accessKeyId, roleArn}` written by moto's launcher. */
  readonly assumedRolesFile?: string;
}

/** The access key id of a SigV4 header (`Credential=AKID/date/region/service/aws4_request`). */
export function accessKeyOf(authorization: string | undefined): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
}

export function assumedRoleDisplay(roleArn: string, session: string): string {
  const [, , , , account, resource] = roleArn.split(':');
  const name = (resource ?? '').split('/').pop() ?? '';
  return `arn:aws:sts::${account}:assumed-role/${name}/${session}`;
}

export class CallerDirectory {
  constructor(private readonly sources: CallerSources) {}

  lookup(accessKeyId: string): Caller | undefined {
    const admin = this.sources.admin();
    if (accessKeyId === admin.accessKeyId) return { principalArn: admin.arn, display: admin.arn };
    const role = this.sources.roleOf(accessKeyId);
    if (role) {
      return {
        principalArn: role,
        display: assumedRoleDisplay(role, this.sources.sessionOf(accessKeyId) ?? 'kiln-local'),
      };
    }
    const states = this.stepFunctionsRole(accessKeyId);
    return states ? { principalArn: states, display: assumedRoleDisplay(states, 'kiln-states') } : undefined;
  }

  /** Read on demand: the file is short (one line per role and hour) and a new key is looked up once. */
  private stepFunctionsRole(accessKeyId: string): string | undefined {
    const file = this.sources.assumedRolesFile;
    if (!file || !existsSync(file)) return undefined;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes(accessKeyId)) continue;
      const entry = JSON.parse(line) as { accessKeyId?: string; roleArn?: string };
      if (entry.accessKeyId === accessKeyId && entry.roleArn) return entry.roleArn;
    }
    return undefined;
  }
}
