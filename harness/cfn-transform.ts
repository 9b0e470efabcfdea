/**
 * Rewrites a CDK-synthesized CloudFormation template into one moto can create (HARNESS.md, Recommendation B).
 * Pure: template in, template and a report out. Each change compensates one measured moto gap, and the report
 * lists what was dropped so the deploy step can redo its effect through the API (or say it cannot).
 *
 * - `AWS::CDK::Metadata`: moto has no support (skipped anyway); dropped to keep its log clean.
 * - `Custom::*`: moto would invoke the provider Lambda in Docker and hang the stack; dropped.
 * - `DefinitionSubstitutions`: moto ignores them, so `${Placeholder}` would stay in the ASL; inlined into
 *   `DefinitionString` as an `Fn::Join`, which moto resolves.
 * - The bootstrap version parameter and rule: moto cannot read `AWS::SSM::Parameter::Value<String>` without a
 *   bootstrapped account; dropped (Kiln's app does not generate them anyway).
 * - Types moto's CloudFormation cannot create (NOT_DEPLOYED_LOCALLY): dropped and reported, never faked.
 * - `AWS::ApiGateway::Stage`: moto has no such type; it skips the resource and resolves its `Ref` to "None" (so
 *   the API URL output and every `AWS::Lambda::Permission` SourceArn would name a stage `None`). Dropped and
 *   reported, and each `Ref` to it replaced by its `StageName`, which is exactly what that `Ref` returns in AWS.
 *   What the stage carries (throttling, access logs) is served by the harness's API front (api-front.ts).
 * - `trustedPrincipal` (the harness's admin user) is added to every statement of every role's trust policy, so
 *   the harness can assume a function's, the state machine's or the builder's role and act as it. moto compares
 *   only `Principal.AWS` with the caller (and fails on a statement with a `Service` principal alone).
 */

/** Resource types left out of the local stack, and why; everything else is created by moto's CloudFormation. */
export const NOT_DEPLOYED_LOCALLY: Readonly<Record<string, string>> = {
  'AWS::CDK::Metadata': 'CDK usage analytics; moto has no such type',
  'AWS::CloudWatch::Alarm': "moto's CloudFormation cannot create alarms (and a GetAtt to one fails the stack)",
  'AWS::CloudWatch::Dashboard': 'references the alarms; no behaviour to test locally',
  'AWS::S3::BucketPolicy': "moto's CloudFormation skips it; moto does not evaluate resource policies",
  'AWS::SQS::QueuePolicy': "moto's CloudFormation skips it; moto does not evaluate resource policies",
  'AWS::Scheduler::Schedule': 'moto has no CloudFormation support for it and its Scheduler never fires',
  'AWS::Scheduler::ScheduleGroup':
    'moto has no CloudFormation support for it (its Scheduler API has: tests create it there)',
  'AWS::ApiGateway::Stage':
    'moto has no CloudFormation support for it (skipped, its Ref became "None"); each Ref is replaced by the StageName; the harness\'s API front (api-front.ts) serves the stage, its throttling included',
};

/** Dropped types whose `Ref` is a plain property of the resource: the transform writes that value in its place. */
const REF_VALUE_OF_DROPPED: Readonly<Record<string, string>> = {
  'AWS::ApiGateway::Stage': 'StageName',
};

type Json = Record<string, unknown>;

export interface CfnResource {
  Type: string;
  Properties?: Json;
  DependsOn?: string | string[];
  [key: string]: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, unknown>;
  Rules?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface TransformReport {
  /** Logical id → type of every resource removed. */
  readonly dropped: Readonly<Record<string, string>>;
  /** State machines whose substitutions were inlined, with the placeholder names. */
  readonly inlined: Readonly<Record<string, readonly string[]>>;
  /** Roles whose trust policy now also trusts the harness caller. */
  readonly trusted: readonly string[];
}

export interface TransformOptions {
  /** ARN the local deploy adds to each role's trust policy (`Principal.AWS`). */
  readonly trustedPrincipal?: string;
}

export function transformForMoto(
  input: CfnTemplate,
  options: TransformOptions = {},
): { template: CfnTemplate; report: TransformReport } {
  const template = structuredClone(input);
  const dropped: Record<string, string> = {};
  const inlined: Record<string, string[]> = {};
  const trusted: string[] = [];

  if (template.Rules) {
    delete template.Rules.CheckBootstrapVersion;
    if (Object.keys(template.Rules).length === 0) delete template.Rules;
  }
  if (template.Parameters) {
    delete template.Parameters.BootstrapVersion;
    if (Object.keys(template.Parameters).length === 0) delete template.Parameters;
  }

  const refValues = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type in NOT_DEPLOYED_LOCALLY || resource.Type.startsWith('Custom::')) {
      const property = REF_VALUE_OF_DROPPED[resource.Type];
      const value = property === undefined ? undefined : resource.Properties?.[property];
      if (typeof value === 'string') refValues.set(id, value);
      dropped[id] = resource.Type;
      delete template.Resources[id];
      continue;
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine' && resource.Properties?.DefinitionSubstitutions) {
      const substitutions = resource.Properties.DefinitionSubstitutions as Record<string, unknown>;
      resource.Properties.DefinitionString = inlineSubstitutions(resource.Properties.DefinitionString, substitutions);
      delete resource.Properties.DefinitionSubstitutions;
      inlined[id] = Object.keys(substitutions).sort();
    }
    if (resource.Type === 'AWS::IAM::Role' && options.trustedPrincipal) {
      trustPrincipal(resource, options.trustedPrincipal);
      trusted.push(id);
    }
  }

  for (const resource of Object.values(template.Resources)) {
    if (resource.DependsOn === undefined) continue;
    const remaining = (Array.isArray(resource.DependsOn) ? resource.DependsOn : [resource.DependsOn]).filter(
      (dep) => !(dep in dropped),
    );
    if (remaining.length === 0) delete resource.DependsOn;
    else resource.DependsOn = remaining;
  }
  if (refValues.size > 0) {
    template.Resources = replaceRefs(template.Resources, refValues);
    if (template.Outputs) template.Outputs = replaceRefs(template.Outputs, refValues);
  }
  const leftover = referencesTo(template, new Set(Object.keys(dropped)));
  if (leftover.length > 0) {
    throw new Error(`transformForMoto: dropped resources are still referenced: ${leftover.join(', ')}`);
  }
  return { template, report: { dropped, inlined, trusted } };
}

function trustPrincipal(role: CfnResource, principal: string): void {
  const document = role.Properties?.AssumeRolePolicyDocument as { Statement?: Json[] } | undefined;
  for (const statement of document?.Statement ?? []) {
    const current = (statement.Principal ?? {}) as Json;
    const aws = current.AWS === undefined ? [] : Array.isArray(current.AWS) ? current.AWS : [current.AWS];
    statement.Principal = { ...current, AWS: [...aws, principal] };
  }
}

const PLACEHOLDER = /(\$\{[A-Za-z0-9_]+\})/;

/**
 * `"...${FnArn}..."` with `{FnArn: {"Fn::GetAtt": [...]}}` → `{"Fn::Join": ["", ["...", {"Fn::GetAtt"...}, "..."]]}`.
 * A definition that is already an `Fn::Join` (tokens in it) has its string parts split the same way. Placeholders
 * without a substitution stay as text, as CloudFormation leaves them.
 */
export function inlineSubstitutions(definition: unknown, substitutions: Record<string, unknown>): unknown {
  const expand = (text: string): unknown[] =>
    text
      .split(PLACEHOLDER)
      .filter((part) => part !== '')
      .map((part) => {
        const name = /^\$\{([A-Za-z0-9_]+)\}$/.exec(part)?.[1];
        return name !== undefined && name in substitutions ? substitutions[name] : part;
      });
  let parts: unknown[];
  if (typeof definition === 'string') {
    parts = expand(definition);
  } else if (isJoin(definition) && definition['Fn::Join'][0] === '') {
    parts = definition['Fn::Join'][1].flatMap((part) => (typeof part === 'string' ? expand(part) : [part]));
  } else {
    throw new Error('inlineSubstitutions: DefinitionString must be a string or an Fn::Join with an empty delimiter');
  }
  return { 'Fn::Join': ['', parts] };
}

function isJoin(value: unknown): value is { 'Fn::Join': [string, unknown[]] } {
  const join = (value as Json | null)?.['Fn::Join'];
  return Array.isArray(join) && join.length === 2 && Array.isArray(join[1]);
}

/** Every `{ "Ref": id }` with id in `values` replaced by its literal value (a copy). */
function replaceRefs<T>(node: T, values: ReadonlyMap<string, string>): T {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === 'Ref' && typeof entries[0][1] === 'string') {
      const literal = values.get(entries[0][1]);
      if (literal !== undefined) return literal;
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, visit(v)]));
  };
  return visit(node) as T;
}

/** `Ref`, `Fn::GetAtt` and `DependsOn` naming any of `ids`, anywhere in Resources and Outputs. */
function referencesTo(template: CfnTemplate, ids: Set<string>): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string' && ids.has(value)) found.add(value);
      if (key === 'Fn::GetAtt' && Array.isArray(value) && ids.has(String(value[0]))) found.add(String(value[0]));
      visit(value);
    }
  };
  visit(template.Resources);
  visit(template.Outputs);
  return [...found].sort();
}
