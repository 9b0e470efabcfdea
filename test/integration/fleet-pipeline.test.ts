/**
 * The fleet bound in the local emulator, with the real bundles: the stack deployed from the synthesized assembly,
 * a state machine made of the REAL slot-loop states of the deployed build state machine (harness/fleet-run.ts;
 * a Wait stands for each build's driver), run under the build state machine's role so the real AcquireSlot and
 * ReleaseSlot bundles take and give back slots in the deployed fleet table. 16 builds start at once with a cap
 * of 4: the cap is never exceeded (the table sampled while they run, and every execution's history), all 16
 * finish, every slot comes back; `kiln status` shows the holders and the waiting builds mid-run; every call of
 * the deployed roles passes the IAM replay. The 500-build figure is `npm run bench fleet` (BENCHMARKS.md).
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_ENV } from '../../aws/fleet-contract.ts';
import { bufferedIO } from '../../cli/io.ts';
import { type FleetStatus, runStatus } from '../../cli/status.ts';
import { localClientConfig } from '../../harness/clients.ts';
import { type FleetRunFigures, runFleet } from '../../harness/fleet-run.ts';
import { formatDenials, type IamGuard } from '../../harness/iam-guard.ts';
import { type KilnLocal, startKilnLocal } from '../../harness/kiln-local.ts';

// Sized for the emulator on this machine: every concurrent first invocation is a Node process of its own, and
// moto gives up on an invocation after 60 s (botocore's read timeout); 40 at once on 2 cores exceeded it (measured).
const CAP = 4;
const BUILDS = 16;

describe('fleet bound in the local emulator (real AcquireSlot/ReleaseSlot bundles, real slot-loop states)', () => {
  let kiln: KilnLocal;
  let fleetTable: string;
  let figures: FleetRunFigures;
  const statusSeen: { text?: string; json?: FleetStatus } = {};

  beforeAll(async () => {
    kiln = await startKilnLocal({
      handlerEnvOverrides: {
        [FLEET_ENV.maxConcurrentBuilds]: String(CAP),
        // Short waits so the run takes tens of seconds; no slot is held long enough to be checked (recheck):
        // the slot loop's executions are not the build state machine's, which AcquireSlot may describe.
        [FLEET_ENV.waitSeconds]: '3',
        [FLEET_ENV.recheckSeconds]: '3600',
        [FLEET_ENV.maxWaitSeconds]: '86400',
      },
    });
    fleetTable = kiln.deployment.outputs.FleetTableName ?? '';
  }, 600_000);
  afterAll(async () => {
    await kiln?.stop();
  });

  async function kilnStatus(json: boolean): Promise<string> {
    const io = bufferedIO({ env: { AWS_REGION: kiln.deployment.region }, now: () => new Date() });
    const dynamo = new DynamoDBClient(localClientConfig(kiln.aws.endpoint));
    const code = await runStatus({ table: fleetTable, json }, io, () => ({ dynamo }));
    expect([code, io.stderr()]).toEqual([0, '']);
    return io.stdout();
  }

  it(`${BUILDS} builds at once, cap ${CAP}: never more than ${CAP} hold a slot, all finish, every slot comes back`, {
    timeout: 600_000,
  }, async () => {
    expect(fleetTable).toMatch(/Fleet/);
    figures = await runFleet(kiln, fleetTable, {
      builds: BUILDS,
      buildSeconds: 4,
      timeoutMs: 540_000,
      whileWaiting: async () => {
        statusSeen.text = await kilnStatus(false);
        statusSeen.json = JSON.parse(await kilnStatus(true)) as FleetStatus;
      },
    });
    console.log(`fleet bound on the emulator: ${JSON.stringify(figures)}`);
    expect(figures.cap).toBe(CAP);
    expect([figures.succeeded, figures.failed]).toEqual([BUILDS, 0]);
    expect(figures.maxHeldSampled).toBeLessThanOrEqual(CAP);
    expect(figures.maxSlotItemsSampled).toBeLessThanOrEqual(CAP);
    expect(figures.maxHeldFromHistories).toBeLessThanOrEqual(CAP);
    // Not vacuous: the cap was reached and builds queued for it.
    expect(figures.maxHeldFromHistories).toBe(CAP);
    expect(figures.acquireCalls).toBeGreaterThan(BUILDS);
    expect(figures.heldAtEnd).toBe(0);
    expect(figures.samples).toBeGreaterThan(10);
  });

  it('kiln status showed the cap, the holders and the builds waiting while they ran', () => {
    expect(statusSeen.text).toMatch(
      new RegExp(`^Fleet: [0-${CAP}] slots? in use, cap ${CAP}; \\d+ builds? waiting for a slot`),
    );
    expect(statusSeen.text).toContain('In use:');
    const json = statusSeen.json;
    expect(json?.cap).toBe(CAP);
    expect(json?.inUse).toBeLessThanOrEqual(CAP);
    expect(json?.holders.length).toBe(json?.inUse);
    expect(json?.waiting.length).toBeGreaterThan(0);
    for (const holder of json?.holders ?? []) expect(holder.build).toMatch(/^amazon-ebs\.b\d+$/);
  });

  it('every call the deployed roles made is one their policies allow', async () => {
    const iam = kiln.aws.router.iam as IamGuard;
    const report = await iam.replay(iam.calls);
    expect(report.unmodelled).toEqual({});
    expect(report.denied, formatDenials(report.denied)).toEqual([]);
    const callers = [...new Set(iam.calls.map((c) => c.caller.display))];
    for (const id of ['AcquireSlot', 'ReleaseSlot']) {
      expect(
        callers.some((c) => c.includes(id)),
        id,
      ).toBe(true);
    }
  });
});
