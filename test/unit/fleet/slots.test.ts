/** The fleet bound's pure policy (core/fleet/slots.ts) and its reading from the environment (aws/fleet-contract.ts). */
import { describe, expect, it } from 'vitest';
import { FLEET_ENV, fleetPolicyFromEnv } from '../../../aws/fleet-contract.ts';
import {
  DEFAULT_FLEET_POLICY,
  dueForCheck,
  executionEnded,
  fleetPolicyProblems,
  holderKey,
  nextWaitSeconds,
  stillWaiting,
  waitedTooLong,
  waitTimedOutMessage,
} from '../../../core/fleet/slots.ts';

const NOW = new Date('2026-12-02T12:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const holder = { executionArn: 'arn:aws:states:us-east-1:1:execution:build:x', build: 'amazon-ebs.a#1' };

describe('fleet policy', () => {
  it('keys a holder by execution then build, so a retry of the same build is the same holder', () => {
    expect(holderKey(holder)).toBe('arn:aws:states:us-east-1:1:execution:build:x#amazon-ebs.a#1');
    expect(holderKey({ ...holder, build: 'amazon-ebs.b' })).not.toBe(holderKey(holder));
  });

  it('jitters waits over [0.5, 1.5) of waitSeconds, never below 1 s', () => {
    const policy = { ...DEFAULT_FLEET_POLICY, waitSeconds: 60 };
    expect([0, 0.5, 0.999].map((r) => nextWaitSeconds(policy, () => r))).toEqual([30, 60, 90]);
    expect(nextWaitSeconds({ ...policy, waitSeconds: 1 }, () => 0)).toBe(1);
  });

  it('checks a held slot once recheckSeconds passed since it was taken or last checked', () => {
    const policy = { ...DEFAULT_FLEET_POLICY, recheckSeconds: 120 };
    const slot = { ...holder, acquiredAt: ago(119) };
    expect(dueForCheck(slot, NOW, policy)).toBe(false);
    expect(dueForCheck({ ...slot, acquiredAt: ago(120) }, NOW, policy)).toBe(true);
    expect(dueForCheck({ ...slot, acquiredAt: ago(9999), checkedAt: ago(30) }, NOW, policy)).toBe(false);
  });

  it('counts every status but RUNNING as ended, a missing execution too', () => {
    expect(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'].map(executionEnded)).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(executionEnded(undefined)).toBe(true);
  });

  it('gives up after maxWaitSeconds and says what to change', () => {
    const policy = { ...DEFAULT_FLEET_POLICY, maxWaitSeconds: 3600 };
    expect(waitedTooLong(ago(3599), NOW, policy)).toBe(false);
    expect(waitedTooLong(ago(3600), NOW, policy)).toBe(true);
    expect(waitTimedOutMessage(holder, ago(3600), policy)).toMatch(
      /^Build amazon-ebs\.a#1 waited since .* \(more than 3600 s\) for one of the 20 fleet slots.*Raise fleet\.maxConcurrentBuilds or fleet\.maxWaitSeconds/,
    );
  });

  it('stops counting a waiter that has not asked for three of its waits', () => {
    const waiter = { ...holder, since: ago(600), lastSeenAt: ago(100), waitSeconds: 40 };
    expect(stillWaiting(waiter, NOW)).toBe(true);
    expect(stillWaiting({ ...waiter, lastSeenAt: ago(121) }, NOW)).toBe(false);
  });

  it('names every setting out of bounds', () => {
    expect(fleetPolicyProblems(DEFAULT_FLEET_POLICY)).toEqual([]);
    expect(
      fleetPolicyProblems({ ...DEFAULT_FLEET_POLICY, maxConcurrentBuilds: 0, waitSeconds: 2.5, maxWaitSeconds: 10 }),
    ).toEqual([
      'fleet.maxConcurrentBuilds must be a whole number from 1 to 10000 (got 0)',
      'fleet.waitSeconds must be a whole number from 1 to 3600 (got 2.5)',
      'fleet.maxWaitSeconds must be a whole number from 60 to 2592000 (got 10)',
    ]);
  });

  it('reads the policy the stack set from the environment, defaults for what is absent', () => {
    expect(fleetPolicyFromEnv({})).toEqual(DEFAULT_FLEET_POLICY);
    expect(fleetPolicyFromEnv({ [FLEET_ENV.maxConcurrentBuilds]: '5', [FLEET_ENV.waitSeconds]: '' })).toEqual({
      ...DEFAULT_FLEET_POLICY,
      maxConcurrentBuilds: 5,
    });
    expect(fleetPolicyProblems(fleetPolicyFromEnv({ [FLEET_ENV.maxConcurrentBuilds]: 'many' }))).toEqual([
      'fleet.maxConcurrentBuilds must be a whole number from 1 to 10000 (got NaN)',
    ]);
  });
});
