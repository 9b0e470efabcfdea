/**
 * functions/lib/wiring.ts: an idempotent handler (AcquireSlot, ReleaseSlot) that runs out of time fails with
 * Kiln.Transient, which the build state machine retries; any other handler keeps middy's own timeout error.
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { IDEMPOTENT_TIMEOUT_MARGIN_MS, lambdaHandler } from '../../../functions/lib/wiring.ts';

const contextWith = (remainingMs: number): Context => {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'ReleaseSlot',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
};
const never = () => new Promise<never>(() => undefined);
const failure = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe('lambdaHandler timeouts', () => {
  it('fails an idempotent handler that runs out of time with Kiln.Transient, before Lambda would end it', async () => {
    const handler = lambdaHandler(z.object({}), never, { idempotent: true });
    const started = Date.now();
    const error = await failure(handler({}, contextWith(IDEMPOTENT_TIMEOUT_MARGIN_MS + 150)));
    expect(error?.name).toBe('Kiln.Transient');
    expect(error?.message).toMatch(/ran out of time.*retries it/);
    expect(Date.now() - started).toBeLessThan(IDEMPOTENT_TIMEOUT_MARGIN_MS);
  });

  it("leaves other handlers to middy's timeout (an error no Retry names)", async () => {
    const handler = lambdaHandler(z.object({}), never);
    const error = await failure(handler({}, contextWith(60)));
    expect(error?.name).toBe('TimeoutError');
  });

  it('answers normally when the work finishes in time', async () => {
    const handler = lambdaHandler(z.object({ n: z.number() }), async ({ n }) => n * 2, { idempotent: true });
    await expect(handler({ n: 21 }, contextWith(5000))).resolves.toBe(42);
  });
});
