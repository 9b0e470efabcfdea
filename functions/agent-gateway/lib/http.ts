/**
 * API Gateway (REST, Lambda proxy integration) in and out for the gateway's routes: the body parsed with the
 * route's contract schema, the Authorization header found whatever its case, AgentGatewayError codes mapped to
 * their statuses (contract `STATUS_OF`), anything else a 500 that says only where to look.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { STATUS_OF } from '../../../aws/agent-gateway-contract.ts';
import { AgentGatewayError } from '../../../core/agents/errors.ts';
import { logger } from '../../lib/wiring.ts';

/** What the handlers read of a proxy event (the local router builds the same shape). */
export type GatewayEvent = Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded' | 'pathParameters'>;
export type GatewayResult = Pick<APIGatewayProxyResult, 'statusCode' | 'headers' | 'body'>;

export interface RouteRequest<I> {
  readonly body: I;
  readonly authorization: string | undefined;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
}

const HEADERS = {
  'content-type': 'application/json',
  // Responses carry credentials: never cached by anything between the gateway and the agent.
  'cache-control': 'no-store',
};

export function header(event: GatewayEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

const respond = (statusCode: number, body: unknown): GatewayResult => ({
  statusCode,
  headers: HEADERS,
  body: JSON.stringify(body),
});

function parseBody<S extends z.core.$ZodType>(schema: S, event: GatewayEvent): z.infer<S> {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '{}';
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AgentGatewayError('InvalidRequest', 'the request body is not JSON');
  }
  const parsed = z.safeParse(schema, json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new AgentGatewayError('InvalidRequest', `the request body does not follow the agent contract: ${issues}`);
  }
  return parsed.data;
}

export type GatewayHandler = (event: GatewayEvent, context?: Context) => Promise<GatewayResult>;

/** One route: parse, run, answer; errors become their status with `{ error: { code, message } }`. */
export function httpRoute<S extends z.core.$ZodType, O>(
  schema: S,
  run: (request: RouteRequest<z.infer<S>>) => Promise<O>,
): GatewayHandler {
  return async (event, context) => {
    try {
      const body = parseBody(schema, event);
      const result = await run({
        body,
        authorization: header(event, 'authorization'),
        pathParameters: event.pathParameters ?? {},
      });
      return respond(200, result);
    } catch (error) {
      if (error instanceof AgentGatewayError) {
        logger.warn('request refused', { code: error.code, reason: error.message });
        return respond(STATUS_OF[error.code], { error: { code: error.code, message: error.message } });
      }
      logger.error('gateway failure', { error: error instanceof Error ? error.message : String(error) });
      const id = context?.awsRequestId ?? 'unknown';
      return respond(500, { error: { code: 'Internal', message: `the gateway failed (request ${id}); see its logs` } });
    }
  };
}

/** The `{jobId}` of a job route. */
export function jobIdOf(request: RouteRequest<unknown>): string {
  const jobId = request.pathParameters.jobId;
  if (!jobId) throw new AgentGatewayError('InvalidRequest', 'the route has no job id');
  return jobId;
}
