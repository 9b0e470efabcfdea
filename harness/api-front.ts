/**
 * API Gateway for the local stack: moto's CloudFormation creates the REST API's resources and methods but no stage,
 * and moto cannot serve an API's requests (its Lambda integration needs Docker). This front serves one REST API of
 * the synthesized template (api-template.ts) on 127.0.0.1 the way API Gateway's Lambda proxy integration does:
 *
 * - routes from the template's resource tree and methods (`{param}` and `{proxy+}` path parts, `ANY`); anything
 *   else is 403 `Missing Authentication Token`, as API Gateway answers for an unknown path or method;
 * - the stage's throttling (MethodSettings) as a token bucket per stage and per throttled method: 429;
 * - a request body over 10 MB: 413 (API Gateway's payload limit);
 * - the invoke permission: API Gateway invokes as `apigateway.amazonaws.com`, allowed by an
 *   `AWS::Lambda::Permission` whose SourceArn matches `…:<api>/<stage>/<METHOD>/<path>`; without one the
 *   integration fails with 500, as in AWS;
 * - the proxy event (resource, path, httpMethod, headers, multiValueHeaders, query strings, pathParameters, body,
 *   isBase64Encoded, requestContext with stage and requestId), invoked through the router's Lambda invoker (the
 *   same warm bundle processes as every other invocation);
 * - the result's statusCode, headers and body; a function error or a malformed result is 502, an invocation
 *   that is not answered within the integration timeout (29 s) is 504.
 *
 * No TLS, no custom domain, no authorizers or API keys (Kiln's routes authenticate in their handlers), no
 * binary media types (bodies are passed as text, `isBase64Encoded: false`), no access logs (the front keeps
 * `requests` instead).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  API_GATEWAY_PRINCIPAL,
  type ApiMethod,
  type ApiStage,
  permits,
  type TemplateApi,
  type Throttle,
} from './api-template.ts';
import type { InvokeResult } from './lambda-invoker.ts';

/** API Gateway's limits for REST APIs. */
export const API_GATEWAY_LIMITS = {
  integrationTimeoutMs: 29_000,
  payloadBytes: 10 * 1024 * 1024,
} as const;

export interface ApiFrontOptions {
  readonly api: TemplateApi;
  /** The stage to serve (default: the API's only stage). */
  readonly stageName?: string;
  readonly region: string;
  readonly account: string;
  /** Logical id → physical id of the deployed resources (the API id, resource ids, function names). */
  readonly physicalIds: ReadonlyMap<string, string>;
  /** Invokes a deployed function synchronously (the router's Lambda invoker). */
  readonly invoke: (functionName: string, payload: string) => Promise<InvokeResult>;
  /** For tests: a shorter integration timeout. */
  readonly integrationTimeoutMs?: number;
  readonly payloadBytes?: number;
  /** For tests: the clock of the throttle buckets (ms). */
  readonly now?: () => number;
}

/** One request as the front answered it. */
export interface FrontRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The matched method's resource path, when a route matched. */
  readonly resource?: string;
  readonly functionName?: string;
  /** Whole request inside the front (body read to response written), ms. */
  readonly totalMs: number;
  /** The function invocation alone (the router's invoker), ms; absent when nothing was invoked. */
  readonly invokeMs?: number;
}

export interface ApiFront {
  /** `http://127.0.0.1:<port>/<stage>/`: what the stage's invoke URL is in AWS (there `https://<api>.execute-api…`). */
  readonly url: string;
  readonly port: number;
  readonly stageName: string;
  readonly requests: readonly FrontRequest[];
  stop(): Promise<void>;
}

export interface Route {
  readonly method: ApiMethod;
  readonly pathParameters: Record<string, string> | null;
}

export async function startApiFront(options: ApiFrontOptions): Promise<ApiFront> {
  const { api } = options;
  const stage = stageOf(api, options.stageName);
  const timeoutMs = options.integrationTimeoutMs ?? API_GATEWAY_LIMITS.integrationTimeoutMs;
  const payloadBytes = options.payloadBytes ?? API_GATEWAY_LIMITS.payloadBytes;
  const now = options.now ?? (() => Date.now());
  const buckets = new Map<string, TokenBucket>();
  const bucket = (key: string, throttle: Throttle) => {
    let b = buckets.get(key);
    if (!b) {
      b = new TokenBucket(throttle, now);
      buckets.set(key, b);
    }
    return b;
  };
  const apiId = options.physicalIds.get(api.restApiId) ?? api.restApiId;
  const requests: FrontRequest[] = [];

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    void serve(req, res, started).catch((error: unknown) => {
      // A failure of the front itself: what API Gateway answers for an internal failure.
      answer(res, 500, 'InternalServerErrorException', 'Internal server error', randomUUID());
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        status: 500,
        totalMs: performance.now() - started,
      });
      console.error(`api-front: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse, started: number): Promise<void> {
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record = (status: number, extra: Partial<FrontRequest> = {}) =>
      requests.push({ method, path: url.pathname, status, totalMs: performance.now() - started, ...extra });

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > payloadBytes) {
      req.resume();
      answer(res, 413, undefined, 'Request Too Long', requestId);
      record(413);
      return;
    }
    const body = await readBody(req, payloadBytes);
    if (body === undefined) {
      answer(res, 413, undefined, 'Request Too Long', requestId);
      record(413);
      return;
    }

    const prefix = `/${stage.stageName}`;
    const inStage = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
    const path = inStage ? url.pathname.slice(prefix.length) || '/' : url.pathname;
    const route = inStage ? match(api.methods, method, path) : undefined;
    if (!route) {
      answer(res, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token', requestId);
      record(403);
      return;
    }
    const resource = route.method.resourcePath;

    const methodThrottle = stage.methodThrottles.get(`${route.method.httpMethod} ${resource}`);
    const throttled = methodThrottle
      ? !bucket(`${route.method.httpMethod} ${resource}`, methodThrottle).take()
      : stage.throttle !== undefined && !bucket('*', stage.throttle).take();
    if (throttled) {
      answer(res, 429, 'TooManyRequestsException', 'Too Many Requests', requestId);
      record(429, { resource });
      return;
    }

    const functionId = route.method.functionId;
    const functionName = functionId ? options.physicalIds.get(functionId) : undefined;
    const sourceArn = `arn:aws:execute-api:${options.region}:${options.account}:{ref:${api.restApiId}}/${stage.stageName}/${method}${path}`;
    if (!functionId || !functionName || !permits(api.permissions, functionId, API_GATEWAY_PRINCIPAL, sourceArn)) {
      // API Gateway: "Execution failed due to configuration error: Invalid permissions on Lambda function".
      answer(res, 500, 'InternalServerErrorException', 'Internal server error', requestId);
      record(500, { resource });
      return;
    }

    const event = proxyEvent({
      req,
      method,
      url,
      path,
      route,
      stage: stage.stageName,
      apiId,
      resourceId: options.physicalIds.get(route.method.resourceId) ?? route.method.resourceId,
      account: options.account,
      requestId,
      body,
    });
    const invokeStarted = performance.now();
    const result = await withTimeout(options.invoke(functionName, JSON.stringify(event)), timeoutMs);
    const invokeMs = performance.now() - invokeStarted;
    const done = (status: number) => record(status, { resource, functionName, invokeMs });
    if (result === 'timeout') {
      answer(res, 504, undefined, 'Endpoint request timed out', requestId);
      done(504);
      return;
    }
    const proxied = proxyResult(result);
    if (!proxied) {
      answer(res, 502, 'InternalServerErrorException', 'Internal server error', requestId);
      done(502);
      return;
    }
    res.writeHead(proxied.statusCode, { ...proxied.headers, 'x-amzn-RequestId': requestId }).end(proxied.body);
    done(proxied.statusCode);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${stage.stageName}/`,
    port,
    stageName: stage.stageName,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function stageOf(api: TemplateApi, name: string | undefined): ApiStage {
  const stage =
    name === undefined && api.stages.length === 1 ? api.stages[0] : api.stages.find((s) => s.stageName === name);
  if (!stage) {
    throw new Error(
      `api-front: ${api.restApiId} has stages [${api.stages.map((s) => s.stageName).join(', ')}]; name the one to serve`,
    );
  }
  return stage;
}

/**
 * The method serving `httpMethod path`: literal path parts before `{param}` ones, then a greedy `{proxy+}`; the
 * method itself before `ANY`. Path parameter values are URL-decoded.
 */
export function match(methods: readonly ApiMethod[], httpMethod: string, path: string): Route | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  let best: { route: Route; score: number[] } | undefined;
  for (const method of methods) {
    if (method.httpMethod !== httpMethod && method.httpMethod !== 'ANY') continue;
    const pattern = method.resourcePath.split('/').filter((p) => p !== '');
    const params: Record<string, string> = {};
    const score: number[] = [];
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const part = pattern[i] as string;
      const greedy = /^\{(.+)\+\}$/.exec(part);
      if (greedy?.[1]) {
        ok = i < parts.length && i === pattern.length - 1;
        if (ok) params[greedy[1]] = parts.slice(i).map(decode).join('/');
        score.push(0);
        break;
      }
      const value = parts[i];
      if (value === undefined) ok = false;
      else if (/^\{.+\}$/.test(part)) {
        params[part.slice(1, -1)] = decode(value);
        score.push(1);
      } else {
        ok = part === value;
        score.push(2);
      }
    }
    const greedyLast = /\+\}$/.test(pattern.at(-1) ?? '');
    if (!ok || (!greedyLast && pattern.length !== parts.length)) continue;
    score.push(method.httpMethod === 'ANY' ? 0 : 1);
    if (!best || compare(score, best.score) > 0) {
      best = { route: { method, pathParameters: Object.keys(params).length > 0 ? params : null }, score };
    }
  }
  return best?.route;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

interface EventInput {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly url: URL;
  readonly path: string;
  readonly route: Route;
  readonly stage: string;
  readonly apiId: string;
  readonly resourceId: string;
  readonly account: string;
  readonly requestId: string;
  readonly body: Buffer;
}

/** The REST API Lambda proxy event (payload format 1.0). */
export function proxyEvent(input: EventInput): Record<string, unknown> {
  const { req, url } = input;
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  // rawHeaders keeps the client's spelling and repeats, as API Gateway passes them.
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const now = new Date();
  const host = String(req.headers.host ?? '127.0.0.1');
  return {
    resource: input.route.method.resourcePath,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: input.route.pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: input.account,
      apiId: input.apiId,
      resourceId: input.resourceId,
      resourcePath: input.route.method.resourcePath,
      httpMethod: input.method,
      path: `/${input.stage}${input.path}`,
      stage: input.stage,
      requestId: input.requestId,
      extendedRequestId: input.requestId,
      requestTime: now.toISOString(),
      requestTimeEpoch: now.getTime(),
      protocol: `HTTP/${req.httpVersion}`,
      domainName: host,
      domainPrefix: host.split('.')[0],
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? null,
        accessKey: null,
        accountId: null,
        caller: null,
        user: null,
        userArn: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
      },
      authorizer: null,
    },
    body: input.body.length > 0 ? input.body.toString('utf8') : null,
    isBase64Encoded: false,
  };
}

/** A proxy integration's answer, or undefined when API Gateway would answer 502 (function error, malformed). */
export function proxyResult(
  result: InvokeResult,
): { statusCode: number; headers: Record<string, string | string[]>; body: Buffer } | undefined {
  if (result.status !== 200 || result.headers['X-Amz-Function-Error'] !== undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(result.body);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const out = value as Record<string, unknown>;
  const statusCode = out.statusCode;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return undefined;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [key, v] of Object.entries((out.multiValueHeaders ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(v)) headers[key] = v.map(String);
  }
  for (const [key, v] of Object.entries((out.headers ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null) headers[key] = String(v);
  }
  const text = out.body === undefined || out.body === null ? '' : String(out.body);
  const body = out.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode, headers, body };
}

function answer(res: ServerResponse, status: number, errorType: string | undefined, message: string, id: string): void {
  res
    .writeHead(status, {
      'Content-Type': 'application/json',
      'x-amzn-RequestId': id,
      ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
    })
    .end(JSON.stringify({ message }));
}

/** The body, or undefined once it passes `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** API Gateway's throttle: a bucket of `burstLimit` tokens refilled at `rateLimit` per second. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly throttle: Throttle,
    private readonly now: () => number,
  ) {
    this.tokens = throttle.burstLimit;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.throttle.burstLimit, this.tokens + ((t - this.last) / 1000) * this.throttle.rateLimit);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
