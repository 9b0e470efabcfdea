/**
 * The REST APIs and schedules of a synthesized template, read the way API Gateway and EventBridge would wire them:
 * the `AWS::ApiGateway::Resource` tree and each `AWS::ApiGateway::Method`'s Lambda proxy integration (its `Uri`
 * names the function), the stage with its throttling (`MethodSettings`), the `AWS::Lambda::Permission`s that let
 * the service invoke a function, and each `AWS::Events::Rule` with a `ScheduleExpression` and its Lambda targets.
 * Read from the template, not from functions/registry.ts, so the local front (api-front.ts) and the schedule timer
 * (schedule-timer.ts) exercise the deployed wiring: a route the construct forgot is a 403 here too. Pure.
 */
import type { CfnResource, CfnTemplate } from './cfn-transform.ts';

type Json = Record<string, unknown>;

export interface Throttle {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Bucket size: requests accepted at once above the rate. */
  readonly burstLimit: number;
}

export interface ApiMethod {
  readonly methodId: string;
  readonly resourceId: string;
  /** `/jobs/{jobId}/heartbeat`: the resource path as API Gateway's `resource` field gives it. */
  readonly resourcePath: string;
  /** `POST`, ... or `ANY`. */
  readonly httpMethod: string;
  readonly integrationType: string | undefined;
  /** Logical id of the Lambda function of an `AWS_PROXY` integration (from the Uri's `Fn::GetAtt`). */
  readonly functionId: string | undefined;
}

export interface ApiStage {
  readonly stageId: string;
  readonly stageName: string;
  /** Stage-wide throttling (`MethodSettings` with `HttpMethod: *`, `ResourcePath: /*`). */
  readonly throttle: Throttle | undefined;
  /** Per-method throttling, keyed `<METHOD> <resource path>`. */
  readonly methodThrottles: ReadonlyMap<string, Throttle>;
}

/** `lambda:InvokeFunction` for a service principal, with the SourceArn rendered (see `renderArn`). */
export interface ServicePermission {
  readonly permissionId: string;
  readonly functionId: string;
  readonly principal: string;
  /** The SourceArn with pseudo parameters filled; `{ref:<logicalId>}` where it names a resource; undefined: any. */
  readonly sourceArn: string | undefined;
}

export interface TemplateApi {
  readonly restApiId: string;
  readonly name: string | undefined;
  readonly stages: readonly ApiStage[];
  readonly methods: readonly ApiMethod[];
  readonly permissions: readonly ServicePermission[];
}

export interface TemplateSchedule {
  readonly ruleId: string;
  readonly expression: string;
  readonly enabled: boolean;
  /** Logical ids of the Lambda functions the rule targets. */
  readonly functionIds: readonly string[];
  readonly permissions: readonly ServicePermission[];
}

export const API_GATEWAY_PRINCIPAL = 'apigateway.amazonaws.com';
export const EVENTS_PRINCIPAL = 'events.amazonaws.com';

export interface RenderContext {
  readonly region: string;
  readonly account: string;
}

export function apisOfTemplate(template: CfnTemplate, context: RenderContext): TemplateApi[] {
  const resources = template.Resources;
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const stageNames = new Map<string, string>();
  for (const [id, r] of byType('AWS::ApiGateway::Stage')) {
    if (typeof r.Properties?.StageName === 'string') stageNames.set(id, r.Properties.StageName);
  }
  const permissions = servicePermissions(template, context, stageNames);
  return byType('AWS::ApiGateway::RestApi').map(([restApiId, api]) => {
    const paths = new Map<string, string>();
    const pathOf = (resourceId: string, seen: ReadonlySet<string> = new Set()): string => {
      const known = paths.get(resourceId);
      if (known !== undefined) return known;
      const resource = resources[resourceId];
      if (resource?.Type !== 'AWS::ApiGateway::Resource' || seen.has(resourceId)) {
        throw new Error(`api-template: ${resourceId} is not an AWS::ApiGateway::Resource of ${restApiId}`);
      }
      const parent = resource.Properties?.ParentId;
      const part = String(resource.Properties?.PathPart ?? '');
      const parentPath = isRootOf(parent, restApiId)
        ? ''
        : pathOf(String(refOf(parent)), new Set([...seen, resourceId]));
      const path = `${parentPath}/${part}`;
      paths.set(resourceId, path);
      return path;
    };
    const methods: ApiMethod[] = byType('AWS::ApiGateway::Method')
      .filter(([, m]) => refOf(m.Properties?.RestApiId) === restApiId)
      .map(([methodId, m]) => {
        const props = m.Properties ?? {};
        const resourceRef = props.ResourceId;
        const root = isRootOf(resourceRef, restApiId);
        const integration = (props.Integration ?? {}) as Json;
        return {
          methodId,
          resourceId: root ? restApiId : String(refOf(resourceRef)),
          resourcePath: root ? '/' : pathOf(String(refOf(resourceRef))),
          httpMethod: String(props.HttpMethod ?? '').toUpperCase(),
          integrationType: typeof integration.Type === 'string' ? integration.Type : undefined,
          functionId: integration.Type === 'AWS_PROXY' ? lambdaOfUri(integration.Uri) : undefined,
        };
      });
    const stages = byType('AWS::ApiGateway::Stage')
      .filter(([, s]) => refOf(s.Properties?.RestApiId) === restApiId)
      .map(([stageId, s]) => stageOf(stageId, s));
    return {
      restApiId,
      name: typeof api.Properties?.Name === 'string' ? api.Properties.Name : undefined,
      stages,
      methods,
      permissions: permissions.filter((p) => p.principal === API_GATEWAY_PRINCIPAL),
    };
  });
}

export function schedulesOfTemplate(template: CfnTemplate, context: RenderContext): TemplateSchedule[] {
  const permissions = servicePermissions(template, context, new Map());
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule' && typeof r.Properties?.ScheduleExpression === 'string')
    .map(([ruleId, rule]) => {
      const targets = (rule.Properties?.Targets ?? []) as Json[];
      const functionIds = targets.flatMap((t) => {
        const id = getAttOf(t.Arn);
        return id && template.Resources[id]?.Type === 'AWS::Lambda::Function' ? [id] : [];
      });
      return {
        ruleId,
        expression: String(rule.Properties?.ScheduleExpression),
        enabled: (rule.Properties?.State ?? 'ENABLED') === 'ENABLED',
        functionIds,
        permissions: permissions.filter((p) => p.principal === EVENTS_PRINCIPAL),
      };
    });
}

/** `rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)` in seconds; undefined for cron(). */
export function rateSeconds(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const unit = { minute: 60, hour: 3600, day: 86_400 }[match[2]?.replace(/s$/, '') as 'minute' | 'hour' | 'day'];
  return Number(match[1]) * unit;
}

/** ArnLike: `*` any run of characters, `?` one. */
export function arnLike(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(value);
}

/**
 * Whether a permission lets `principal` invoke `functionId` for a request whose source ARN is `sourceArn`
 * (`{ref:<id>}` standing for the resource that makes the call, as `renderArn` writes it).
 */
export function permits(
  permissions: readonly ServicePermission[],
  functionId: string,
  principal: string,
  sourceArn: string,
): boolean {
  return permissions.some(
    (p) =>
      p.functionId === functionId &&
      p.principal === principal &&
      (p.sourceArn === undefined || arnLike(p.sourceArn, sourceArn)),
  );
}

function servicePermissions(
  template: CfnTemplate,
  context: RenderContext,
  stageNames: ReadonlyMap<string, string>,
): ServicePermission[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Permission')
    .flatMap(([permissionId, r]) => {
      const props = r.Properties ?? {};
      const functionId = getAttOf(props.FunctionName) ?? refOf(props.FunctionName);
      const action = String(props.Action ?? '');
      if (!functionId || (action !== 'lambda:InvokeFunction' && action !== 'lambda:*')) return [];
      return [
        {
          permissionId,
          functionId,
          principal: String(props.Principal ?? ''),
          sourceArn: props.SourceArn === undefined ? undefined : renderArn(props.SourceArn, context, stageNames),
        },
      ];
    });
}

/**
 * A SourceArn as text: pseudo parameters filled, a `Ref` to a stage replaced by its name (what the Ref returns),
 * any other `Ref`/`Fn::GetAtt` written `{ref:<logicalId>}` (the caller writes the same for the calling resource).
 */
function renderArn(value: unknown, context: RenderContext, stageNames: ReadonlyMap<string, string>): string {
  if (typeof value === 'string') return value;
  const node = (value ?? {}) as Json;
  const ref = refOf(node);
  if (ref !== undefined) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': context.region,
      'AWS::AccountId': context.account,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[ref] ?? stageNames.get(ref) ?? `{ref:${ref}}`;
  }
  const att = getAttOf(node);
  if (att !== undefined) return `{ref:${att}}`;
  const join = node['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return join[1].map((part) => renderArn(part, context, stageNames)).join(join[0]);
  }
  throw new Error(`api-template: cannot read the SourceArn ${JSON.stringify(value)}`);
}

function stageOf(stageId: string, stage: CfnResource): ApiStage {
  const props = stage.Properties ?? {};
  const settings = (props.MethodSettings ?? []) as Json[];
  let throttle: Throttle | undefined;
  const methodThrottles = new Map<string, Throttle>();
  for (const setting of settings) {
    const rate = setting.ThrottlingRateLimit;
    const burst = setting.ThrottlingBurstLimit;
    if (typeof rate !== 'number' || typeof burst !== 'number') continue;
    const value = { rateLimit: rate, burstLimit: burst };
    const method = String(setting.HttpMethod ?? '*');
    // MethodSettings name a resource path with `/` escaped as `~1` (`/~1jobs~1acquire`).
    const path = String(setting.ResourcePath ?? '/*');
    if (method === '*' && path === '/*') throttle = value;
    else methodThrottles.set(`${method} ${path.slice(1).replace(/~1/g, '/')}`, value);
  }
  return { stageId, stageName: String(props.StageName ?? ''), throttle, methodThrottles };
}

function refOf(value: unknown): string | undefined {
  const ref = (value as Json | null | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

function getAttOf(value: unknown): string | undefined {
  const att = (value as Json | null | undefined)?.['Fn::GetAtt'];
  return Array.isArray(att) && typeof att[0] === 'string' ? att[0] : undefined;
}

function isRootOf(value: unknown, restApiId: string): boolean {
  const att = (value as Json | null | undefined)?.['Fn::GetAtt'];
  return Array.isArray(att) && att[0] === restApiId && att[1] === 'RootResourceId';
}

/** `arn:…:apigateway:…:lambda:path/2015-03-31/functions/<GetAtt Fn.Arn>/invocations` → the function's id. */
function lambdaOfUri(uri: unknown): string | undefined {
  const join = (uri as Json | null | undefined)?.['Fn::Join'];
  const parts: unknown[] = Array.isArray(join) && Array.isArray(join[1]) ? join[1] : [uri];
  const text = parts.map((p) => (typeof p === 'string' ? p : '{token}')).join('');
  if (!text.endsWith(':lambda:path/2015-03-31/functions/{token}/invocations')) return undefined;
  return parts.map(getAttOf).find((id) => id !== undefined);
}
