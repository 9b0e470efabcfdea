/**
 * A local Lambda execution environment: one Node 22 process (node_modules/.bin/node) per environment, kept
 * warm between invocations, with the function's environment, its memory as `--max-old-space-size`, and the
 * credentials of its own role. One invocation at a time; a timeout kills the process (`Sandbox.Timedout`), an
 * exit during an invocation is `Runtime.ExitError`; either way the next invocation gets a fresh process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { FunctionEntry } from './function-code.ts';
import type { RuntimeInit, RuntimeReply, RuntimeRequest } from './function-protocol.ts';

const REPO = resolve(import.meta.dirname, '..');
const NODE = join(REPO, 'node_modules/.bin/node');
/** Plain Node loads it (type stripping, Node >= 22.18): no loader in the process a bundle runs in. */
const RUNTIME = join(import.meta.dirname, 'function-runtime.ts');
/**
 * The module import (cold start) is not part of the function timeout, as Lambda's init phase is not. Lambda
 * limits init to 10 s; a bundle imports in well under a second, but on a loaded two-core machine (the test suite
 * next to other work) a burst of cold starts waits for a core, and fixture sources compile through tsx, so the
 * local limit is wider.
 */
export const INIT_TIMEOUT_MS = 60_000;

export interface EnvironmentSettings {
  readonly entry: FunctionEntry;
  readonly functionName: string;
  readonly functionArn: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** The whole environment of the process (function variables, endpoint, role credentials). */
  readonly env: Readonly<Record<string, string>>;
  /** When the credentials in `env` expire; the environment is retired before that. */
  readonly credentialsExpire?: Date;
}

export type Outcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

export class ExecutionEnvironment {
  private readonly child: ChildProcess;
  private exited = false;
  /** SIGKILL sent: the process is as good as gone, even before its exit event arrives. */
  private killed = false;
  private pending: { id: string; settle: (outcome: Outcome) => void } | undefined;
  private busy = false;
  /** Settles when the handler module is imported: undefined when ready, the failure otherwise. */
  private readonly init: Promise<Outcome | undefined>;
  readonly started = Date.now();

  constructor(readonly settings: EnvironmentSettings) {
    this.child = fork(RUNTIME, [], {
      execPath: NODE,
      execArgv: [...settings.entry.execArgv, `--max-old-space-size=${settings.memoryMb}`],
      env: { ...settings.env, KILN_HANDLER_MODULE: settings.entry.module },
      cwd: settings.entry.cwd,
      // Piped and forwarded through this process's streams, as the Lambda service collects a function's output for
      // CloudWatch Logs: whoever reads the harness's output (a test searching logs for secrets) sees every line.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    let initDone: (failure: Outcome | undefined) => void = () => undefined;
    this.init = new Promise((resolve) => {
      initDone = resolve;
    });
    const initTimer = setTimeout(() => {
      initDone({
        ok: false,
        errorType: 'Runtime.InitError',
        errorMessage: `Init timed out after ${INIT_TIMEOUT_MS / 1000} s`,
      });
      this.kill();
    }, INIT_TIMEOUT_MS);
    this.child.on('message', (reply: RuntimeReply | RuntimeInit) => {
      if ('init' in reply) {
        clearTimeout(initTimer);
        initDone(
          reply.init === 'ready'
            ? undefined
            : { ok: false, errorType: reply.errorType, errorMessage: reply.errorMessage },
        );
        return;
      }
      if (this.pending?.id !== reply.id) return;
      const { settle } = this.pending;
      this.pending = undefined;
      settle(reply.ok ? { ok: true, result: reply.result } : reply);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      clearTimeout(initTimer);
      initDone({
        ok: false,
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited during init ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`,
      });
      const pending = this.pending;
      this.pending = undefined;
      pending?.settle({
        ok: false,
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${pending.id} Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`,
      });
    });
    this.child.on('error', () => undefined);
  }

  /** Free for an invocation: alive, idle, and its credentials good for this invocation's whole timeout. */
  usable(renewBeforeMs: number): boolean {
    if (this.exited || this.killed || this.busy) return false;
    const expires = this.settings.credentialsExpire?.getTime();
    return expires === undefined || expires - Date.now() > Math.max(renewBeforeMs, this.settings.timeoutSeconds * 1000);
  }

  /** Resolves when the init phase ended (either way). */
  async initialized(): Promise<void> {
    await this.init;
  }

  get alive(): boolean {
    return !this.exited && !this.killed;
  }

  async invoke(event: unknown): Promise<Outcome> {
    this.busy = true;
    try {
      const failed = await this.init;
      if (failed) {
        this.kill();
        return failed;
      }
      return await this.call(event);
    } finally {
      this.busy = false;
    }
  }

  private call(event: unknown): Promise<Outcome> {
    const id = randomUUID();
    const deadlineMs = Date.now() + this.settings.timeoutSeconds * 1000;
    const request: RuntimeRequest = {
      id,
      event,
      context: {
        requestId: id,
        functionName: this.settings.functionName,
        invokedFunctionArn: this.settings.functionArn,
        memoryMb: this.settings.memoryMb,
        deadlineMs,
      },
    };
    return new Promise<Outcome>((settle) => {
      let timer: NodeJS.Timeout | undefined;
      this.pending = {
        id,
        settle: (outcome) => {
          clearTimeout(timer);
          settle(outcome);
        },
      };
      // Lambda's timeout covers the whole invocation, a cold start's init included.
      timer = setTimeout(() => {
        const pending = this.pending;
        this.pending = undefined;
        this.kill();
        pending?.settle({
          ok: false,
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${this.settings.timeoutSeconds.toFixed(2)} seconds`,
        });
      }, this.settings.timeoutSeconds * 1000);
      if (this.exited) {
        this.pending = undefined;
        clearTimeout(timer);
        settle({ ok: false, errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited before the invocation' });
        return;
      }
      this.child.send(request);
    });
  }

  kill(): void {
    if (this.exited) return;
    this.killed = true;
    this.child.kill('SIGKILL');
  }

  /** Resolves when the process is gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.kill();
    await gone;
  }
}
