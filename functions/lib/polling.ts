/**
 * Adaptive polling for the Check → Choice → Wait loops of the state machine. Each poll costs three state
 * transitions, so the wait grows with the time already spent (two thirds of it, capped at 5 minutes): with a
 * 15 s minimum a 30-minute AMI wait costs 12 polls (≈36 transitions), a 2-hour one 30 polls, instead of 120 or
 * 480 polls at a fixed 15 s. The price: a result is noticed up to 2/3 of the elapsed time (≤ 5 min) late.
 */
import type { AmazonEbsConfig } from '../../core/builders/amazon-ebs.ts';
import { known } from '../../core/schema/decoded.ts';
import type { WaitStatus } from './build-state.ts';

export const MAX_POLL_SECONDS = 300;
export const DEFAULT_MIN_POLL_SECONDS = 15;

export interface PollTiming {
  /** Seconds since the waited-for thing was requested. */
  readonly elapsedSeconds: number;
  readonly minSeconds: number;
  /** Seconds after which the wait gives up; the next wait never sleeps past it by more than minSeconds. */
  readonly deadlineSeconds: number;
  readonly maxSeconds?: number;
}

export function nextWaitSeconds({ elapsedSeconds, minSeconds, deadlineSeconds, maxSeconds }: PollTiming): number {
  const max = Math.max(minSeconds, maxSeconds ?? MAX_POLL_SECONDS);
  const adaptive = Math.min(Math.max((elapsedSeconds * 2) / 3, minSeconds), max);
  const untilDeadline = Math.max(deadlineSeconds - elapsedSeconds, minSeconds);
  return Math.ceil(Math.min(adaptive, untilDeadline));
}

export function elapsedSince(iso: string, now: Date): number {
  return Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
}

export interface WaitTail {
  /** ISO time the waited-for thing was requested; absent counts as now (elapsed 0). */
  readonly since: string | undefined;
  readonly now: Date;
  readonly deadlineSeconds: number;
  readonly minSeconds: number;
  /** The stage's named timeout (Kiln.Timeout with what to do), built only when the deadline has passed. */
  readonly timeoutError: () => Error;
}

/**
 * The tail every check stage shares: past the deadline, throw the stage's timeout; else the next wait of the
 * adaptive back-off.
 */
export function waitOrTimeout({ since, now, deadlineSeconds, minSeconds, timeoutError }: WaitTail): WaitStatus {
  const elapsedSeconds = elapsedSince(since ?? now.toISOString(), now);
  if (elapsedSeconds >= deadlineSeconds) throw timeoutError();
  return { done: false, waitSeconds: nextWaitSeconds({ elapsedSeconds, minSeconds, deadlineSeconds }) };
}

/** Packer `aws_polling { delay_seconds, max_attempts }`: their product replaces the default deadline. */
export function pollingDeadline(config: Pick<AmazonEbsConfig, 'aws_polling'>, defaultSeconds: number): number {
  const polling = known(config.aws_polling);
  if (polling) {
    // Decoded at plan time: numbers, or a value left for run time (a string), which cannot be used.
    const delay = polling.delay_seconds ?? 2;
    const attempts = polling.max_attempts ?? 0;
    if (typeof delay === 'number' && typeof attempts === 'number' && delay > 0 && attempts > 0) {
      return delay * attempts;
    }
  }
  return defaultSeconds;
}
