/**
 * Template strings as a flat token list first (text, interpolation, if/else/endif, for/endfor), because strip
 * markers (`~`) act on neighbouring text across directive boundaries; the nested parts are built afterwards.
 */
import type { Expr, TemplatePart } from './ast.ts';

interface Strip {
  readonly stripLeft: boolean;
  readonly stripRight: boolean;
}

export type TemplateToken =
  | { kind: 'text'; text: string }
  | ({ kind: 'interp'; expr: Expr } & Strip)
  | ({ kind: 'if'; cond: Expr } & Strip)
  | ({ kind: 'else' } & Strip)
  | ({ kind: 'endif' } & Strip)
  | ({ kind: 'forStart'; keyVar?: string; valueVar: string; collection: Expr } & Strip)
  | ({ kind: 'endfor' } & Strip);

function unescapeTemplateMarkers(s: string): string {
  return s.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}

export function unescapeQuoted(s: string): string {
  if (!s.includes('\\')) return unescapeTemplateMarkers(s);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i === s.length - 1) {
      out += c;
      continue;
    }
    const n = s[++i];
    switch (n) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'u':
      case 'U': {
        const len = n === 'u' ? 4 : 8;
        const hex = s.slice(i + 1, i + 1 + len);
        const code = /^[0-9a-fA-F]+$/.test(hex) ? Number.parseInt(hex, 16) : Number.NaN;
        if (hex.length === len && code <= 0x10ffff) {
          out += String.fromCodePoint(code);
          i += len;
        } else out += `\\${n}`;
        break;
      }
      default:
        out += `\\${n}`;
    }
  }
  return unescapeTemplateMarkers(out);
}

export function unescapeHeredoc(s: string): string {
  return unescapeTemplateMarkers(s);
}

/** `<<-EOF`: removes the smallest indentation shared by all non-blank lines (as HCL does). */
export function flushHeredoc(tokens: TemplateToken[]): void {
  let min = Number.POSITIVE_INFINITY;
  let atLineStart = true;
  for (const t of tokens) {
    if (t.kind !== 'text') {
      atLineStart = false;
      continue;
    }
    const lines = t.text.split('\n');
    lines.forEach((line, i) => {
      const starts = i > 0 || atLineStart;
      const last = i === lines.length - 1;
      if (starts) {
        const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
        const blank = indent === line.length && !last;
        if (!blank && !(last && indent === line.length && t === tokens[tokens.length - 1])) min = Math.min(min, indent);
      }
    });
    atLineStart = t.text.endsWith('\n');
  }
  if (!Number.isFinite(min) || min === 0) return;
  atLineStart = true;
  for (const t of tokens) {
    if (t.kind !== 'text') {
      atLineStart = false;
      continue;
    }
    const next = t.text.endsWith('\n');
    t.text = t.text
      .split('\n')
      .map((line, i) => (i > 0 || atLineStart ? line.replace(new RegExp(`^[ \\t]{0,${min}}`), '') : line))
      .join('\n');
    atLineStart = next;
  }
}

function applyStrips(tokens: TemplateToken[]): void {
  tokens.forEach((t, i) => {
    if (t.kind === 'text') return;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (t.stripLeft && prev?.kind === 'text') prev.text = prev.text.replace(/\s+$/, '');
    if (t.stripRight && next?.kind === 'text') next.text = next.text.replace(/^\s+/, '');
  });
}

/** Applies strip markers and nests if/for directives. Unbalanced directives degrade to their text. */
export function buildTemplate(tokens: TemplateToken[]): TemplatePart[] {
  applyStrips(tokens);
  let i = 0;
  const parseSeq = (stopAt: ReadonlySet<string>): TemplatePart[] => {
    const parts: TemplatePart[] = [];
    while (i < tokens.length) {
      const t = tokens[i] as TemplateToken;
      if (stopAt.has(t.kind)) return parts;
      i++;
      if (t.kind === 'text') {
        if (t.text) parts.push({ kind: 'text', text: t.text });
      } else if (t.kind === 'interp') {
        parts.push({ kind: 'interp', expr: t.expr, stripLeft: t.stripLeft, stripRight: t.stripRight });
      } else if (t.kind === 'if') {
        const whenTrue = parseSeq(new Set(['else', 'endif']));
        let whenFalse: TemplatePart[] = [];
        if (tokens[i]?.kind === 'else') {
          i++;
          whenFalse = parseSeq(new Set(['endif']));
        }
        if (tokens[i]?.kind === 'endif') i++;
        parts.push({ kind: 'if', cond: t.cond, whenTrue, whenFalse, stripLeft: t.stripLeft, stripRight: t.stripRight });
      } else if (t.kind === 'forStart') {
        const body = parseSeq(new Set(['endfor']));
        if (tokens[i]?.kind === 'endfor') i++;
        parts.push({
          kind: 'for',
          ...(t.keyVar !== undefined ? { keyVar: t.keyVar } : {}),
          valueVar: t.valueVar,
          collection: t.collection,
          body,
          stripLeft: t.stripLeft,
          stripRight: t.stripRight,
        });
      }
    }
    return parts;
  };
  return parseSeq(new Set());
}
