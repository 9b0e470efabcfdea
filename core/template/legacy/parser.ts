/**
 * Tokenizer and parser for Packer's `{{ }}` templates.
 *
 * Why hand-written: the npm ports of Go's text/template are either unmaintained, evaluate eagerly (no way to
 * leave `{{ .Path }}` or `{{ build `ID` }}` in place for run time), or report no offsets. Packer templates use
 * a small, stable subset (functions, pipelines, string/number literals, fields), so a direct parser that mirrors
 * Go's lexer rules and messages is smaller and safer than adapting one. Iterative over actions; recursion only
 * for parenthesized pipelines, which are bounded by a nesting limit.
 */

import { ActionParser, Failure, isSpace } from './actionParser.ts';
import type { ParsedTemplate, ParseFailure, TemplateNode } from './ast.ts';

const CONTROL_KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);
function trimRightSpace(s: string): string {
  return s.replace(/[ \t\r\n]+$/, '');
}

/**
 * Parses the whole text. `isFunction` says which identifiers are functions: unknown ones fail at parse time,
 * as in Go (`function "xyz" not defined`), even inside actions that would be left for run time.
 */
export function parseLegacyTemplate(
  text: string,
  isFunction: (name: string) => boolean,
): ParsedTemplate | ParseFailure {
  const nodes: TemplateNode[] = [];
  let hasControl = false;
  let i = 0;
  let trimNext = false;
  let actionStart = 0;
  try {
    while (i < text.length) {
      const open = text.indexOf('{{', i);
      let chunk = open < 0 ? text.slice(i) : text.slice(i, open);
      if (trimNext) chunk = chunk.replace(/^[ \t\r\n]+/, '');
      trimNext = false;
      if (open < 0) {
        if (chunk) nodes.push({ kind: 'text', text: chunk });
        break;
      }
      actionStart = open;
      let p = open + 2;
      const trimLeft = text[p] === '-' && isSpace(text[p + 1]);
      if (trimLeft) {
        chunk = trimRightSpace(chunk);
        p += 2;
      }
      if (chunk) nodes.push({ kind: 'text', text: chunk });
      // Comments: {{/* ... */}}, closing delimiter right after the comment.
      let q = p;
      while (trimLeft && isSpace(text[q])) q++;
      if (text.startsWith('/*', q)) {
        const endComment = text.indexOf('*/', q + 2);
        if (endComment < 0) throw new Failure('unclosed comment', open);
        const r = endComment + 2;
        if (text.startsWith('}}', r)) {
          i = r + 2;
        } else if (isSpace(text[r]) && text.startsWith('-}}', r + 1)) {
          i = r + 4;
          trimNext = true;
        } else {
          throw new Failure('comment ends before closing delimiter', open);
        }
        continue;
      }
      const ap = new ActionParser(text, p, isFunction);
      ap.skipSpaces();
      const kwMatch = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(ap.pos, ap.pos + 32));
      const declaration = /^\$[A-Za-z0-9_]*\s*(?::=|=[^=])/.test(text.slice(ap.pos, ap.pos + 64));
      if (declaration) {
        // `{{ $x := .Name }}` declares a template variable: a run-time template, kept whole like control actions.
        hasControl = true;
        ap.skipToClose();
        if (ap.pos >= text.length) throw new Failure('unclosed action', open);
        trimNext = ap.close();
        nodes.push({ kind: 'control', keyword: '$', start: open, end: ap.pos });
        i = ap.pos;
        continue;
      }
      if (kwMatch && CONTROL_KEYWORDS.has(kwMatch[0])) {
        // Run-time template (e.g. `{{if .Sudo}}`): find the end, keep the text, still check function names.
        hasControl = true;
        ap.pos += kwMatch[0].length;
        ap.skipToClose();
        if (ap.pos >= text.length) throw new Failure('unclosed action', open);
        trimNext = ap.close();
        nodes.push({ kind: 'control', keyword: kwMatch[0], start: open, end: ap.pos });
        i = ap.pos;
        continue;
      }
      const pipe = ap.parsePipeline(0, false);
      if (ap.pos >= text.length || !ap.atClose()) {
        if (ap.pos >= text.length) throw new Failure('unclosed action', open);
        throw new Failure(`unexpected "${text[ap.pos]}" in command`, ap.pos);
      }
      trimNext = ap.close();
      nodes.push({ kind: 'action', start: open, end: ap.pos, raw: text.slice(open, ap.pos), pipe });
      i = ap.pos;
    }
  } catch (e) {
    // Go reports an unclosed action where it opens, which is where the user has to look.
    if (e instanceof Failure && e.error === 'unclosed action') return { error: e.error, offset: actionStart };
    if (e instanceof Failure) return { error: e.error, offset: e.offset };
    throw e;
  }
  return { nodes, hasControl };
}

export function isParseFailure(r: ParsedTemplate | ParseFailure): r is ParseFailure {
  return 'error' in r;
}
