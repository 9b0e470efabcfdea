/**
 * Handler wiring shared by every Lambda: middy, the Powertools logger with the Lambda context, and zod/mini
 * parsing of the event into `Kiln.InputInvalid`. A handler file is one call to `lambdaHandler`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { InputInvalidError, KilnError } from '../../core/errors.ts';
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

export function lambdaHandler<S extends z.core.$ZodType, O>(
  schema: S,
  run: (input: z.infer<S>) => Promise<O>,
): KilnHandler<O> {
  const base = async (event: unknown): Promise<O> => {
    logger.debug('input', { event: redactForLog(event) });
    return run(parseEvent(schema, event));
  };
  return middy<unknown, O>(base)
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
