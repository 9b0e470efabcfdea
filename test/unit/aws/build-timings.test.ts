import { describe, expect, it } from 'vitest';
import { formatDuration, stageTimings } from '../../../aws/build-timings.ts';

const t0 = Date.parse('2026-12-02T10:00:00.000Z');
let id = 0;
const ev = (type: string, name: string, ms: number) => ({
  id: ++id,
  type,
  timestamp: new Date(t0 + ms),
  ...(type.endsWith('Entered') ? { stateEnteredEventDetails: { name } } : { stateExitedEventDetails: { name } }),
});

describe('stageTimings', () => {
  it('sums each state over its runs, pairs interleaved Map iterations in order, and skips Choice states', () => {
    const events = [
      { id: ++id, type: 'ExecutionStarted', timestamp: new Date(t0) },
      ev('TaskStateEntered', 'PrepareBuild', 0),
      ev('TaskStateExited', 'PrepareBuild', 2_000),
      ev('ChoiceStateEntered', 'IsTemplate', 2_000),
      ev('ChoiceStateExited', 'IsTemplate', 2_000),
      // Two builds of the Map poll the same state at once.
      ev('TaskStateEntered', 'CheckCommand', 3_000),
      ev('TaskStateEntered', 'CheckCommand', 3_500),
      ev('TaskStateExited', 'CheckCommand', 4_000),
      ev('TaskStateExited', 'CheckCommand', 4_500),
      ev('WaitStateEntered', 'WaitForCommand', 4_500),
      ev('WaitStateExited', 'WaitForCommand', 14_500),
      ev('TaskStateEntered', 'Finalize', 15_000),
    ];
    expect(stageTimings(events)).toEqual([
      {
        stage: 'PrepareBuild',
        kind: 'Task',
        runs: 1,
        totalMs: 2_000,
        firstStartedAt: '2026-12-02T10:00:00.000Z',
        open: 0,
      },
      {
        stage: 'CheckCommand',
        kind: 'Task',
        runs: 2,
        totalMs: 2_000,
        firstStartedAt: '2026-12-02T10:00:03.000Z',
        open: 0,
      },
      {
        stage: 'WaitForCommand',
        kind: 'Wait',
        runs: 1,
        totalMs: 10_000,
        firstStartedAt: '2026-12-02T10:00:04.500Z',
        open: 0,
      },
      { stage: 'Finalize', kind: 'Task', runs: 1, totalMs: 0, firstStartedAt: '2026-12-02T10:00:15.000Z', open: 1 },
    ]);
  });

  it('formats durations for people', () => {
    expect([1_234, 42_000, 185_000, 3_720_000].map(formatDuration)).toEqual([
      '1.2 s',
      '42 s',
      '3 min 05 s',
      '1 h 02 min',
    ]);
  });
});
