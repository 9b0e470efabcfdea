/**
 * The gateway's HTTP API from the agent's side: every request built and every answer parsed with the contract's
 * schemas (aws/agent-gateway-contract.ts), error answers turned into GatewayResponseError (status and code),
 * failures to reach the gateway (DNS, connection, timeout) into GatewayUnreachableError, which callers retry.
 */
import * as z from 'zod/mini';
import {
  ACQUIRE_MAX_WAIT_SECONDS,
  type AcquireResponse,
  AGENT_ROUTES,
  acquireRequestSchema,
  acquireResponseSchema,
  authorizationHeader,
  type CompleteRequest,
  completeRequestSchema,
  completeResponseSchema,
  deregisterResponseSchema,
  errorResponseSchema,
  heartbeatRequestSchema,
  heartbeatResponseSchema,
  jobRoutePath,
  registerRequestSchema,
  registerResponseSchema,
  uploadsRequestSchema,
  uploadsResponseSchema,
} from '../aws/agent-gateway-contract.ts';
import { GatewayResponseError, GatewayUnreachableError } from './errors.ts';

/** An ordinary request's time limit; acquire gets its long poll on top. */
const REQUEST_TIMEOUT_MS = 30_000;

export class GatewayClient {
  private readonly base: string;
  constructor(url: string) {
    this.base = url.replace(/\/+$/, '');
  }

  private async post<S extends z.core.$ZodType>(
    path: string,
    body: unknown,
    response: S,
    options: { authorization?: string; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<z.infer<S>> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.authorization ? { authorization: options.authorization } : {}),
        },
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const why =
        error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new GatewayUnreachableError(`the gateway at ${this.base} did not answer ${path}: ${why}`);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const parsed = z.safeParse(errorResponseSchema, json);
      if (parsed.success) throw new GatewayResponseError(res.status, parsed.data.error.code, parsed.data.error.message);
      throw new GatewayResponseError(
        res.status,
        res.status >= 500 ? 'Internal' : 'BadResponse',
        `the gateway answered ${path} with HTTP ${res.status}: ${text.slice(0, 300)}`,
      );
    }
    const parsed = z.safeParse(response, json);
    if (!parsed.success) {
      throw new GatewayResponseError(
        res.status,
        'BadResponse',
        `the gateway's answer to ${path} does not follow the agent contract (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): is ${this.base} a Kiln agent gateway of this version?`,
      );
    }
    return parsed.data;
  }

  register(request: z.input<typeof registerRequestSchema>) {
    return this.post(AGENT_ROUTES.register.path, registerRequestSchema.parse(request), registerResponseSchema);
  }

  deregister(agentCredential: string) {
    return this.post(AGENT_ROUTES.deregister.path, {}, deregisterResponseSchema, {
      authorization: authorizationHeader('agent', agentCredential),
    });
  }

  acquire(
    agentCredential: string,
    request: z.input<typeof acquireRequestSchema>,
    signal?: AbortSignal,
  ): Promise<AcquireResponse> {
    const body = acquireRequestSchema.parse(request);
    const wait = Math.min(body.waitSeconds ?? 0, ACQUIRE_MAX_WAIT_SECONDS);
    return this.post(AGENT_ROUTES.acquire.path, body, acquireResponseSchema, {
      authorization: authorizationHeader('agent', agentCredential),
      timeoutMs: (wait + 10) * 1000,
      ...(signal ? { signal } : {}),
    });
  }

  heartbeat(jobId: string, jobCredential: string, request: z.input<typeof heartbeatRequestSchema>) {
    return this.post(jobRoutePath('heartbeat', jobId), heartbeatRequestSchema.parse(request), heartbeatResponseSchema, {
      authorization: authorizationHeader('job', jobCredential),
    });
  }

  uploads(jobId: string, jobCredential: string, request: z.input<typeof uploadsRequestSchema>) {
    return this.post(jobRoutePath('uploads', jobId), uploadsRequestSchema.parse(request), uploadsResponseSchema, {
      authorization: authorizationHeader('job', jobCredential),
    });
  }

  complete(jobId: string, jobCredential: string, request: CompleteRequest) {
    return this.post(jobRoutePath('complete', jobId), completeRequestSchema.parse(request), completeResponseSchema, {
      authorization: authorizationHeader('job', jobCredential),
    });
  }
}
