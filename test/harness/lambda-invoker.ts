/**
 * Serves Lambda Invoke from the real handler code, in this process. moto can store a Lambda but needs Docker
 * to run it; this maps the invoked function to its registry entry (through the `KILN_FUNCTION_ID` variable the
 * CDK app sets on every function), imports `functions/<dir>/handler.ts` and calls `handler(event, context)`.
 * Results and errors come back in the Lambda wire format, so Step Functions Retry/Catch see the same error names
 * (`Kiln.*`) as in AWS.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { type FunctionSpec, KILN_ENV } from '../../functions/registry.ts';

/** What the router learns about a deployed function (from moto's GetFunction). */
export interface DeployedFunction {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
}

export type LookupFunction = (nameOrArn: string, region: string) => Promise<DeployedFunction | undefined>;

export interface InvokeResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface LambdaInvokerOptions {
  readonly lookup: LookupFunction;
  readonly functions: readonly FunctionSpec[];
  /** Folder holding `<dir>/handler.ts`; default: the repository's functions/. */
  readonly functionsRoot?: string;
  /** Set in process.env before a handler is imported (endpoint, credentials, poll settings). */
  readonly baseEnv?: Readonly<Record<string, string>>;
  /** Called for each invocation (the CLI's live view, tests). */
  readonly onInvoke?: (record: InvocationRecord) => void;
}

export interface InvocationRecord {
  readonly functionId: string;
  readonly functionName: string;
  readonly durationMs: number;
  readonly errorType?: string;
}

const DEFAULT_ROOT = resolve(import.meta.dirname, '../../functions');
/** Variables that legitimately differ per function; never copied into the shared process.env. */
const PER_FUNCTION_ENV = new Set<string>([KILN_ENV.functionId]);
/** The registry's resource variables: every function must carry the same value. */
const SHARED_ENV = new Set<string>(Object.values(KILN_ENV).filter((name) => name !== KILN_ENV.functionId));

export class LambdaInvoker {
  readonly invocations: InvocationRecord[] = [];
  private readonly handlers = new Map<string, Promise<Handler>>();
  /** Per-function variables whose values differ between functions; the first function's value is in effect. */
  readonly divergentEnv = new Set<string>();
  /** The values every function in this process sees (first value wins for per-function settings). */
  private sharedEnv: Record<string, string> = {};
  private generation = 0;

  constructor(private readonly options: LambdaInvokerOptions) {}

  async invoke(nameOrArn: string, region: string, payload: string, invocationType: string): Promise<InvokeResult> {
    const deployed = await this.options.lookup(nameOrArn, region);
    if (!deployed) return awsError(404, 'ResourceNotFoundException', `Function not found: ${nameOrArn}`);
    const functionId = deployed.environment[KILN_ENV.functionId];
    const spec = this.options.functions.find((f) => f.id === functionId);
    if (!spec) {
      return awsError(
        400,
        'InvalidParameterValueException',
        `${deployed.name} has ${KILN_ENV.functionId}=${functionId ?? '(unset)'}, which is not in functions/registry.ts`,
      );
    }
    let event: unknown;
    try {
      event = payload.length === 0 ? {} : JSON.parse(payload);
    } catch {
      return awsError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    const run = this.run(spec, deployed, event);
    if (invocationType === 'Event') {
      run.catch(() => undefined);
      return { status: 202, headers: {}, body: '' };
    }
    return await run;
  }

  private async run(spec: FunctionSpec, deployed: DeployedFunction, event: unknown): Promise<InvokeResult> {
    const started = Date.now();
    const deadline = started + deployed.timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = await this.handlerFor(spec, deployed);
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LambdaTimeout(`Task timed out after ${deployed.timeoutSeconds.toFixed(2)} seconds`)),
          Math.max(0, deadline - Date.now()),
        );
      });
      const result = await Promise.race([handler(event, lambdaContext(deployed, deadline)), timedOut]);
      this.record(spec, deployed, started);
      return {
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST' },
        body: result === undefined ? 'null' : JSON.stringify(result),
      };
    } catch (error) {
      const { errorType, errorMessage } = describeError(error);
      this.record(spec, deployed, started, errorType);
      return {
        status: 200,
        headers: {
          'Content-Type': 'application/json',
          'X-Amz-Executed-Version': '$LATEST',
          'X-Amz-Function-Error': 'Unhandled',
        },
        body: JSON.stringify({ errorType, errorMessage, trace: [] }),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private record(spec: FunctionSpec, deployed: DeployedFunction, started: number, errorType?: string): void {
    const record: InvocationRecord = {
      functionId: spec.id,
      functionName: deployed.name,
      durationMs: Date.now() - started,
      ...(errorType ? { errorType } : {}),
    };
    this.invocations.push(record);
    this.options.onInvoke?.(record);
  }

  /**
   * Every handler shares this process's environment. That is sound for the values Kiln's functions must agree on
   * (the registry's KILN_* resource names: checked, a disagreement fails the invocation). Per-function settings
   * such as POWERTOOLS_SERVICE_NAME cannot be honoured in one process: the first value stays, and the
   * differences are listed in `divergentEnv` rather than hidden.
   */
  private handlerFor(spec: FunctionSpec, deployed: DeployedFunction): Promise<Handler> {
    const entries = Object.entries(deployed.environment).filter(([key]) => !PER_FUNCTION_ENV.has(key));
    const differing = entries.filter(([k, v]) => k in this.sharedEnv && this.sharedEnv[k] !== v).map(([k]) => k);
    const conflicts = differing.filter((k) => SHARED_ENV.has(k));
    if (conflicts.length > 0) {
      throw new Error(
        `${deployed.name} disagrees with the functions invoked before on ${conflicts.join(', ')}: handlers running ` +
          'in one process cannot share them (reset the harness between deployments)',
      );
    }
    for (const key of differing) this.divergentEnv.add(key);
    if (Object.keys(this.sharedEnv).length === 0) Object.assign(process.env, this.options.baseEnv ?? {});
    for (const [key, value] of entries) if (!(key in this.sharedEnv)) this.sharedEnv[key] = value;
    Object.assign(process.env, this.sharedEnv, { AWS_REGION: deployed.region });
    let handler = this.handlers.get(spec.dir);
    if (!handler) {
      handler = this.importHandler(spec);
      this.handlers.set(spec.dir, handler);
    }
    return handler;
  }

  /** After `/moto-api/reset`: the next deployment may bring other values, so handlers are imported afresh. */
  reset(): void {
    this.handlers.clear();
    this.sharedEnv = {};
    this.divergentEnv.clear();
    this.generation += 1;
  }

  private async importHandler(spec: FunctionSpec): Promise<Handler> {
    const file = join(this.options.functionsRoot ?? DEFAULT_ROOT, spec.dir, 'handler.ts');
    // A query string gives a fresh module instance (module-scope env reads) for a new deployment.
    const url = `${pathToFileURL(file).href}${this.generation > 0 ? `?deployment=${this.generation}` : ''}`;
    const module = (await import(url)) as { handler?: unknown };
    if (typeof module.handler !== 'function') throw new Error(`${file} does not export a handler function`);
    return module.handler as Handler;
  }
}

class LambdaTimeout extends Error {
  override readonly name = 'Sandbox.Timedout';
}

function describeError(error: unknown): { errorType: string; errorMessage: string } {
  if (error instanceof Error) return { errorType: error.name || 'Error', errorMessage: error.message };
  return { errorType: 'Error', errorMessage: String(error) };
}

function awsError(status: number, type: string, message: string): InvokeResult {
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'X-Amzn-ErrorType': type },
    body: JSON.stringify({ __type: type, Type: 'User', message }),
  };
}

function lambdaContext(deployed: DeployedFunction, deadline: number): Context {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: deployed.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: deployed.arn,
    memoryLimitInMB: String(deployed.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${deployed.name}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
