/**
 * A leased job's heartbeats: every `heartbeatSeconds` the agent renews its lease and sends the log lines
 * buffered since the last one (at most LIMITS.logLinesPerHeartbeat a request, several requests when more
 * piled up). The answer may ask to cancel. A refused heartbeat (409 LeaseLost, or the agent's identity
 * refused) means the job is no longer this agent's: the build stops and is not completed. A heartbeat that does
 * not reach the gateway is retried at the next tick with its lines kept: the lease lasts three windows.
 */
import { LIMITS } from '../aws/agent-gateway-contract.ts';
import { GatewayResponseError, isRetryable } from './errors.ts';
import type { GatewayClient } from './gateway-client.ts';

/** Lines kept while the gateway cannot be reached; beyond this the oldest go (a marker says how many). */
const MAX_BUFFERED_LINES = 20_000;
/** Requests one tick may send to drain a backlog. */
const MAX_REQUESTS_PER_TICK = 5;

export interface HeartbeatEvents {
  /** The gateway asked to stop the build (cancelled in Kiln, or the execution ended). */
  onCancel(): void;
  /** The lease is gone (re-offered, completed elsewhere) or the agent was refused: stop, do not complete. */
  onLost(error: GatewayResponseError): void;
  onWarning(message: string): void;
}

export class Heartbeater {
  private lines: { time: string; line: string }[] = [];
  private dropped = 0;
  private progress: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private ended = false;

  constructor(
    private readonly client: GatewayClient,
    private readonly jobId: string,
    private readonly credential: string,
    private readonly intervalMs: number,
    private readonly events: HeartbeatEvents,
  ) {}

  start(): void {
    // A tick never rejects into the timer (an unhandled rejection would end the agent mid-build).
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.events.onWarning(`heartbeat of ${this.jobId} failed: ${String(error)}`),
      );
    }, this.intervalMs);
  }

  push(line: string): void {
    this.lines.push({ time: new Date().toISOString(), line });
    if (this.lines.length > MAX_BUFFERED_LINES) {
      const drop = this.lines.length - MAX_BUFFERED_LINES;
      this.lines.splice(0, drop);
      this.dropped += drop;
    }
  }

  setProgress(progress: string | undefined): void {
    if (progress !== undefined) this.progress = progress.slice(0, LIMITS.progressLength);
  }

  /** One heartbeat now (the queued lines); waits for one in flight first. */
  tick(): Promise<void> {
    if (this.ended) return Promise.resolve();
    const run = async () => {
      if (this.sending) await this.sending;
      await this.send();
    };
    const p = run().finally(() => {
      if (this.sending === p) this.sending = undefined;
    });
    this.sending = p;
    return p;
  }

  private async send(): Promise<void> {
    for (let i = 0; i < MAX_REQUESTS_PER_TICK && !this.ended; i++) {
      if (this.dropped > 0) {
        this.lines.unshift({
          time: new Date().toISOString(),
          line: `[kiln-agent: ${this.dropped} log lines dropped while the gateway was unreachable]`,
        });
        this.dropped = 0;
      }
      const batch = this.lines.slice(0, LIMITS.logLinesPerHeartbeat);
      try {
        const answer = await this.client.heartbeat(this.jobId, this.credential, {
          ...(this.progress ? { progress: this.progress } : {}),
          ...(batch.length > 0 ? { logLines: batch } : {}),
        });
        this.lines.splice(0, batch.length);
        if (answer.cancel) this.events.onCancel();
      } catch (error) {
        if (isRetryable(error)) {
          this.events.onWarning(`heartbeat of ${this.jobId} did not go through (retried): ${(error as Error).message}`);
          return;
        }
        if (error instanceof GatewayResponseError) {
          this.stop();
          this.events.onLost(error);
          return;
        }
        throw error;
      }
      if (this.lines.length === 0) return;
    }
  }

  /** Sends what is left (best effort), then stops. */
  async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.ended && this.lines.length > 0) await this.tick().catch(() => undefined);
    this.stop();
  }

  stop(): void {
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
  }
}
