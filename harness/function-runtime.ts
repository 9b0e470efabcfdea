/**
 * The inside of a local Lambda execution environment: one Node process per warm environment, started by
 * function-process.ts. It imports the handler module named by `KILN_HANDLER_MODULE` once (the cold start) and
 * then serves invocations sent over the IPC channel, one at a time, as the Lambda runtime does. It knows
 * nothing of how the module was produced (an esbuild bundle, or a fixture's TypeScript through tsx): it imports a
 * module and calls its `handler` export. Node runs this file itself (type stripping), so a bundle's process has
 * no loader a deployed function would not have.
 */
import type { Context } from 'aws-lambda';
import type { RuntimeInit, RuntimeReply, RuntimeRequest } from './function-protocol.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const moduleUrl = process.env.KILN_HANDLER_MODULE;
const loaded: Promise<Handler> = (async () => {
  if (!moduleUrl) throw new Error('KILN_HANDLER_MODULE is not set');
  const module = (await import(moduleUrl)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new Error(`${moduleUrl} does not export a handler function`);
  return module.handler as Handler;
})();
loaded.then(
  () => process.send?.({ init: 'ready' } satisfies RuntimeInit),
  (error: unknown) =>
    process.send?.({
      init: 'failed',
      errorType: 'Runtime.ImportModuleError',
      errorMessage: error instanceof Error ? error.message : String(error),
    } satisfies RuntimeInit),
);

// The harness that started this environment is gone (or let it go): an execution environment never outlives it.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: RuntimeRequest) => {
  void serve(message);
});

async function serve(request: RuntimeRequest): Promise<void> {
  let reply: RuntimeReply;
  try {
    const handler = await loaded;
    const result = await handler(request.event, contextFor(request));
    reply = { id: request.id, ok: true, result: result === undefined ? null : result };
  } catch (error) {
    const errorType = error instanceof Error ? error.name || 'Error' : 'Error';
    const errorMessage = error instanceof Error ? error.message : String(error);
    reply = { id: request.id, ok: false, errorType, errorMessage };
  }
  process.send?.(reply);
}

function contextFor(request: RuntimeRequest): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: request.context.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: request.context.invokedFunctionArn,
    memoryLimitInMB: String(request.context.memoryMb),
    awsRequestId: request.context.requestId,
    logGroupName: `/aws/lambda/${request.context.functionName}`,
    logStreamName: `local/${request.context.requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, request.context.deadlineMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
