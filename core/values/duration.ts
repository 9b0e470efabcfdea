/** The one Go `time.ParseDuration` (seconds) for plan fields, HCL functions and stages (`timeout = "1m30s"` → 90 seconds). */
const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds in a Go duration string, or undefined when it is not one. `"0"` is zero, as in Go. */
export function parseGoDuration(text: string): number | undefined {
  const s = text; // Go does not trim: " 5s" is not a duration
  if (s === '') return undefined;
  const sign = s.startsWith('-') ? -1 : 1;
  const body = s.replace(/^[-+]/, '');
  if (body === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < body.length) {
    part.lastIndex = index;
    const m = part.exec(body);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? ''] ?? Number.NaN);
    index = part.lastIndex;
  }
  return Number.isFinite(total) ? sign * total : undefined;
}
