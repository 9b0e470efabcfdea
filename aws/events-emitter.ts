/**
 * Puts Kiln's events on the account's default bus (PutEvents, 10 entries per call). A notification must never
 * fail a build, a promote or a revoke, so `emitKilnEvents` never throws: an entry EventBridge refuses
 * (`FailedEntryCount`, an `ErrorCode` per entry) or a call that fails is retried (3 attempts in all, short
 * back-off), and what is still refused comes back in `failed` with EventBridge's code and message, for the caller
 * to say: the stages log it as a warning (`kiln event not delivered`), `kiln channels` prints it on stderr. A
 * detail that does not match its schema (a bug) is never sent and is reported the same way (`Kiln.InvalidDetail`).
 */
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { checkDetail, KILN_EVENT_SOURCE, type KilnDetailType, type KilnEvent } from './events-contract.ts';

export interface EventFailure {
  readonly detailType: KilnDetailType;
  readonly code: string;
  readonly message: string;
}

export interface EmitResult {
  /** Entries EventBridge accepted (their event ids). */
  readonly sent: readonly { readonly detailType: KilnDetailType; readonly eventId: string }[];
  readonly failed: readonly EventFailure[];
}

/** What a stage or the CLI is given to emit with; tests pass a recorder. */
export type EventSink = (events: readonly KilnEvent[]) => Promise<EmitResult>;

export interface EmitOptions {
  /** Attempts per entry (the first included). */
  readonly attempts?: number;
  /** Milliseconds before the second attempt; doubled each time. */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
}

/** PutEvents takes at most 10 entries per call. */
const BATCH = 10;
export const DEFAULT_EMIT_ATTEMPTS = 3;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function emitKilnEvents(
  client: EventBridgeClient,
  events: readonly KilnEvent[],
  options: EmitOptions = {},
): Promise<EmitResult> {
  const attempts = Math.max(1, options.attempts ?? DEFAULT_EMIT_ATTEMPTS);
  const sleep = options.sleep ?? defaultSleep;
  const sent: { detailType: KilnDetailType; eventId: string }[] = [];
  const failed: EventFailure[] = [];
  let pending: { event: KilnEvent; entry: PutEventsRequestEntry; last?: EventFailure }[] = [];
  for (const event of events) {
    try {
      checkDetail(event.detailType, event.detail);
    } catch (error) {
      failed.push({ detailType: event.detailType, code: 'Kiln.InvalidDetail', message: messageOf(error) });
      continue;
    }
    pending.push({
      event,
      entry: {
        Source: KILN_EVENT_SOURCE,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        ...(options.now ? { Time: options.now() } : {}),
      },
    });
  }
  for (let attempt = 1; pending.length > 0 && attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep((options.backoffMs ?? 200) * 2 ** (attempt - 2));
    const retry: typeof pending = [];
    for (let i = 0; i < pending.length; i += BATCH) {
      const batch = pending.slice(i, i + BATCH);
      try {
        const out = await client.send(new PutEventsCommand({ Entries: batch.map((p) => p.entry) }));
        batch.forEach((p, j) => {
          const result = out.Entries?.[j];
          if (result?.EventId && !result.ErrorCode) {
            sent.push({ detailType: p.event.detailType, eventId: result.EventId });
          } else {
            retry.push({
              ...p,
              last: {
                detailType: p.event.detailType,
                code: result?.ErrorCode ?? 'NoEventId',
                message: result?.ErrorMessage ?? 'EventBridge returned no event id for the entry',
              },
            });
          }
        });
      } catch (error) {
        const code = error instanceof Error ? error.name : 'Error';
        for (const p of batch)
          retry.push({ ...p, last: { detailType: p.event.detailType, code, message: messageOf(error) } });
      }
    }
    pending = retry;
  }
  for (const p of pending) if (p.last) failed.push(p.last);
  return { sent, failed };
}

/** A sink on a client, with the options fixed. */
export const eventSinkFor =
  (client: EventBridgeClient, options: EmitOptions = {}): EventSink =>
  (events) =>
    emitKilnEvents(client, events, options);

/** One line per failure, for a log or stderr: `Kiln Build Started: AccessDeniedException: ...`. */
export function describeFailures(failed: readonly EventFailure[]): string[] {
  return failed.map((f) => `${f.detailType}: ${f.code}: ${f.message}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
