/** The `kiln agents` parsing and display helpers (the commands themselves: test/integration/agent-cli.test.ts). */
import { describe, expect, it } from 'vitest';
import { parseDuration, parseLabels, relativeTime, tokenState } from '../../../cli/agents.ts';

const NOW = new Date('2026-12-02T12:00:00.000Z');

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days', () => {
    expect(['90', '90s', '30m', '1h', '7d', ' 2h '].map(parseDuration)).toEqual([90, 90, 1800, 3600, 604_800, 7200]);
  });
  it('refuses anything else with the forms it takes', () => {
    for (const bad of ['', 'h', '1.5h', '1w', '-1h', 'soon']) {
      expect(() => parseDuration(bad)).toThrow(/not a duration: use seconds or a number with s, m, h or d/);
    }
  });
});

describe('parseLabels', () => {
  it('splits, trims, deduplicates and sorts', () => {
    expect(parseLabels(['ssd, lab', 'lab', ''])).toEqual(['lab', 'ssd']);
    expect(parseLabels([])).toEqual([]);
  });
  it('refuses a label the gateway would refuse', () => {
    expect(() => parseLabels(['has space'])).toThrow(/--labels has space: a label is 1-64 of/);
    expect(() => parseLabels(['-lead'])).toThrow(/a label is/);
  });
});

describe('relativeTime', () => {
  it('says how long ago, or in how long, in the largest whole unit', () => {
    const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
    expect([0, 59, 60, 3599, 3600, 86_399, 86_400, 200_000].map((s) => relativeTime(ago(s), NOW))).toEqual([
      '0s ago',
      '59s ago',
      '1m ago',
      '59m ago',
      '1h ago',
      '23h ago',
      '1d ago',
      '2d ago',
    ]);
    expect(relativeTime(ago(-3600), NOW)).toBe('in 1h');
    expect(relativeTime(undefined, NOW)).toBe('never');
  });
});

describe('tokenState', () => {
  const token = {
    tokenId: 'rt-1',
    labels: [],
    createdAt: '2026-12-02T11:00:00.000Z',
    expiresAt: '2026-12-02T13:00:00.000Z',
  };
  it('is used, revoked, expired or unused, in that order', () => {
    expect(tokenState(token, NOW)).toBe('unused');
    expect(tokenState({ ...token, expiresAt: NOW.toISOString() }, NOW)).toBe('expired');
    expect(tokenState({ ...token, revokedAt: '2026-12-02T11:30:00.000Z' }, NOW)).toBe('revoked');
    expect(tokenState({ ...token, usedAt: '2026-12-02T11:10:00.000Z', revokedAt: 'x' }, NOW)).toBe('used');
  });
});
