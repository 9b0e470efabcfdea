/**
 * Every registry entry has a handler module the Lambda router and CDK can load; handlers read their
 * environment at cold start and reject malformed events with Kiln.InputInvalid before any AWS call.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KILN_ENV, KILN_FUNCTIONS } from '../../../functions/registry.ts';

const ENV: Record<string, string> = {
  [KILN_ENV.artifactsBucket]: 'kiln-artifacts',
  [KILN_ENV.buildsTable]: 'kiln-builds',
  [KILN_ENV.registryTable]: 'kiln-registry',
  [KILN_ENV.templateBucket]: 'kiln-templates',
  [KILN_ENV.builderInstanceProfile]: 'kiln-builder',
  [KILN_ENV.builderSecurityGroup]: 'sg-1',
  [KILN_ENV.subnetIds]: 'subnet-1',
  [KILN_ENV.provisionLogGroup]: '/kiln/provision',
  [KILN_ENV.accountId]: '123456789012',
  [KILN_ENV.agentTable]: 'kiln-agents',
  [KILN_ENV.fleetTable]: 'kiln-fleet',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
};

const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 30_000 } as never;

describe('handlers', () => {
  beforeEach(() => {
    vi.resetModules();
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  });
  afterEach(() => vi.unstubAllEnvs());

  const load = async (dir: string) => {
    expect(existsSync(new URL(`../../../functions/${dir}/handler.ts`, import.meta.url))).toBe(true);
    // The path is data (the registry's), so Vite's one-level glob rewrite must not apply.
    return (await import(/* @vite-ignore */ new URL(`../../../functions/${dir}/handler.ts`, import.meta.url).href)) as {
      handler: (e: unknown, c: unknown) => Promise<unknown>;
    };
  };

  it.each(KILN_FUNCTIONS.filter((f) => f.trigger.kind !== 'api-route').map((f) => [f.id, f.dir] as const))(
    '%s: functions/%s/handler.ts rejects a malformed event with Kiln.InputInvalid',
    async (_id, dir) => {
      const mod = await load(dir);
      await expect(mod.handler({ nonsense: true }, context)).rejects.toMatchObject({ name: 'Kiln.InputInvalid' });
    },
  );

  // API routes answer a bad request as API Gateway's caller sees it: a 4xx with the contract's error body, before
  // any AWS call (no credentials: a call would fail with a 500 instead).
  it.each(KILN_FUNCTIONS.filter((f) => f.trigger.kind === 'api-route').map((f) => [f.id, f.dir] as const))(
    '%s: functions/%s/handler.ts answers a malformed request with 400 or 401, never a call',
    async (_id, dir) => {
      const mod = await load(dir);
      const out = (await mod.handler({ body: '{"nonsense": true', headers: {} }, context)) as {
        statusCode: number;
        body: string;
      };
      expect(out.statusCode).toBe(400);
      expect(JSON.parse(out.body)).toMatchObject({ error: { code: 'InvalidRequest' } });
      const unauthenticated = (await mod.handler({ body: '{}', headers: {} }, context)) as { statusCode: number };
      expect([400, 401]).toContain(unauthenticated.statusCode);
    },
  );

  it('fails at cold start when a required variable is missing', async () => {
    vi.stubEnv(KILN_ENV.artifactsBucket, '');
    await expect(import('../../../functions/ec2-ami/create-image/handler.ts')).rejects.toThrow(
      `Environment variable ${KILN_ENV.artifactsBucket} is required`,
    );
  });

  it('declares in the registry every variable its handler requires', () => {
    const launch = KILN_FUNCTIONS.find((f) => f.id === 'LaunchBuilder');
    expect(launch?.env).toEqual(
      expect.arrayContaining(['artifactsBucket', 'builderInstanceProfile', 'builderSecurityGroup', 'subnetIds']),
    );
    expect(KILN_FUNCTIONS.find((f) => f.id === 'Finalize')?.env).toEqual(
      expect.arrayContaining(['artifactsBucket', 'buildsTable', 'registryTable']),
    );
  });
});
