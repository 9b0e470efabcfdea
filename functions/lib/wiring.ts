/**
 * Handler wiring shared by every Lambda: middy, the Powertools logger with the Lambda context, and zod/mini
 * parsing of the event into `Kiln.InputInvalid`. A handler file is one call to `lambdaHandler`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { InputInvalidError, KilnError, TransientError } from '../../core/errors.ts';
import { redactForLog } from '../../core/template/sensitive.ts';
import './zod-messages.ts';
import * as z from 'zod/mini';

export const logger = new Logger({ serviceName: 'kiln' });

export function parseEvent<S extends z.core.$ZodType>(schema: S, event: unknown): z.infer<S> {
  // The standalone safeParse takes any zod 4 schema, mini or classic.
  const parsed = z.safeParse(schema, event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    throw new InputInvalidError(`The function input is not valid: ${issues}`);
  }
  return parsed.data;
}

export type KilnHandler<O> = (event: unknown, context: Context) => Promise<O>;

export interface HandlerOptions {
  /**
   * The handler may run again with the same input and do nothing twice (the fleet's AcquireSlot and ReleaseSlot):
   * running out of time then fails with Kiln.Transient, which the ASL retries, a second before Lambda would end
   * it with an error no Retry names (its dependencies were slow, as when hundreds of builds start at once).
   */
  readonly idempotent?: boolean;
}

/** How long before the function's timeout an idempotent handler gives up with Kiln.Transient. */
export const IDEMPOTENT_TIMEOUT_MARGIN_MS = 1000;

export function lambdaHandler<S extends z.core.$ZodType, O>(
  schema: S,
  run: (input: z.infer<S>) => Promise<O>,
  options: HandlerOptions = {},
): KilnHandler<O> {
  const base = async (event: unknown): Promise<O> => {
    logger.debug('input', { event: redactForLog(event) });
    return run(parseEvent(schema, event));
  };
  const timeout = options.idempotent
    ? {
        timeoutEarlyInMillis: IDEMPOTENT_TIMEOUT_MARGIN_MS,
        timeoutEarlyResponse: () => {
          throw new TransientError(
            'The function ran out of time waiting for its dependencies; it is safe to run again, and the state machine retries it',
          );
        },
      }
    : {};
  return middy<unknown, O>(base, timeout)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      // Messages of Kiln errors are written to be shown (secrets already redacted); log them once with the
      // name Step Functions will match, so a failed state can be found in the logs by its error name.
      onError: async (request) => {
        const err = request.error;
        if (err instanceof KilnError) logger.error('stage failed', { errorName: err.name, errorMessage: err.message });
        else logger.error('unexpected failure', { error: err instanceof Error ? err.message : String(err) });
      },
    }) as unknown as KilnHandler<O>;
}
