/**
 * The whole local AWS: moto (with Kiln's patches) behind the router (Lambda handlers in-process, SSM shim).
 * Everything Kiln code and tests call goes to `endpoint` (the router); moto's own calls come back there too,
 * because moto is started with MOTO_PORT = the router's port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type FunctionSpec, KILN_FUNCTIONS } from '../../functions/registry.ts';
import { LOCAL_REGION, localAwsEnv } from './clients.ts';
import { sandboxParent } from './command-runner.ts';
import type { InvocationRecord } from './lambda-invoker.ts';
import { type MotoServer, startMoto } from './moto.ts';
import { freePort } from './ports.ts';
import { type Router, startRouter } from './router.ts';
import type { InvocationRecord as CommandInvocation, CommandRecord } from './ssm-records.ts';

export interface LocalAwsOptions {
  readonly functions?: readonly FunctionSpec[];
  readonly functionsRoot?: string;
  /** Extra environment for the in-process handlers. */
  readonly handlerEnv?: Readonly<Record<string, string>>;
  readonly onInvoke?: (record: InvocationRecord) => void;
  readonly onCommandEnd?: (command: CommandRecord, invocation: CommandInvocation) => void;
  /** Seconds after launch before the SSM shim reports an instance Online (its default otherwise). */
  readonly onlineDelaySeconds?: number;
}

export interface LocalAws {
  /** The router: give this to every client. */
  readonly endpoint: string;
  readonly moto: MotoServer;
  readonly router: Router;
  /** Per-instance sandboxes of the SSM shim. */
  readonly sandboxRoot: string;
  /** Resets moto, the shim's commands and the loaded handlers. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const routerPort = await freePort();
  const moto = await startMoto({ callbackPort: routerPort });
  const sandboxRoot = mkdtempSync(join(sandboxParent(), 'kiln-instances-'));
  const endpoint = `http://127.0.0.1:${routerPort}`;
  let router: Router;
  try {
    router = await startRouter({
      motoEndpoint: moto.endpoint,
      port: routerPort,
      lambda: {
        functions: options.functions ?? KILN_FUNCTIONS,
        ...(options.functionsRoot ? { functionsRoot: options.functionsRoot } : {}),
        baseEnv: {
          ...localAwsEnv(endpoint, LOCAL_REGION),
          KILN_SDK_MAX_ATTEMPTS: '1',
          KILN_MIN_POLL_SECONDS: '1',
          POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
          ...options.handlerEnv,
        },
        ...(options.onInvoke ? { onInvoke: options.onInvoke } : {}),
      },
      ssm: {
        sandboxRoot,
        // What an instance profile would give the instance: credentials for this account, its region.
        instanceEnv: (instanceId, region) => ({
          ...localAwsEnv(endpoint, region),
          KILN_LOCAL_INSTANCE_ID: instanceId,
        }),
        ...(options.onCommandEnd ? { onCommandEnd: options.onCommandEnd } : {}),
        ...(options.onlineDelaySeconds !== undefined ? { onlineDelaySeconds: options.onlineDelaySeconds } : {}),
      },
    });
  } catch (error) {
    await moto.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    moto,
    router,
    sandboxRoot,
    reset: async () => {
      // Through the router, so it forgets commands and handlers too.
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`reset: HTTP ${response.status}`);
    },
    stop: () => {
      stopped ??= (async () => {
        await router.stop();
        await moto.stop();
        rmSync(sandboxRoot, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
