import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type AppProps, DefaultStackSynthesizer, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { FunctionSpec } from '../functions/registry.ts';
import { readKilnContext } from './context.ts';
import { KilnStack } from './kiln-stack.ts';

/** The repository root, found from this file so `cdk synth` works from any working directory. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface CreateKilnAppOptions {
  /** Passed to the App (context, outdir); `cdk synth` passes neither and the App reads CDK_CONTEXT_JSON. */
  readonly appProps?: AppProps;
  /** Test seam: a fixture registry and its handler folder instead of functions/. */
  readonly functions?: readonly FunctionSpec[];
  readonly functionsRoot?: string;
  /**
   * Run cdk-nag (AwsSolutions + Serverless); any unacknowledged finding fails synthesis.
   * @default true
   */
  readonly nag?: boolean;
}

/** Feature flags Kiln relies on; set after CLI context so cdk.json cannot turn them off by accident. */
export const REQUIRED_FEATURE_FLAGS = {
  // Access-log delivery through a bucket policy instead of the LogDeliveryWrite ACL (ACLs stay disabled).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

/** Builds the Kiln app: context → KilnStack, with cdk-nag registered on the whole app. */
export function createKilnApp(options: CreateKilnAppOptions = {}): { app: App; stack: KilnStack } {
  const app = new App({
    ...options.appProps,
    postCliContext: {
      ...options.appProps?.postCliContext,
      // Behaviour the stack depends on, so tests and `cdk synth` agree whatever cdk.json holds.
      ...REQUIRED_FEATURE_FLAGS,
    },
  });
  const skipBundling = app.node.tryGetContext('kiln:skipBundling');
  if (skipBundling === true || skipBundling === 'true') {
    // The CLI refuses user context under `aws:`, so `-c kiln:skipBundling=true` is how a fast synth (tests, the
    // local harness) asks for no esbuild run; assets then point at the unbundled source folders. Context can
    // still be set here because the App has no children yet.
    app.node.setContext('aws:cdk:bundling-stacks', []);
  }
  const context = readKilnContext((key) => app.node.tryGetContext(key));
  const stateMachinesDir = context.stateMachinesDir
    ? isAbsolute(context.stateMachinesDir)
      ? context.stateMachinesDir
      : join(PROJECT_ROOT, context.stateMachinesDir)
    : undefined;
  const stack = new KilnStack(app, context.stackName, {
    projectRoot: PROJECT_ROOT,
    description: 'Kiln: serverless Packer image factory',
    // Without account/region the stack is environment-agnostic; nothing in it needs a lookup.
    ...(context.account || context.region ? { env: { account: context.account, region: context.region } } : {}),
    // No BootstrapVersion rule/parameter: the local harness deploys this template into moto, which cannot read it.
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
    ...(options.functions ? { functions: options.functions } : {}),
    ...(options.functionsRoot ? { functionsRoot: options.functionsRoot } : {}),
    ...(stateMachinesDir ? { stateMachinesDir } : {}),
    ...(context.existingVpc ? { existingVpc: context.existingVpc } : {}),
    ...(context.egressPorts ? { egressPorts: context.egressPorts } : {}),
    ...(context.privateEndpoints ? { privateEndpoints: context.privateEndpoints } : {}),
    ...(context.kmsKeyArns ? { kmsKeyArns: context.kmsKeyArns } : {}),
    ...(context.digestRegistries ? { baseImageDigests: { registries: context.digestRegistries } } : {}),
    ...(context.logLevel ? { logLevel: context.logLevel } : {}),
    ...(context.secretScope ? { secretScope: context.secretScope } : {}),
    ...(context.ecr ? { ecr: context.ecr } : {}),
    schedules: context.schedules,
    ...(context.notifications ? { notifications: context.notifications } : {}),
    ...(context.scheduleFailureLimit !== undefined ? { scheduleFailureLimit: context.scheduleFailureLimit } : {}),
    ...(context.fleet ? { fleet: context.fleet } : {}),
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  }
  return { app, stack };
}
