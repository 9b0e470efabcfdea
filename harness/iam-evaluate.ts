/**
 * One IAM authorization decision, as AWS makes it for an identity-based request: the principal's identity
 * policies, the action, one resource ARN and the request context (tags, create action, passed-to service...),
 * evaluated by @cloud-copilot/iam-simulate (harness and tests only: AGPL, never in shipped code).
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import type { IdentityPolicy } from './iam-policies.ts';

/** What AWS authorizes for one API call: an action on one resource, with the context keys of that resource. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | string[]>>;
}

export interface Decision {
  readonly allowed: boolean;
  /** iam-simulate's result: Allowed, ImplicitlyDenied, ExplicitlyDenied. */
  readonly result: string;
}

export async function evaluate(
  principalArn: string,
  policies: readonly IdentityPolicy[],
  request: AuthorizationRequest,
): Promise<Decision> {
  const account = principalArn.split(':')[4] ?? '';
  const simulation = {
    request: {
      principal: principalArn,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables: { ...request.context },
    },
    identityPolicies: policies.map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const out = await runSimulation(simulation, {});
  if (out.resultType !== 'error') return { allowed: out.overallResult === 'Allowed', result: out.overallResult };
  // AWS-owned resources (SSM documents) have ARNs without an account, which iam-simulate's resource-type
  // matching does not accept; evaluate those without its request validation.
  if (out.errors.message === 'no.resource.types' && /^arn:aws:[^:]+:[^:]*::/.test(request.resource)) {
    const result = runUnsafeSimulation(simulation, {});
    return { allowed: result === 'Allowed', result };
  }
  throw new Error(`IAM simulation of ${request.action} on ${request.resource} failed: ${JSON.stringify(out.errors)}`);
}

/** AWS's wording of an identity-based denial. */
export function denialMessage(principal: string, request: AuthorizationRequest): string {
  return (
    `User: ${principal} is not authorized to perform: ${request.action} on resource: ${request.resource} ` +
    `because no identity-based policy allows the ${request.action} action`
  );
}
