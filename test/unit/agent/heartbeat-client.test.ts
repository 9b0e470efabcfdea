/**
 * The agent's side of the gateway: the client maps answers to typed errors (contract errors, 5xx, bodies off the
 * contract, an unreachable gateway); the heartbeater sends buffered lines in batches of at most
 * LIMITS.logLinesPerHeartbeat, keeps them when the gateway cannot be reached, and reports cancel and lost leases.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayResponseError, GatewayUnreachableError, isRetryable } from '../../../agent/errors.ts';
import { GatewayClient } from '../../../agent/gateway-client.ts';
import { Heartbeater } from '../../../agent/heartbeat.ts';
import { LIMITS } from '../../../aws/agent-gateway-contract.ts';

let server: Server;
let url: string;
let answer: { status: number; body: string } = { status: 200, body: '{}' };
const seen: { path: string; auth: string | undefined; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(body || 'null') });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/`;
});
afterAll(() => new Promise((ok) => server.close(ok)));

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('GatewayClient', () => {
  const client = () => new GatewayClient(url);

  it('posts to the contract route with the job credential and parses the answer', async () => {
    answer = { status: 200, body: JSON.stringify({ leaseExpiresAt: '2026-12-02T12:00:00.000Z', cancel: true }) };
    seen.length = 0;
    expect(await client().heartbeat('job-1', 'job-1.s', { progress: 'p' })).toEqual({
      leaseExpiresAt: '2026-12-02T12:00:00.000Z',
      cancel: true,
    });
    expect(seen).toEqual([{ path: '/prod/jobs/job-1/heartbeat', auth: 'Kiln-Job job-1.s', body: { progress: 'p' } }]);
  });

  it('turns a contract error into a GatewayResponseError with its code, final unless 5xx', async () => {
    answer = {
      status: 403,
      body: JSON.stringify({ error: { code: 'AgentRevoked', message: 'agent ag-1 was revoked' } }),
    };
    const revoked = await failure(client().deregister('ag-1.s'));
    expect(revoked).toBeInstanceOf(GatewayResponseError);
    expect(revoked).toMatchObject({
      status: 403,
      code: 'AgentRevoked',
      message: 'agent ag-1 was revoked',
      agentRefused: true,
    });
    expect(isRetryable(revoked)).toBe(false);
    answer = { status: 502, body: 'Bad Gateway' };
    const bad = await failure(client().deregister('ag-1.s'));
    expect(bad).toMatchObject({ code: 'Internal', retryable: true });
    expect(isRetryable(bad)).toBe(true);
  });

  it('refuses an answer off the contract, and says when the gateway cannot be reached', async () => {
    answer = { status: 200, body: JSON.stringify({ job: { jobId: 1 } }) };
    const off = await failure(
      client().acquire('ag-1.s', {
        capabilities: { builders: [], hypervisors: [], packerVersion: '1', os: 'linux', arch: 'amd64' },
      }),
    );
    expect(off).toMatchObject({
      code: 'BadResponse',
      message: expect.stringContaining('does not follow the agent contract'),
    });
    const down = await failure(new GatewayClient('http://127.0.0.1:1').deregister('ag-1.s'));
    expect(down).toBeInstanceOf(GatewayUnreachableError);
    expect(isRetryable(down)).toBe(true);
  });
});

describe('Heartbeater', () => {
  type Call = { jobId: string; lines: number };
  function fake(results: (() => unknown)[]) {
    const calls: Call[] = [];
    const client = {
      heartbeat: async (jobId: string, _c: string, request: { logLines?: unknown[] }) => {
        calls.push({ jobId, lines: request.logLines?.length ?? 0 });
        const next = results.shift();
        return next ? next() : { leaseExpiresAt: 'x', cancel: false };
      },
    } as unknown as GatewayClient;
    const events = { cancel: 0, lost: [] as GatewayResponseError[], warnings: [] as string[] };
    const heart = new Heartbeater(client, 'job-1', 'job-1.s', 60_000, {
      onCancel: () => events.cancel++,
      onLost: (e) => events.lost.push(e),
      onWarning: (m) => events.warnings.push(m),
    });
    return { heart, calls, events };
  }

  it('sends buffered lines in contract-sized batches and keeps them when the gateway is unreachable', async () => {
    const { heart, calls, events } = fake([
      () => {
        throw new GatewayUnreachableError('down');
      },
    ]);
    for (let i = 0; i < LIMITS.logLinesPerHeartbeat + 50; i++) heart.push(`line ${i}`);
    await heart.tick();
    expect(calls).toEqual([{ jobId: 'job-1', lines: LIMITS.logLinesPerHeartbeat }]);
    expect(events.warnings[0]).toContain('did not go through (retried)');
    await heart.tick();
    expect(calls.slice(1)).toEqual([
      { jobId: 'job-1', lines: LIMITS.logLinesPerHeartbeat },
      { jobId: 'job-1', lines: 50 },
    ]);
    await heart.tick();
    expect(calls.at(-1)).toEqual({ jobId: 'job-1', lines: 0 });
    heart.stop();
  });

  it('reports cancel, and a refused heartbeat as a lost lease (then stops)', async () => {
    const lost = new GatewayResponseError(409, 'LeaseLost', 'the lease is gone');
    const { heart, calls, events } = fake([
      () => ({ leaseExpiresAt: 'x', cancel: true }),
      () => {
        throw lost;
      },
    ]);
    await heart.tick();
    expect(events.cancel).toBe(1);
    await heart.tick();
    expect(events.lost).toEqual([lost]);
    await heart.tick();
    expect(calls).toHaveLength(2);
  });
});
