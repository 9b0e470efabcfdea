/**
 * A bundle run by the harness as Lambda runs it: LambdaInvoker with `bundles` code, on a hand-made assembly
 * laid out like the harness's synthesized one (asset folders + the runtime's AWS SDK beside them, outside the
 * repository). No moto: the deployed function and its role credentials are stubbed. Checks the process gets
 * no loader, source maps, the memory as its heap limit, the task folder as cwd, only the SDK to resolve, and
 * that the timeout kills it; and that a function without a bundle fails loudly.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { FunctionSpec } from '../../functions/registry.ts';
import { type DeployedFunction, type InvokeResult, LambdaInvoker } from '../../harness/lambda-invoker.ts';
import { provideRuntimeSdk } from '../../harness/lambda-sandbox.ts';

const HANDLER = `import v8 from 'node:v8';
export const handler = async (event, context) => {
  if (event.mode === 'hang') return new Promise(() => setInterval(() => undefined, 1000));
  if (event.mode === 'import') {
    try {
      await import(event.specifier);
      return { imported: true };
    } catch (error) {
      return { imported: false, code: error.code };
    }
  }
  return {
    pid: process.pid,
    cwd: process.cwd(),
    execArgv: process.execArgv,
    sourceMaps: process.sourceMapsEnabled,
    heapMb: v8.getHeapStatistics().heap_size_limit / 1048576,
    functionName: context.functionName,
    memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    custom: process.env.CUSTOM,
    accessKey: process.env.AWS_ACCESS_KEY_ID,
  };
};
`;

const spec = (id: string): FunctionSpec => ({
  id,
  dir: id.toLowerCase(),
  description: `bundle fixture ${id}`,
  env: [],
  permissions: [],
  timeoutSeconds: 2,
  memoryMb: 256,
  trigger: { kind: 'task', stateMachine: 'build' },
});

const root = mkdtempSync(join(tmpdir(), 'kiln-bundle-env-'));
const asset = join(root, 'asset.echo');
mkdirSync(asset);
writeFileSync(join(asset, 'index.mjs'), HANDLER);
provideRuntimeSdk(root);

const deployed = (id: string, timeoutSeconds: number, name = `kiln-${id.toLowerCase()}`): DeployedFunction => ({
  name,
  arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  region: 'us-east-1',
  timeoutSeconds,
  memoryMb: 256,
  environment: { KILN_FUNCTION_ID: id, CUSTOM: 'from-the-template' },
  roleArn: 'arn:aws:iam::123456789012:role/kiln-echo',
});
const FUNCTIONS: Record<string, DeployedFunction> = {
  // Generous: importing an SDK client takes seconds on a loaded two-core machine.
  'kiln-echo': deployed('Echo', 30),
  // The same bundle deployed with a short timeout.
  'kiln-hang': deployed('Echo', 2, 'kiln-hang'),
  'kiln-missing': deployed('Missing', 2),
};

const invoker = new LambdaInvoker({
  lookup: async (name) => FUNCTIONS[name],
  functions: [spec('Echo'), spec('Missing')],
  code: { kind: 'bundles', assets: new Map([['Echo', asset]]) },
  credentialsFor: async () => ({
    accessKeyId: 'AKIAROLE',
    secretAccessKey: 'secret',
    expiration: new Date(Date.now() + 3_600_000),
  }),
});

afterAll(async () => {
  await invoker.reset();
  rmSync(root, { recursive: true, force: true });
});

const call = async (name: string, event: object): Promise<InvokeResult & { json: Record<string, unknown> }> => {
  const result = await invoker.invoke(name, 'us-east-1', JSON.stringify(event), 'RequestResponse');
  return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
};

describe('a bundle in its local execution environment', () => {
  it('runs with no loader, source maps on, the memory as heap limit, the task folder as cwd', async () => {
    const { status, headers, json } = await call('kiln-echo', {});
    expect(status).toBe(200);
    expect(headers['X-Amz-Function-Error']).toBeUndefined();
    expect(json).toMatchObject({
      cwd: asset,
      execArgv: ['--enable-source-maps', '--max-old-space-size=256'],
      sourceMaps: true,
      functionName: 'kiln-echo',
      memory: '256',
      custom: 'from-the-template',
      accessKey: 'AKIAROLE',
    });
    // V8 adds the young generation to the old-space limit.
    expect(json.heapMb).toBeGreaterThanOrEqual(256);
    expect(json.heapMb).toBeLessThan(320);
    expect(invoker.invocations.at(-1)).toMatchObject({ functionId: 'Echo', code: 'bundles' });
  }, 60_000);

  it.each([
    ['the AWS SDK the runtime provides', '@aws-sdk/client-sts', { imported: true }],
    ['a package only the repository has (zod)', 'zod', { imported: false, code: 'ERR_MODULE_NOT_FOUND' }],
    ['a dev tool of the repository (tsx)', 'tsx', { imported: false, code: 'ERR_MODULE_NOT_FOUND' }],
  ])(
    'resolves %s as Lambda would',
    async (_name, specifier, expected) => {
      const { json } = await call('kiln-echo', { mode: 'import', specifier });
      expect(json).toEqual(expected);
    },
    60_000,
  );

  it('kills the process when the timeout from the template passes; the next invocation is a cold start', async () => {
    const before = (await call('kiln-hang', {})).json.pid as number;
    const hang = await call('kiln-hang', { mode: 'hang' });
    expect(hang.headers['X-Amz-Function-Error']).toBe('Unhandled');
    expect(hang.json).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 2.00 seconds',
    });
    // SIGKILL was sent; the process is gone once reaped.
    await vi.waitFor(() => expect(() => process.kill(before, 0)).toThrow(), { timeout: 5_000 });
    const after = await call('kiln-hang', {});
    expect(after.json.pid).not.toBe(before);
    expect(invoker.invocations.at(-1)).toMatchObject({ coldStart: true, code: 'bundles' });
  }, 60_000);

  it('throttles past its concurrency limit, per function, as Lambda does (429 TooManyRequestsException)', async () => {
    const limited = new LambdaInvoker({
      lookup: async (name) => FUNCTIONS[name],
      functions: [spec('Echo')],
      code: { kind: 'bundles', assets: new Map([['Echo', asset]]) },
      credentialsFor: async () => ({
        accessKeyId: 'AKIAROLE',
        secretAccessKey: 's',
        expiration: new Date(Date.now() + 3_600_000),
      }),
      concurrencyLimit: 1,
    });
    try {
      const hanging = limited.invoke('kiln-hang', 'us-east-1', '{"mode":"hang"}', 'RequestResponse');
      const refused = await limited.invoke('kiln-hang', 'us-east-1', '{}', 'RequestResponse');
      expect(refused.status).toBe(429);
      expect(refused.headers['X-Amzn-ErrorType']).toBe('TooManyRequestsException');
      expect(refused.body).toContain('its concurrency limit is 1');
      // Another function has its own limit; and once the first invocation ends, the function takes one again.
      expect((await limited.invoke('kiln-echo', 'us-east-1', '{}', 'RequestResponse')).status).toBe(200);
      expect((await hanging).headers['X-Amz-Function-Error']).toBe('Unhandled');
      expect((await limited.invoke('kiln-hang', 'us-east-1', '{}', 'RequestResponse')).status).toBe(200);
      expect(limited.throttled).toBe(1);
    } finally {
      await limited.reset();
    }
  }, 60_000);

  it('fails loudly when the assembly has no bundle for a deployed function (no fallback to sources)', async () => {
    const { headers, json } = await call('kiln-missing', {});
    expect(headers['X-Amz-Function-Error']).toBe('Unhandled');
    expect(json.errorType).toBe('Runtime.Unknown');
    expect(json.errorMessage).toMatch(
      /Missing: the synthesized assembly has no bundle for this function \(bundled: Echo\)/,
    );
    expect(invoker.invocations.at(-1)).not.toHaveProperty('code');
  });
});
