/**
 * Child-process probe for test/security/limits.test.ts and bench/limits-figures.ts: loads each template given on the command
 * line in this one process (so a poisoned engine would show on the next template) and prints one JSON line per
 * template with the outcome, the time taken and the peak RSS so far. `KILN_PROBE_LIMITS` holds limit overrides.
 */
import { formatDiagnostics } from '../../core/template/diagnostics.ts';
import type { TemplateLimits } from '../../core/template/limits.ts';
import { loadTemplate } from '../../core/validation/load.ts';

const limits = JSON.parse(process.env.KILN_PROBE_LIMITS ?? '{}') as Partial<TemplateLimits>;
let peak = process.memoryUsage().rss;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const timer = setInterval(sample, 5);
for (const path of process.argv.slice(2)) {
  const t0 = performance.now();
  const r = await loadTemplate(path, { cwd: process.cwd(), limits });
  const text = formatDiagnostics(r.diagnostics, { sources: r.sources });
  sample();
  const line = {
    path,
    ms: Math.round(performance.now() - t0),
    ok: r.template !== undefined && !r.diagnostics.some((d) => d.severity === 'error'),
    diagnostics: r.diagnostics.length,
    textChars: text.length,
    summaries: [...new Set(r.diagnostics.map((d) => d.summary))].slice(0, 3),
    detail: r.diagnostics[0]?.detail?.slice(0, 300) ?? '',
    line: r.diagnostics[0]?.range?.start.line,
    peakMb: Math.round(peak / 1e6),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
clearInterval(timer);
