/** Messages between the router (function-process.ts) and a local execution environment (function-runtime.ts). */
export interface RuntimeRequest {
  readonly id: string;
  readonly event: unknown;
  readonly context: {
    readonly requestId: string;
    readonly functionName: string;
    readonly invokedFunctionArn: string;
    readonly memoryMb: number;
    /** Epoch milliseconds. */
    readonly deadlineMs: number;
  };
}

export type RuntimeReply =
  | { readonly id: string; readonly ok: true; readonly result: unknown }
  | { readonly id: string; readonly ok: false; readonly errorType: string; readonly errorMessage: string };

/** Sent once by the runtime when the handler module is imported (the end of Lambda's init phase), or failed. */
export type RuntimeInit =
  | { readonly init: 'ready' }
  | { readonly init: 'failed'; readonly errorType: string; readonly errorMessage: string };
