/**
 * Diagnostics in Packer's shape: every parse, evaluation and validation problem is collected as data,
 * never thrown, so one pass reports all of them (errors and warnings apart).
 */

/** Characters of source shown around a diagnostic's caret (limits.ts `maxSnippetChars` defaults to it). */
export const DEFAULT_SNIPPET_CHARS = 160;

/** 1-based line and column; columns count UTF-16 code units like JS string indices. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface SourceRange {
  readonly file: string;
  readonly start: Position;
  readonly end: Position;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly summary: string;
  readonly detail?: string;
  readonly range?: SourceRange;
}

export function error(summary: string, detail?: string, range?: SourceRange): Diagnostic {
  return { severity: 'error', summary, ...(detail ? { detail } : {}), ...(range ? { range } : {}) };
}

export function warning(summary: string, detail?: string, range?: SourceRange): Diagnostic {
  return { severity: 'warning', summary, ...(detail ? { detail } : {}), ...(range ? { range } : {}) };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Converts a 0-based string offset in `text` into a 1-based position. */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

export interface FormatOptions {
  /** Source text per file name, used to print the offending line with a caret. */
  readonly sources?: ReadonlyMap<string, string>;
  readonly color?: boolean;
  /** Longest source excerpt printed under a diagnostic; longer lines show a window around the column. */
  readonly maxSnippetChars?: number;
}

/** Line `line` (1-based) of `source`, found without splitting the whole text (sources can be megabytes). */
function lineOf(source: string, line: number): string | undefined {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = source.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = source.indexOf('\n', start);
  return source.slice(start, end < 0 ? source.length : end).replace(/\r$/, '');
}

/**
 * The excerpt of `text` to print and where the caret goes in it: the whole line when short, otherwise a window
 * of `max` characters around `column` with `…` marking what was cut, so a one-line template of megabytes
 * cannot make every diagnostic reprint it.
 */
export function snippetWindow(text: string, column: number, max: number): { text: string; caret: number } {
  if (text.length <= max) return { text, caret: column };
  const col = Math.max(1, Math.min(column, text.length + 1));
  const from = Math.max(0, Math.min(col - 1 - Math.floor(max / 2), text.length - max));
  const to = Math.min(text.length, from + max);
  const head = from > 0 ? '…' : '';
  return { text: `${head}${text.slice(from, to)}${to < text.length ? '…' : ''}`, caret: col - from + head.length };
}

const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/**
 * Prints one diagnostic the way Packer does:
 *
 *     Error: Unsupported attribute
 *
 *       on build.pkr.hcl line 12, column 18:
 *       12:   ami_name = var.x
 *                        ^
 *
 *     <detail>
 */
export function formatDiagnostic(d: Diagnostic, options: FormatOptions = {}): string {
  const paint = (code: string, s: string) => (options.color ? `${code}${s}${RESET}` : s);
  const label = d.severity === 'error' ? paint(RED + BOLD, 'Error:') : paint(YELLOW + BOLD, 'Warning:');
  const lines = [`${label} ${paint(BOLD, d.summary)}`];
  if (d.range) {
    const { file, start } = d.range;
    lines.push('', `  on ${file} line ${start.line}, column ${start.column}:`);
    const source = options.sources?.get(file);
    const text = source === undefined ? undefined : lineOf(source, start.line);
    if (text !== undefined) {
      const gutter = `  ${start.line}: `;
      const shown = snippetWindow(text, start.column, options.maxSnippetChars ?? DEFAULT_SNIPPET_CHARS);
      lines.push(`${gutter}${shown.text}`);
      lines.push(`${' '.repeat(gutter.length + shown.caret - 1)}^`);
    }
  }
  if (d.detail) lines.push('', d.detail);
  return `${lines.join('\n')}\n`;
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[], options: FormatOptions = {}): string {
  return diagnostics.map((d) => formatDiagnostic(d, options)).join('\n');
}

/** Packer-style one-liner for logs and machine output: `file:line:col: summary`. */
export function diagnosticOneLine(d: Diagnostic): string {
  const where = d.range ? `${d.range.file}:${d.range.start.line}:${d.range.start.column}: ` : '';
  return `${where}${d.summary}${d.detail ? `: ${d.detail}` : ''}`;
}
