/**
 * IAM where moto does not check it. Two uses, one model (aws-calls.ts) and one evaluator (iam-evaluate.ts):
 * - `authorize`: the router authorizes the calls it answers itself (Lambda Invoke, SSM Run Command) before
 *   serving them, as AWS would: a denial is answered with AWS's error, so the pipeline fails as it would there.
 * - `record` + `replay`: every call a deployed role makes is recorded with what AWS would authorize for it
 *   (resource ARNs, request tags, the resource's tags read from moto at call time); the replay evaluates each
 *   against that role's identity policies, conditions included, which moto ignores.
 */
import type { ParsedCall, ResourceFacts } from './aws-calls.ts';
import { authorizationRequests } from './aws-calls.ts';
import type { Caller, CallerDirectory } from './callers.ts';
import { type AuthorizationRequest, denialMessage, evaluate } from './iam-evaluate.ts';
import { type IdentityPolicy, identityPoliciesOf } from './iam-policies.ts';

export interface RecordedCall {
  readonly at: Date;
  readonly caller: Caller;
  readonly service: string;
  readonly action: string;
  readonly region: string;
  /** What AWS authorizes for it; undefined when the harness does not model the action. */
  readonly requests: readonly AuthorizationRequest[] | undefined;
  /** HTTP status of the answer (moto's or the router's). */
  status?: number;
}

export interface ReplayDenial {
  readonly caller: string;
  readonly call: string;
  readonly request: AuthorizationRequest;
  readonly result: string;
}

export interface ReplayReport {
  readonly checked: number;
  readonly denied: readonly ReplayDenial[];
  /** `service:Action` of recorded calls the harness does not model, with their count. */
  readonly unmodelled: Readonly<Record<string, number>>;
}

export interface IamGuardOptions {
  readonly motoEndpoint: string;
  readonly account: string;
  readonly callers: CallerDirectory;
  readonly facts: ResourceFacts;
  /** The admin user's ARN: its calls (setup, test assertions) are authorized but not recorded. */
  readonly adminArn: () => string;
}

export class IamGuard {
  calls: RecordedCall[] = [];
  private policies = new Map<string, Promise<IdentityPolicy[]>>();

  constructor(private readonly options: IamGuardOptions) {}

  identify(accessKeyId: string | undefined): Caller | undefined {
    return accessKeyId ? this.options.callers.lookup(accessKeyId) : undefined;
  }

  isAdmin(caller: Caller): boolean {
    return caller.principalArn === this.options.adminArn();
  }

  /** What AWS would authorize for the call; undefined when not modelled or a resource fact could not be read. */
  async requestsFor(call: ParsedCall): Promise<AuthorizationRequest[] | undefined> {
    try {
      return await authorizationRequests(call, this.options.account, this.options.facts);
    } catch {
      return undefined;
    }
  }

  /** The first request AWS would deny, with AWS's message; undefined when every one is allowed. */
  async authorize(
    caller: Caller,
    requests: readonly AuthorizationRequest[],
  ): Promise<{ request: AuthorizationRequest; message: string } | undefined> {
    const policies = await this.policiesOf(caller.principalArn);
    for (const request of requests) {
      const decision = await evaluate(caller.principalArn, policies, request);
      if (!decision.allowed) return { request, message: denialMessage(caller.display, request) };
    }
    return undefined;
  }

  /** Records a call of a deployed role (the admin's are not part of the pipeline). */
  record(
    caller: Caller,
    call: ParsedCall,
    requests: readonly AuthorizationRequest[] | undefined,
  ): RecordedCall | undefined {
    if (this.isAdmin(caller)) return undefined;
    const recorded: RecordedCall = {
      at: new Date(),
      caller,
      service: call.service,
      action: call.action,
      region: call.region,
      requests,
    };
    this.calls.push(recorded);
    return recorded;
  }

  /** Every recorded call (or those `since` an index) evaluated against its caller's policies as they are now. */
  async replay(calls: readonly RecordedCall[] = this.calls): Promise<ReplayReport> {
    const denied: ReplayDenial[] = [];
    const unmodelled: Record<string, number> = {};
    let checked = 0;
    for (const call of calls) {
      const name = `${call.service}:${call.action}`;
      if (!call.requests) {
        unmodelled[name] = (unmodelled[name] ?? 0) + 1;
        continue;
      }
      const policies = await this.policiesOf(call.caller.principalArn);
      for (const request of call.requests) {
        checked += 1;
        const decision = await evaluate(call.caller.principalArn, policies, request);
        if (!decision.allowed) {
          denied.push({
            caller: call.caller.display,
            call: `${name} in ${call.region}`,
            request,
            result: decision.result,
          });
        }
      }
    }
    return { checked, denied, unmodelled };
  }

  /** After `/moto-api/reset` (or a policy change): read the policies again. */
  reset(): void {
    this.policies = new Map();
    this.calls = [];
  }

  private policiesOf(principalArn: string): Promise<IdentityPolicy[]> {
    let policies = this.policies.get(principalArn);
    if (!policies) {
      policies = identityPoliciesOf(this.options.motoEndpoint, principalArn);
      // A failed read is not cached: the next call tries again.
      policies.catch(() => this.policies.delete(principalArn));
      this.policies.set(principalArn, policies);
    }
    return policies;
  }
}

/** One line per denial, for a test failure message. */
export function formatDenials(denied: readonly ReplayDenial[]): string {
  return denied
    .map(
      (d) =>
        `${d.caller} ${d.call}: ${d.request.action} on ${d.request.resource} ${JSON.stringify(d.request.context)} → ${d.result}`,
    )
    .join('\n');
}
