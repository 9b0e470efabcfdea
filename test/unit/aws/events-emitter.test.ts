import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildStartedEvent, type KilnEvent } from '../../../aws/events-contract.ts';
import { describeFailures, emitKilnEvents } from '../../../aws/events-emitter.ts';

const eb = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1' });
const noSleep = { sleep: async () => undefined };

const started = (n: number): KilnEvent =>
  buildStartedEvent({
    buildId: `kb-${n}`,
    executionName: `e-${n}`,
    template: { bucket: 'b', key: 'templates/t.pkr.hcl' },
    registryTemplate: 't',
    trigger: 's3-upload',
    startedAt: '2026-12-02T10:00:00.000Z',
    builds: [],
  });

beforeEach(() => eb.reset());

describe('emitKilnEvents', () => {
  it('puts each event with source kiln, its detail-type and JSON detail, 10 entries per call', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
    }));
    const result = await emitKilnEvents(
      client,
      Array.from({ length: 12 }, (_, i) => started(i)),
      noSleep,
    );
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 2]);
    const first = calls[0]?.args[0].input.Entries?.[0];
    expect(first).toMatchObject({ Source: 'kiln', DetailType: 'Kiln Build Started' });
    expect(JSON.parse(first?.Detail ?? '{}')).toMatchObject({ buildId: 'kb-0', schemaVersion: 1 });
    expect(result.sent).toHaveLength(12);
    expect(result.failed).toEqual([]);
  });

  it('retries only the refused entries, then reports what is still refused without throwing', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
      })
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }] });
    const result = await emitKilnEvents(client, [started(1), started(2)], noSleep);
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(3);
    for (const c of calls.slice(1)) {
      expect(c.args[0].input.Entries?.map((e) => JSON.parse(e.Detail ?? '{}').buildId)).toEqual(['kb-2']);
    }
    expect(result.sent).toEqual([{ detailType: 'Kiln Build Started', eventId: 'a' }]);
    expect(describeFailures(result.failed)).toEqual(['Kiln Build Started: InternalFailure: try later']);
  });

  it('reports a call that keeps failing (AccessDenied) after its attempts, and waits between them', async () => {
    const denied = Object.assign(new Error('not authorized to perform events:PutEvents'), {
      name: 'AccessDeniedException',
    });
    eb.on(PutEventsCommand).rejects(denied);
    const waits: number[] = [];
    const result = await emitKilnEvents(client, [started(1)], {
      attempts: 3,
      backoffMs: 50,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(waits).toEqual([50, 100]);
    expect(result.failed).toEqual([
      {
        detailType: 'Kiln Build Started',
        code: 'AccessDeniedException',
        message: 'not authorized to perform events:PutEvents',
      },
    ]);
  });

  it('never sends a detail that does not match its schema, and says so', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'x' }] });
    const bad: KilnEvent = { detailType: 'Kiln Build Started', detail: { buildId: 'kb-1' } };
    const result = await emitKilnEvents(client, [bad], noSleep);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(result.failed[0]).toMatchObject({ detailType: 'Kiln Build Started', code: 'Kiln.InvalidDetail' });
  });
});
