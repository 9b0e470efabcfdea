/**
 * Runs @cdktf/hcl2json (Go in wasm) in a worker thread. The Go runtime is shared state: one hostile input can
 * kill it (`fatal error: malloc deadlock`), after which the next call never answers and the one after fails with
 * "Go program has already exited". In a worker, that damage stays in the worker: any failure other than an
 * ordinary HCL diagnostic, and any call past its time limit, discards the worker, and the next call starts a
 * fresh one. The worker also keeps the wasm compile (~0.5 s) off the import path: it starts on the first HCL
 * file, never for a JSON template, and is unref'd while idle so it never holds the process open at exit.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The worker's whole program, as CommonJS (eval mode), so no separate file has to be bundled or resolved. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { parse } = require(workerData.module);
// Compile the wasm and run one parse before saying ready, so per-call time limits never include start-up.
parse('warmup', '').then(
  () => parentPort.postMessage({ ready: true }),
  () => parentPort.postMessage({ ready: true }),
);
parentPort.on('message', async ({ id, file, source }) => {
  try {
    await parse(file, source);
    parentPort.postMessage({ id, ok: true });
  } catch (e) {
    parentPort.postMessage({ id, ok: false, message: e instanceof Error ? e.message : String(e) });
  }
});
`;

export type GateOutcome =
  | { readonly kind: 'ok' }
  /** The parser's own error text (`parse config: [...]`): an ordinary syntax diagnostic. */
  | { readonly kind: 'syntax'; readonly message: string }
  /** The checker failed (runtime crash) or did not answer in time; the worker was discarded. */
  | { readonly kind: 'crashed'; readonly message: string }
  | { readonly kind: 'timeout'; readonly ms: number };

interface Pending {
  readonly worker: Worker;
  readonly resolve: (o: GateOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

/** Start-up (worker + wasm compile) can take seconds on a loaded machine; it has its own, generous limit. */
export const STARTUP_TIMEOUT_MS = 120_000;

let worker: Worker | undefined;
let ready: Promise<boolean> | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();
/** Calls are run one at a time: a timeout discards the worker, and with it anything else in flight. */
let queue: Promise<unknown> = Promise.resolve();

/** Statistics for tests and the figures table. */
export const gateStats = { started: 0, discarded: 0 };

function failAll(w: Worker, outcome: GateOutcome): void {
  for (const [id, p] of pending) {
    if (p.worker !== w) continue;
    clearTimeout(p.timer);
    pending.delete(id);
    p.resolve(outcome);
  }
}

function discard(w: Worker): void {
  if (worker !== w) return;
  worker = undefined;
  gateStats.discarded++;
  void w.terminate();
}

function start(): Worker {
  const module = createRequire(import.meta.url).resolve('@cdktf/hcl2json');
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module } });
  gateStats.started++;
  w.unref();
  let markReady: (ok: boolean) => void = () => undefined;
  ready = new Promise<boolean>((res) => {
    markReady = res;
  });
  const startup = setTimeout(() => markReady(false), STARTUP_TIMEOUT_MS);
  startup.unref();
  w.on('message', (m: { id: number; ok: boolean; message?: string; ready?: boolean }) => {
    if (m.ready) {
      clearTimeout(startup);
      return markReady(true);
    }
    const p = pending.get(m.id);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(m.id);
    if (![...pending.values()].some((q) => q.worker === w)) w.unref();
    if (m.ok) return p.resolve({ kind: 'ok' });
    const message = m.message ?? '';
    // Anything but the parser's own report means the Go runtime is in an unknown state: never reuse it.
    if (!message.startsWith('parse config')) {
      discard(w);
      return p.resolve({ kind: 'crashed', message });
    }
    p.resolve({ kind: 'syntax', message });
  });
  const died = (reason: string) => {
    markReady(false);
    if (worker === w) {
      worker = undefined;
      gateStats.discarded++;
    }
    failAll(w, { kind: 'crashed', message: reason });
  };
  w.on('error', (e) => died(e instanceof Error ? e.message : String(e)));
  w.on('exit', (code) => died(`the checker exited (code ${code})`));
  return w;
}

async function call(file: string, source: string, timeoutMs: number): Promise<GateOutcome> {
  worker ??= start();
  const w = worker;
  w.ref();
  if (!(await ready)) {
    discard(w);
    return { kind: 'crashed', message: 'the checker did not start' };
  }
  const id = nextId++;
  return new Promise<GateOutcome>((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      discard(w);
      resolve({ kind: 'timeout', ms: timeoutMs });
    }, timeoutMs);
    pending.set(id, { worker: w, resolve, timer });
    w.ref();
    w.postMessage({ id, file, source });
  });
}

/** Parses `source` with the Go HCL parser in the isolated worker; never throws, never waits past `timeoutMs`. */
export function checkInWorker(file: string, source: string, timeoutMs: number): Promise<GateOutcome> {
  const result = queue.then(() => call(file, source, timeoutMs));
  queue = result.catch(() => undefined);
  return result;
}

/** Stops the worker now (tests, and callers that want a clean exit without waiting for unref). */
export async function stopGateWorker(): Promise<void> {
  const w = worker;
  worker = undefined;
  if (w) await w.terminate();
}
