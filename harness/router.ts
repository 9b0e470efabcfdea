/**
 * The local AWS front door: one HTTP endpoint that everything (tests, handlers, moto's own Step Functions
 * interpreter) calls. It serves Lambda Invoke from the functions' bundles, each in its own process
 * (lambda-invoker.ts), the SSM Run Command surface from the shim (ssm-shim.ts), and pipes every other request to
 * moto unchanged.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FunctionConfiguration, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { parseCall } from './aws-calls.ts';
import type { Caller } from './callers.ts';
import { localClientConfig } from './clients.ts';
import type { AuthorizationRequest } from './iam-evaluate.ts';
import type { IamGuard } from './iam-guard.ts';
import { type DeployedFunction, LambdaInvoker, type LambdaInvokerOptions } from './lambda-invoker.ts';
import { SsmShim, type SsmShimOptions } from './ssm-shim.ts';

export interface RouterOptions {
  readonly motoEndpoint: string;
  /** Port to listen on (moto was told it as MOTO_PORT); default: any free one. */
  readonly port?: number;
  readonly lambda: Omit<LambdaInvokerOptions, 'lookup'>;
  readonly ssm: Omit<SsmShimOptions, 'motoEndpoint'>;
  /** After a `/moto-api/reset` went through: moto forgot its users and sessions (bootstrap the admin again). */
  readonly afterReset?: () => Promise<void>;
  /**
   * Authorizes the calls the router answers itself (Lambda Invoke, SSM Run Command) and records every call of a
   * deployed role for the IAM replay. Without it those calls are served to anyone (router unit tests).
   */
  readonly iam?: IamGuard;
}

/** A request moto refused for authentication or authorization (what a missing grant looks like). */
export interface DeniedRequest {
  readonly at: Date;
  readonly method: string;
  readonly path: string;
  readonly target: string;
  readonly status: number;
  readonly message: string;
}

export interface Router {
  readonly endpoint: string;
  /** Requests moto answered with 403, newest last (the harness's view of IAM denials). */
  readonly denied: DeniedRequest[];
  readonly port: number;
  readonly invoker: LambdaInvoker;
  readonly shim: SsmShim;
  readonly iam: IamGuard | undefined;
  stop(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export async function startRouter(options: RouterOptions): Promise<Router> {
  const moto = new URL(options.motoEndpoint);
  const invoker = new LambdaInvoker({ ...options.lambda, lookup: (name, region) => getFunction(moto, name, region) });
  const shim = new SsmShim({ ...options.ssm, motoEndpoint: options.motoEndpoint });

  const denied: DeniedRequest[] = [];
  const server: Server = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`kiln router: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const region = regionOf(req);
    const invoke = req.method === 'POST' ? INVOKE_PATH.exec(path) : null;
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
    const ownCall = Boolean(invoke?.[1]) || SsmShim.handles(action);

    const iam = options.iam;
    const call =
      iam && !path.startsWith('/moto-api/') ? parseCall(req.method ?? 'GET', url, req.headers, body) : undefined;
    const caller = call ? iam?.identify(call.accessKeyId) : undefined;
    // The admin's own calls (setup, assertions) are neither recorded nor modelled unless the router serves them.
    const pipelineCall = caller !== undefined && !iam?.isAdmin(caller);
    const requests = call && caller && (ownCall || pipelineCall) ? await iam?.requestsFor(call) : undefined;
    const recorded = call && caller && pipelineCall ? iam?.record(caller, call, requests) : undefined;

    if (iam && ownCall) {
      // Served here, not by moto: authorize as AWS would before serving.
      const denial = await authorizeOwnCall(iam, call?.accessKeyId, caller, requests);
      if (denial) {
        const lambda = Boolean(invoke?.[1]);
        const status = lambda ? 403 : 400;
        if (recorded) recorded.status = status;
        res
          .writeHead(status, {
            'Content-Type': lambda ? 'application/json' : 'application/x-amz-json-1.1',
            'X-Amzn-ErrorType': denial.type,
          })
          .end(JSON.stringify({ __type: denial.type, Type: 'User', message: denial.message, Message: denial.message }));
        return;
      }
    }

    if (invoke?.[1]) {
      const name = decodeURIComponent(invoke[1]);
      const result = await invoker.invoke(
        name,
        regionFromArn(name) ?? region,
        body.toString('utf8'),
        String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse'),
      );
      if (recorded) recorded.status = result.status;
      res.writeHead(result.status, result.headers).end(result.body);
      return;
    }

    if (SsmShim.handles(action)) {
      const parsed = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const result = await shim.handle(action, region, parsed);
      if (recorded) recorded.status = result.status;
      res.writeHead(result.status, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify(result.body));
      return;
    }

    const proxied = await forward(moto, req, url, body);
    if (recorded) recorded.status = proxied.status;
    if (proxied.status === 403) {
      const text = proxied.body.toString('utf8');
      denied.push({
        at: new Date(),
        method: req.method ?? '',
        path,
        target: String(req.headers['x-amz-target'] ?? ''),
        status: proxied.status,
        message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 300),
      });
    }
    if (path === '/moto-api/reset' && proxied.status < 300) {
      shim.reset();
      options.iam?.reset();
      await invoker.reset();
      await options.afterReset?.();
    }
    res.writeHead(proxied.status, proxied.headers).end(proxied.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Node closes an idle keep-alive connection after 5 s; a client (botocore in moto's Step Functions, the SDK)
    // that sends on it as it closes gets "connection closed" (measured: 2 of 500 fleet builds failed so). AWS
    // endpoints keep connections far longer than their clients' idle pools: keep them open past botocore's.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 121_000;
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    denied,
    invoker,
    shim,
    iam: options.iam,
    stop: async () => {
      shim.reset();
      await invoker.reset();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** AWS's answer to an unsigned, unknown or unauthorized caller of a call the router serves itself. */
async function authorizeOwnCall(
  iam: IamGuard,
  accessKeyId: string | undefined,
  caller: Caller | undefined,
  requests: readonly AuthorizationRequest[] | undefined,
): Promise<{ type: string; message: string } | undefined> {
  if (!accessKeyId) return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  if (!caller) {
    return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  if (!requests) return { type: 'AccessDeniedException', message: 'The local harness cannot authorize this call' };
  const denial = await iam.authorize(caller, requests);
  return denial ? { type: 'AccessDeniedException', message: denial.message } : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Proxied {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

function forward(moto: URL, req: IncomingMessage, url: string, body: Buffer): Promise<Proxied> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      { hostname: moto.hostname, port: moto.port, method: req.method, path: url, headers: req.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers: Record<string, string | string[]> = {};
          for (const [key, value] of Object.entries(res.headers)) {
            // The body is re-sent whole, so framing headers are recomputed by Node.
            if (value !== undefined && key !== 'transfer-encoding' && key !== 'connection') headers[key] = value;
          }
          resolve({ status: res.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/** The region of a SigV4-signed request (`Credential=AKID/date/<region>/<service>/aws4_request`). */
function regionOf(req: IncomingMessage): string {
  const auth = String(req.headers.authorization ?? '');
  return /Credential=[^/]+\/\d+\/([^/]+)\//.exec(auth)?.[1] ?? 'us-east-1';
}

function regionFromArn(nameOrArn: string): string | undefined {
  return nameOrArn.startsWith('arn:') ? nameOrArn.split(':')[3] : undefined;
}

/** moto's GetFunction, as the harness's admin user. */
async function getFunction(moto: URL, nameOrArn: string, region: string): Promise<DeployedFunction | undefined> {
  const lambda = new LambdaClient(localClientConfig(moto.origin, region));
  let c: FunctionConfiguration;
  try {
    // By name: moto's signature check rejects the ARN's encoded colons in the path (HTTP 403).
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? nameOrArn) : nameOrArn;
    const out = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    if (!out.Configuration) return undefined;
    c = out.Configuration;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
  const arn = c.FunctionArn ?? nameOrArn;
  return {
    name: c.FunctionName ?? nameOrArn,
    arn,
    region: arn.split(':')[3] ?? region,
    timeoutSeconds: c.Timeout ?? 3,
    memoryMb: c.MemorySize ?? 128,
    environment: c.Environment?.Variables ?? {},
    roleArn: c.Role ?? '',
  };
}
