/**
 * Per-stage timings of a build, derived from its Step Functions execution history (GetExecutionHistory): the
 * builds table does not store them, because the history already holds every state's entry and exit with its time
 * (kept 90 days by Step Functions), and a stage writing its own timing would cost a write per state. Pure: takes
 * the history events (the SDK's HistoryEvent shape, only the fields read here).
 */

export interface HistoryEventLike {
  readonly id?: number;
  readonly type?: string;
  readonly timestamp?: Date;
  readonly stateEnteredEventDetails?: { readonly name?: string };
  readonly stateExitedEventDetails?: { readonly name?: string };
}

export interface StageTiming {
  /** The state's name (PrepareBuild, LaunchBuilder, CheckCommand, WaitForCommand, Finalize, ...). */
  readonly stage: string;
  /** `Task`, `Wait`, `Choice`, `Map`, ...: from the event type (TaskStateEntered → Task). */
  readonly kind: string;
  /** Times it ran (a poll loop or several builds of the Map run a state many times). */
  readonly runs: number;
  /** Sum of its runs' durations, in milliseconds (runs of parallel builds overlap: this is work, not wall time). */
  readonly totalMs: number;
  /** When it first started (ISO 8601). */
  readonly firstStartedAt: string;
  /** Runs entered and never exited (the execution is still in it, or ended in it). */
  readonly open: number;
}

/** State kinds left out: a Choice or Pass takes no time worth showing, a Map's span is the builds' total. */
const SKIPPED_KINDS = new Set(['Choice', 'Pass', 'Succeed', 'Fail']);

/**
 * Timings per state name, in the order each first started. An exit pairs with the latest unpaired entry of the
 * same name (the Map interleaves builds: states of one name may be open several times at once, in which case the
 * pairing is by order, which keeps the sum exact).
 */
export function stageTimings(events: readonly HistoryEventLike[]): StageTiming[] {
  const open = new Map<string, number[]>();
  const stats = new Map<string, { kind: string; runs: number; totalMs: number; first: number }>();
  const sorted = [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  for (const e of sorted) {
    const at = e.timestamp?.getTime();
    if (at === undefined || !e.type) continue;
    const entered = /^(\w+?)StateEntered$/.exec(e.type);
    const exited = /^(\w+?)StateExited$/.exec(e.type);
    if (entered?.[1] && e.stateEnteredEventDetails?.name) {
      const kind = entered[1];
      if (SKIPPED_KINDS.has(kind)) continue;
      const name = e.stateEnteredEventDetails.name;
      open.set(name, [...(open.get(name) ?? []), at]);
      const s = stats.get(name) ?? { kind, runs: 0, totalMs: 0, first: at };
      stats.set(name, { ...s, runs: s.runs + 1, first: Math.min(s.first, at) });
    } else if (exited?.[1] && e.stateExitedEventDetails?.name) {
      const name = e.stateExitedEventDetails.name;
      const starts = open.get(name);
      const start = starts?.shift();
      const s = stats.get(name);
      if (start === undefined || !s) continue;
      stats.set(name, { ...s, totalMs: s.totalMs + (at - start) });
    }
  }
  return [...stats.entries()]
    .sort((a, b) => a[1].first - b[1].first)
    .map(([stage, s]) => ({
      stage,
      kind: s.kind,
      runs: s.runs,
      totalMs: s.totalMs,
      firstStartedAt: new Date(s.first).toISOString(),
      open: open.get(stage)?.length ?? 0,
    }));
}

/** `1.2 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
