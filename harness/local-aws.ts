/**
 * The whole local AWS: moto (with Kiln's patches, IAM enforced) behind the router (Lambda functions in their own
 * processes, SSM shim). Everything Kiln code and tests call goes to `endpoint` (the router); moto's own calls
 * come back there too, because moto is started with MOTO_PORT = the router's port. Setup calls sign as the
 * harness's admin user; functions, the SSM stand-in's instances and Step Functions as their own roles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Instance } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ECS_AL2023_AMI_PARAMETER } from '../aws/docker-host.ts';
import { type FunctionSpec, KILN_ENV, KILN_FUNCTIONS } from '../functions/registry.ts';
import { CallerDirectory } from './callers.ts';
import {
  adminCredentials,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type LocalCredentials,
  localAwsEnv,
  localClientConfig,
} from './clients.ts';
import { AGENT_PATH, sandboxParent, stopInstanceNamespaces } from './command-runner.ts';
import { type ContainerHost, startContainerHost } from './containers/host.ts';
import type { FunctionCode } from './function-code.ts';
import { IamGuard } from './iam-guard.ts';
import type { InvocationRecord } from './lambda-invoker.ts';
import { type MotoServer, startMoto } from './moto.ts';
import { motoFacts } from './moto-facts.ts';
import { freePort } from './ports.ts';
import { RoleCredentialsCache } from './role-credentials.ts';
import { type Router, startRouter } from './router.ts';
import type { InvocationRecord as CommandInvocation, CommandRecord } from './ssm-records.ts';

export interface LocalAwsOptions {
  readonly functions?: readonly FunctionSpec[];
  /**
   * What the functions run (function-code.ts): `startKilnLocal` passes the synthesized bundles; the harness's own
   * tests of fixture registries pass `{ kind: 'fixture-sources', functionsRoot }`. Without it, invocations fail.
   */
  readonly functionCode?: FunctionCode;
  /** Extra environment for the functions. */
  readonly handlerEnv?: Readonly<Record<string, string>>;
  /** Variables that replace the deployed ones in every function (lambda-invoker.ts `envOverrides`). */
  readonly handlerEnvOverrides?: Readonly<Record<string, string>>;
  readonly onInvoke?: (record: InvocationRecord) => void;
  readonly onCommandEnd?: (command: CommandRecord, invocation: CommandInvocation) => void;
  /** Seconds after launch before the SSM shim reports an instance Online (its default otherwise). */
  readonly onlineDelaySeconds?: number;
  /**
   * Real containers for docker builder hosts (harness/containers/): podman behind a `docker` wrapper on the PATH of
   * commands sent to instances launched from the docker host AMI, a local registry with the python:3.9-slim
   * stand-in as the `docker.io` mirror, and the ECR front that bridges pushes into moto's ECR. Needs podman, runc,
   * docker-registry and the stand-in (scripts/setup.sh); off by default.
   */
  readonly containers?: boolean;
  /** SSM parameter naming the docker host AMI per region (default: the ECS-optimized AL2023 one, as LaunchBuilder). */
  readonly dockerHostAmiParameter?: string;
  /** Concurrent invocations per function beyond which the router throttles (lambda-invoker.ts); default none. */
  readonly lambdaConcurrencyLimit?: number;
}

/** The roles of a deployment the harness acts as (deploy.ts finds them in the stack). */
export interface DeploymentRoles {
  readonly builderRoleArn?: string;
  readonly stateMachineRoleArn?: string;
  /** Deployed function names: one environment each is started at once (prewarm). */
  readonly functionNames?: readonly string[];
  readonly region?: string;
}

export interface LocalAws {
  /** The router: give this to every client. */
  readonly endpoint: string;
  readonly moto: MotoServer;
  readonly router: Router;
  readonly roles: RoleCredentialsCache;
  /** Per-instance sandboxes of the SSM shim. */
  readonly sandboxRoot: string;
  /** The container engine, registry and ECR front of docker builder hosts (with `containers: true`). */
  readonly containers?: ContainerHost;
  /** Tells the harness which roles the deployed stack gives the builder instances and the state machine. */
  useDeployment(roles: DeploymentRoles): void;
  /** Resets moto (and its admin user), the shim's commands and the function processes. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const routerPort = await freePort();
  const endpoint = `http://127.0.0.1:${routerPort}`;
  const sandboxRoot = mkdtempSync(join(sandboxParent(), 'kiln-instances-'));
  // The launcher records the roles Step Functions signs as here, so the router can tell who invokes a function.
  const assumedRolesFile = join(sandboxRoot, '.assumed-roles.jsonl');
  const moto = await startMoto({ callbackPort: routerPort, aliases: [endpoint], assumedRolesFile });
  const roles = new RoleCredentialsCache(moto.endpoint);
  const admin = () => ({ arn: moto.admin().arn, accessKeyId: moto.admin().credentials.accessKeyId });
  const iam = new IamGuard({
    motoEndpoint: moto.endpoint,
    account: LOCAL_ACCOUNT,
    callers: new CallerDirectory({
      admin,
      roleOf: (key) => roles.roleOf(key),
      sessionOf: (key) => roles.sessionOf(key),
      assumedRolesFile,
    }),
    facts: motoFacts(moto.endpoint),
    adminArn: () => moto.admin().arn,
  });
  let deployment: DeploymentRoles = {};
  /** Without a deployment (shim tests) an instance has no profile role of the stack: it gets the admin's. */
  const instanceCredentials = async (): Promise<LocalCredentials> =>
    deployment.builderRoleArn
      ? await roles.forRole(deployment.builderRoleArn, 'instance')
      : adminCredentials(moto.endpoint);
  let containers: ContainerHost | undefined;
  /** The docker host AMI id per region (the public parameter moto serves), looked up once per region. */
  const dockerHostImages = new Map<string, Promise<string | undefined>>();
  const dockerHostImage = (region: string): Promise<string | undefined> => {
    let image = dockerHostImages.get(region);
    if (!image) {
      const ssm = new SSMClient(localClientConfig(moto.endpoint, region));
      image = ssm
        .send(new GetParameterCommand({ Name: options.dockerHostAmiParameter ?? ECS_AL2023_AMI_PARAMETER }))
        .then((out) => out.Parameter?.Value)
        .catch(() => undefined)
        .finally(() => ssm.destroy());
      dockerHostImages.set(region, image);
    }
    return image;
  };
  /** A docker host has `docker` on the agent's PATH, as the ECS-optimized AMI does; other instances do not. */
  const instancePath = async (region: string, instance: Instance | undefined): Promise<Record<string, string>> => {
    if (!containers || !instance?.ImageId || instance.ImageId !== (await dockerHostImage(region))) return {};
    return { PATH: `${containers.binDir}:${AGENT_PATH}` };
  };
  let router: Router;
  try {
    if (options.containers) containers = await startContainerHost({ motoEndpoint: moto.endpoint });
    router = await startRouter({
      motoEndpoint: moto.endpoint,
      port: routerPort,
      iam,
      afterReset: async () => {
        roles.reset();
        deployment = {};
        await moto.reauthenticate();
      },
      lambda: {
        functions: options.functions ?? KILN_FUNCTIONS,
        ...(options.functionCode ? { code: options.functionCode } : {}),
        credentialsFor: (roleArn) => roles.forRole(roleArn, 'lambda'),
        baseEnv: {
          AWS_ENDPOINT_URL: endpoint,
          AWS_MAX_ATTEMPTS: '1',
          KILN_SDK_MAX_ATTEMPTS: '1',
          KILN_MIN_POLL_SECONDS: '1',
          POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
          // Base image digests are read where the builder hosts pull from (PrepareBuild's registry-digest.ts).
          ...(containers ? { [KILN_ENV.registryMirrors]: JSON.stringify(containers.mirrors) } : {}),
          ...options.handlerEnv,
        },
        ...(options.handlerEnvOverrides ? { envOverrides: options.handlerEnvOverrides } : {}),
        ...(options.onInvoke ? { onInvoke: options.onInvoke } : {}),
        ...(options.lambdaConcurrencyLimit ? { concurrencyLimit: options.lambdaConcurrencyLimit } : {}),
      },
      ssm: {
        sandboxRoot,
        instanceCredentials,
        // What an instance profile gives the instance: its role's credentials, its region.
        instanceEnv: async (instanceId, region, credentials, instance) => ({
          ...localAwsEnv(endpoint, region, credentials),
          KILN_LOCAL_INSTANCE_ID: instanceId,
          ...(await instancePath(region, instance)),
        }),
        ...(options.onCommandEnd ? { onCommandEnd: options.onCommandEnd } : {}),
        ...(options.onlineDelaySeconds !== undefined ? { onlineDelaySeconds: options.onlineDelaySeconds } : {}),
      },
    });
  } catch (error) {
    await containers?.stop();
    await moto.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    moto,
    router,
    roles,
    sandboxRoot,
    ...(containers ? { containers } : {}),
    useDeployment: (next) => {
      deployment = next;
      // One at a time: a burst of cold starts starves moto on a two-core machine (requests time out).
      void (async () => {
        for (const name of next.functionNames ?? []) {
          if (deployment !== next) return;
          await router.invoker.prewarm(name, next.region ?? LOCAL_REGION).catch(() => undefined);
        }
      })();
    },
    reset: async () => {
      // Through the router, so it forgets commands, sessions and function processes too.
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`reset: HTTP ${response.status}`);
    },
    stop: () => {
      stopped ??= (async () => {
        await router.stop();
        await containers?.stop();
        await moto.stop();
        stopInstanceNamespaces();
        rmSync(sandboxRoot, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
