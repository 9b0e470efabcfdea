/**
 * The strict HCL syntax check: @cdktf/hcl2json (the real Go HCL parser in wasm) rejects what tree-sitter
 * accepts leniently (`a = 1 b = 2`, newlines in quoted strings, duplicate attributes) and gives HCL's own
 * messages with `file:line,col-col` ranges, which are mapped into Diagnostics here. It runs isolated in a worker
 * (gate-worker.ts) behind cheap pre-checks for inputs known to break it.
 */
import { type Diagnostic, error, positionAt, type SourceRange } from '../../template/diagnostics.ts';
import { currentLimits, limitDiagnostic } from '../../template/limits.ts';
import { checkInWorker } from './gate-worker.ts';

const MARK = '__kiln_hcl__';

export function parseGateMessage(message: string, file: string): Diagnostic[] {
  const body = message.replace(/^parse config: \[/, '').replace(/\]\s*$/, '');
  const chunks = body.split(new RegExp(`(?=${MARK}:\\d+,\\d+-)`)).filter((c) => c.startsWith(MARK));
  const out: Diagnostic[] = [];
  for (const chunk of chunks) {
    const m = /^__kiln_hcl__:(\d+),(\d+)-(?:(\d+),)?(\d+): ([^;]*);?\s*([\s\S]*)$/.exec(chunk.trim());
    if (!m) continue;
    const line = Number(m[1]);
    const range: SourceRange = {
      file,
      start: { line, column: Number(m[2]) },
      end: { line: m[3] ? Number(m[3]) : line, column: Number(m[4]) },
    };
    const detail = (m[6] ?? '').trim().replaceAll(MARK, file);
    out.push(error((m[5] ?? 'Syntax error').trim(), detail || undefined, range));
  }
  if (out.length === 0 && body.trim() !== '') out.push(error('Invalid HCL syntax', body.replaceAll(MARK, file)));
  return out;
}

/**
 * The Go parser in wasm recurses per nesting level and deep input kills its runtime (measured: 3,000 nested `[`
 * → `fatal error: malloc deadlock`). Brackets are counted without regard to strings, an over-estimate that real
 * templates stay far below. The limit is the engine's maxNestingDepth, so the one reported is the one applied.
 */
export function nestingTooDeep(source: string, max = currentLimits().maxNestingDepth): number | undefined {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 41 || c === 93 || c === 125) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

/** Exponents past this are refused: float64 ends at 1e308, and Go's big.Float takes seconds on 1e999999. */
export const MAX_EXPONENT_DIGITS = 4;

type Hazard =
  | { readonly kind: 'operators'; readonly index: number; readonly max: number }
  | { readonly kind: 'exponent'; readonly index: number; readonly digits: number };

/**
 * Inputs known to break the Go checker, found without parsing: a run of unary operators (`!!!!…true`, each one
 * a recursion level in Go's parser; 12,500 of them killed its runtime) and number literals with huge
 * exponents. Comments and quoted strings on one line are skipped so text like "!!!!" in a message is not mistaken for code.
 */
export function gateHazard(source: string, maxRun = currentLimits().maxNestingDepth): Hazard | undefined {
  let inString = false;
  let run = 0;
  let runStart = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 10) inString = false;
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      run = 0;
      continue;
    }
    // Comments (`#`, `//`, `/* */`) often hold rows of dashes.
    if (c === 35 || (c === 47 && source.charCodeAt(i + 1) === 47)) {
      const nl = source.indexOf('\n', i);
      i = nl < 0 ? source.length : nl - 1;
      continue;
    }
    if (c === 47 && source.charCodeAt(i + 1) === 42) {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 1;
      continue;
    }
    if (c === 33 || c === 45) {
      if (run++ === 0) runStart = i;
      if (run > maxRun) return { kind: 'operators', index: runStart, max: maxRun };
      continue;
    }
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) run = 0;
  }
  const exp = new RegExp(`[0-9.][eE][-+]?0*([0-9]{${MAX_EXPONENT_DIGITS + 1},})`, 'g');
  for (let m = exp.exec(source); m; m = exp.exec(source)) {
    const before = source.charCodeAt(m.index - 1);
    // Part of an identifier or a hex/word such as `abc1e99999`: not a number literal.
    if (/[A-Za-z_]/.test(String.fromCharCode(before))) continue;
    return { kind: 'exponent', index: m.index, digits: m[1]?.length ?? 0 };
  }
  return undefined;
}

const point = (file: string, source: string, index: number): SourceRange => {
  const at = positionAt(source, index);
  return { file, start: at, end: at };
};

export async function strictSyntaxCheck(source: string, file: string): Promise<Diagnostic[]> {
  const limits = currentLimits();
  const deep = nestingTooDeep(source, limits.maxNestingDepth);
  if (deep !== undefined) {
    const what = `More than ${limits.maxNestingDepth} nested brackets, braces or parentheses`;
    return [limitDiagnostic('maxNestingDepth', limits.maxNestingDepth, what, point(file, source, deep))];
  }
  const hazard = gateHazard(source, limits.maxNestingDepth);
  if (hazard?.kind === 'operators') {
    const what = `More than ${hazard.max} unary operators in a row (each one is a nesting level)`;
    return [limitDiagnostic('maxNestingDepth', hazard.max, what, point(file, source, hazard.index))];
  }
  if (hazard?.kind === 'exponent') {
    const detail = `The exponent has ${hazard.digits} digits; Kiln accepts exponents of up to ${MAX_EXPONENT_DIGITS} digits (float64 ends at 1e308).`;
    return [error('Number literal out of range', detail, point(file, source, hazard.index))];
  }
  const outcome = await checkInWorker(MARK, source, limits.syntaxCheckTimeoutMs);
  switch (outcome.kind) {
    case 'ok':
      return [];
    case 'syntax':
      return parseGateMessage(outcome.message, file);
    case 'timeout':
      return [
        limitDiagnostic(
          'syntaxCheckTimeoutMs',
          limits.syntaxCheckTimeoutMs,
          `The HCL syntax check of ${file} did not finish in time`,
          point(file, source, 0),
        ),
      ];
    case 'crashed':
      return [
        error(
          'HCL syntax check failed',
          `The HCL parser could not process ${file} (${outcome.message.replaceAll(MARK, file).slice(0, 300)}). Simplify the file; the checker was restarted.`,
          point(file, source, 0),
        ),
      ];
  }
}
