/**
 * The strict HCL syntax check: @cdktf/hcl2json (the real Go HCL parser in wasm) rejects what tree-sitter
 * accepts leniently (`a = 1 b = 2`, newlines in quoted strings, duplicate attributes) and gives HCL's own
 * messages with `file:line,col-col` ranges, which are mapped into Diagnostics here.
 */
import { parse } from '@cdktf/hcl2json';
import { type Diagnostic, error, positionAt, type SourceRange } from '../../diagnostics.ts';

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
 * The Go parser in wasm recurses per nesting level and deep input kills its runtime for the whole process
 * (measured: 3,000 nested `[` → `fatal error: malloc deadlock`, and every later call fails). Brackets are counted
 * without regard to strings, an over-estimate that real templates stay far below.
 */
export const MAX_NESTING = 200;

export function nestingTooDeep(source: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > MAX_NESTING) return i;
    } else if (c === 41 || c === 93 || c === 125) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

export async function strictSyntaxCheck(source: string, file: string): Promise<Diagnostic[]> {
  const deep = nestingTooDeep(source);
  if (deep !== undefined) {
    const at = positionAt(source, deep);
    return [
      error('Nesting too deep', `More than ${MAX_NESTING} nested brackets, braces or parentheses.`, {
        file,
        start: at,
        end: at,
      }),
    ];
  }
  try {
    await parse(MARK, source);
    return [];
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return parseGateMessage(message, file);
  }
}
