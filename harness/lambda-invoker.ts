/**
 * Serves Lambda Invoke from the real bundles. moto can store a Lambda but needs Docker to run it; this maps the
 * invoked function to its registry entry (through the `KILN_FUNCTION_ID` variable the CDK app sets on every
 * function) and runs its code (function-code.ts: the synthesized bundle) in an execution environment of its own
 * (function-process.ts): a Node process with the
 * function's environment, memory and timeout, signing its AWS calls with credentials of the function's role.
 * Environments stay warm between invocations and one serves one invocation at a time, so concurrent invocations
 * (a Map state) get more environments, as in Lambda. Results and errors come back in the Lambda wire format, so
 * Step Functions Retry/Catch see the same error names (`Kiln.*`, `Sandbox.Timedout`) as in AWS.
 */
import { type FunctionSpec, KILN_ENV } from '../functions/registry.ts';
import type { LocalCredentials } from './clients.ts';
import { entryFor, type FunctionCode, type FunctionEntry } from './function-code.ts';
import { ExecutionEnvironment } from './function-process.ts';
import { RENEW_BEFORE_MS } from './role-credentials.ts';

/** What the router learns about a deployed function (from moto's GetFunction). */
export interface DeployedFunction {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
  /** The function's execution role. */
  readonly roleArn: string;
}

export type LookupFunction = (nameOrArn: string, region: string) => Promise<DeployedFunction | undefined>;

export interface InvokeResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface LambdaInvokerOptions {
  readonly lookup: LookupFunction;
  readonly functions: readonly FunctionSpec[];
  /**
   * The code the functions run (function-code.ts): the synthesized bundles, or a fixture registry's sources.
   * Without it every invocation fails with `Runtime.Unknown` saying so: there is no default code to fall back to.
   */
  readonly code?: FunctionCode;
  /** Environment every function gets besides its own (endpoint, poll settings); never credentials. */
  readonly baseEnv?: Readonly<Record<string, string>>;
  /**
   * Variables that replace the deployed ones (the harness's shorter agent lease policy for tests): applied after
   * the function's own environment, unlike `baseEnv`. Never credentials.
   */
  readonly envOverrides?: Readonly<Record<string, string>>;
  /** Credentials of a role (AssumeRole), valid for a while. */
  readonly credentialsFor: (roleArn: string) => Promise<LocalCredentials & { expiration: Date }>;
  /** Called for each invocation (the CLI's live view, tests). */
  readonly onInvoke?: (record: InvocationRecord) => void;
  /**
   * In-flight invocations one function may have (Lambda's reserved concurrency); one more is throttled as Lambda
   * throttles it: HTTP 429 `TooManyRequestsException`, which the caller retries (the SDK, the ASL's Retry on
   * `Lambda.TooManyRequestsException`). Unset: no limit (each concurrent invocation gets an environment).
   */
  readonly concurrencyLimit?: number;
}

export interface InvocationRecord {
  readonly functionId: string;
  readonly functionName: string;
  readonly durationMs: number;
  readonly errorType?: string;
  /** Whether this invocation started a new environment (a cold start). */
  readonly coldStart: boolean;
  /** What code served it (function-code.ts); absent when no environment could be started. */
  readonly code?: FunctionEntry['kind'];
}

/** Variables of the Lambda runtime a process inherits from the host (Lambda sets its own PATH, LANG, TZ). */
const HOST_ENV = ['PATH', 'LANG', 'TMPDIR'] as const;

export class LambdaInvoker {
  readonly invocations: InvocationRecord[] = [];
  private environments = new Map<string, ExecutionEnvironment[]>();
  /** Invocations in flight per function ARN, counted before any await so the limit holds under a burst. */
  private inFlight = new Map<string, number>();
  /** Invocations refused by the concurrency limit. */
  throttled = 0;
  /** Bumped by every reset, so an environment that finishes starting afterwards is stopped, not leaked. */
  private generation = 0;

  constructor(private readonly options: LambdaInvokerOptions) {}

  async invoke(nameOrArn: string, region: string, payload: string, invocationType: string): Promise<InvokeResult> {
    const deployed = await this.options.lookup(nameOrArn, region);
    if (!deployed) return awsError(404, 'ResourceNotFoundException', `Function not found: ${nameOrArn}`);
    const spec = this.specOf(deployed);
    if (!spec) {
      const functionId = deployed.environment[KILN_ENV.functionId];
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
    const limit = this.options.concurrencyLimit;
    const busy = this.inFlight.get(deployed.arn) ?? 0;
    if (limit !== undefined && busy >= limit) {
      this.throttled += 1;
      return awsError(
        429,
        'TooManyRequestsException',
        `Rate Exceeded. (${deployed.name}: ${busy} invocations in flight, its concurrency limit is ${limit})`,
      );
    }
    this.inFlight.set(deployed.arn, busy + 1);
    const run = this.run(spec, deployed, event).finally(() => {
      this.inFlight.set(deployed.arn, (this.inFlight.get(deployed.arn) ?? 1) - 1);
    });
    if (invocationType === 'Event') {
      run.catch(() => undefined);
      return { status: 202, headers: {}, body: '' };
    }
    return await run;
  }

  /**
   * Starts one environment of a deployed function ahead of its first invocation (as provisioned concurrency
   * does), so the cold starts of a pipeline's functions overlap instead of adding up. Failures are left for the
   * invocation to report.
   */
  async prewarm(nameOrArn: string, region: string): Promise<void> {
    const deployed = await this.options.lookup(nameOrArn, region);
    const spec = deployed && this.specOf(deployed);
    if (!deployed || !spec || this.warmEnvironment(deployed)) return;
    await (await this.newEnvironment(spec, deployed)).initialized();
  }

  specOf(deployed: DeployedFunction): FunctionSpec | undefined {
    const functionId = deployed.environment[KILN_ENV.functionId];
    return this.options.functions.find((f) => f.id === functionId);
  }

  private async run(spec: FunctionSpec, deployed: DeployedFunction, event: unknown): Promise<InvokeResult> {
    const started = Date.now();
    let environment: ExecutionEnvironment;
    let coldStart = false;
    try {
      const warm = this.warmEnvironment(deployed);
      coldStart = warm === undefined;
      environment = warm ?? (await this.newEnvironment(spec, deployed));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.record(spec, deployed, started, true, 'Runtime.Unknown');
      return functionError('Runtime.Unknown', `could not start an execution environment: ${message}`);
    }
    const outcome = await environment.invoke(event);
    if (!environment.alive) this.retire(deployed.arn, environment);
    this.record(
      spec,
      deployed,
      started,
      coldStart,
      outcome.ok ? undefined : outcome.errorType,
      environment.settings.entry.kind,
    );
    if (outcome.ok) {
      return {
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST' },
        body: JSON.stringify(outcome.result ?? null),
      };
    }
    return functionError(outcome.errorType, outcome.errorMessage);
  }

  private warmEnvironment(deployed: DeployedFunction): ExecutionEnvironment | undefined {
    const pool = this.environments.get(deployed.arn) ?? [];
    for (const environment of [...pool]) {
      if (!environment.alive) this.retire(deployed.arn, environment);
      else if (!environment.usable(RENEW_BEFORE_MS) && environment.settings.credentialsExpire) {
        // Credentials about to lapse and idle: retire it; the next one starts with renewed credentials.
        const expires = environment.settings.credentialsExpire.getTime();
        if (expires - Date.now() <= RENEW_BEFORE_MS) {
          this.retire(deployed.arn, environment);
          environment.kill();
        }
      }
    }
    return (this.environments.get(deployed.arn) ?? []).find((e) => e.usable(RENEW_BEFORE_MS));
  }

  private async newEnvironment(spec: FunctionSpec, deployed: DeployedFunction): Promise<ExecutionEnvironment> {
    const generation = this.generation;
    const credentials = await this.options.credentialsFor(deployed.roleArn);
    const host = Object.fromEntries(
      HOST_ENV.flatMap((key) => (process.env[key] ? [[key, process.env[key] as string]] : [])),
    );
    const entry = entryFor(spec, this.options.code);
    const environment = new ExecutionEnvironment({
      entry,
      functionName: deployed.name,
      functionArn: deployed.arn,
      memoryMb: deployed.memoryMb,
      timeoutSeconds: deployed.timeoutSeconds,
      credentialsExpire: credentials.expiration,
      env: {
        ...host,
        ...this.options.baseEnv,
        ...deployed.environment,
        ...this.options.envOverrides,
        AWS_REGION: deployed.region,
        AWS_DEFAULT_REGION: deployed.region,
        AWS_LAMBDA_FUNCTION_NAME: deployed.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(deployed.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
      },
    });
    if (this.generation !== generation) {
      // A reset (or stop) came while the credentials were fetched: this environment belongs to nobody.
      await environment.stop();
      throw new Error(`${deployed.name}: the harness was reset while its execution environment started`);
    }
    const pool = this.environments.get(deployed.arn) ?? [];
    pool.push(environment);
    this.environments.set(deployed.arn, pool);
    return environment;
  }

  private retire(arn: string, environment: ExecutionEnvironment): void {
    const pool = this.environments.get(arn) ?? [];
    this.environments.set(
      arn,
      pool.filter((e) => e !== environment),
    );
  }

  /** Live execution environments (processes), per function ARN. */
  environmentCount(): number {
    return [...this.environments.values()].reduce((n, pool) => n + pool.filter((e) => e.alive).length, 0);
  }

  private record(
    spec: FunctionSpec,
    deployed: DeployedFunction,
    started: number,
    coldStart: boolean,
    errorType?: string,
    code?: FunctionEntry['kind'],
  ): void {
    const record: InvocationRecord = {
      functionId: spec.id,
      functionName: deployed.name,
      durationMs: Date.now() - started,
      coldStart,
      ...(errorType ? { errorType } : {}),
      ...(code ? { code } : {}),
    };
    this.invocations.push(record);
    this.options.onInvoke?.(record);
  }

  /** After `/moto-api/reset`: the next deployment brings other functions, roles and variables. */
  async reset(): Promise<void> {
    const all = [...this.environments.values()].flat();
    this.environments = new Map();
    this.generation += 1;
    await Promise.all(all.map((e) => e.stop()));
  }
}

function functionError(errorType: string, errorMessage: string): InvokeResult {
  return {
    status: 200,
    headers: {
      'Content-Type': 'application/json',
      'X-Amz-Executed-Version': '$LATEST',
      'X-Amz-Function-Error': 'Unhandled',
    },
    body: JSON.stringify({ errorType, errorMessage, trace: [] }),
  };
}

function awsError(status: number, type: string, message: string): InvokeResult {
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'X-Amzn-ErrorType': type },
    body: JSON.stringify({ __type: type, Type: 'User', message }),
  };
}
