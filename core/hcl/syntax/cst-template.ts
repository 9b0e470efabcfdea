/**
 * Template strings (quoted and heredoc) from the CST. Whitespace is not in the CST (tree-sitter skips it), so
 * literal text is sliced from the source between structural nodes, then escapes and strip markers apply.
 */
import type { Node } from 'web-tree-sitter';
import type { Expr } from './ast.ts';
import type { CstConverter } from './cst-to-ast.ts';
import { buildTemplate, flushHeredoc, type TemplateToken, unescapeHeredoc, unescapeQuoted } from './template-tokens.ts';

export function templateFromCst(conv: CstConverter, node: Node, depth: number): Expr {
  const tokens: TemplateToken[] = [];
  const range = conv.range(node);
  if (node.type === 'quoted_template') {
    const first = node.children[0];
    const last = node.children[node.children.length - 1];
    const from = first?.type === 'quoted_template_start' ? first.endIndex : node.startIndex;
    const to = last?.type === 'quoted_template_end' && !last.isMissing ? last.startIndex : node.endIndex;
    emitTokens(conv, node, from, to, tokens, depth, unescapeQuoted);
  } else {
    // heredoc_template: content runs from the line after `<<EOF` to the start of the closing marker's line.
    const ids = node.children.filter((c) => c?.type === 'heredoc_identifier') as Node[];
    const open = ids[0];
    const close = ids.length > 1 ? ids[ids.length - 1] : undefined;
    const nl = conv.source.indexOf('\n', open ? open.endIndex : node.startIndex);
    const from = nl < 0 ? node.endIndex : nl + 1;
    let to = close ? close.startIndex : node.endIndex;
    while (to > from && (conv.source[to - 1] === ' ' || conv.source[to - 1] === '\t')) to--;
    emitTokens(conv, node, from, Math.max(from, to), tokens, depth, unescapeHeredoc);
    const flush = node.children.some((c) => c?.type === 'heredoc_start' && c.text.startsWith('<<-'));
    if (flush) flushHeredoc(tokens);
  }
  return { kind: 'template', parts: buildTemplate(tokens), range };
}

/** Emits template tokens for the structural children of `node` within [from, to); gaps are literal text. */
function emitTokens(
  conv: CstConverter,
  node: Node,
  from: number,
  to: number,
  out: TemplateToken[],
  depth: number,
  decode: (s: string) => string,
): void {
  let pos = from;
  const text = (end: number) => {
    if (end > pos) out.push({ kind: 'text', text: decode(conv.source.slice(pos, end)) });
  };
  for (const child of node.children) {
    if (!child || child.endIndex <= from || child.startIndex >= to) continue;
    const t = child.type;
    if (t === 'template_interpolation') {
      text(child.startIndex);
      const e = child.namedChildren.find((c) => c?.type === 'expression');
      const raw = child.text;
      out.push({
        kind: 'interp',
        expr: e ? conv.expr(e, depth) : { kind: 'invalid', range: conv.range(child) },
        stripLeft: raw.startsWith('${~'),
        stripRight: raw.endsWith('~}'),
      });
      pos = child.endIndex;
    } else if (t === 'template_directive' || t === 'template_if' || t === 'template_for') {
      text(child.startIndex);
      emitTokens(conv, child, child.startIndex, child.endIndex, out, depth, decode);
      pos = child.endIndex;
    } else if (
      t === 'template_if_intro' ||
      t === 'template_else_intro' ||
      t === 'template_if_end' ||
      t === 'template_for_start' ||
      t === 'template_for_end'
    ) {
      text(child.startIndex);
      out.push(marker(conv, child, depth));
      pos = child.endIndex;
    }
  }
  text(to);
}

function marker(conv: CstConverter, node: Node, depth: number): TemplateToken {
  const raw = node.text;
  const stripLeft = raw.startsWith('%{~');
  const stripRight = raw.endsWith('~}');
  const e = node.namedChildren.find((c) => c?.type === 'expression');
  const expr = e ? conv.expr(e, depth) : ({ kind: 'invalid', range: conv.range(node) } as const);
  switch (node.type) {
    case 'template_if_intro':
      return { kind: 'if', cond: expr, stripLeft, stripRight };
    case 'template_else_intro':
      return { kind: 'else', stripLeft, stripRight };
    case 'template_if_end':
      return { kind: 'endif', stripLeft, stripRight };
    case 'template_for_start': {
      const ids = node.namedChildren.filter((c) => c?.type === 'identifier').map((c) => (c as Node).text);
      return {
        kind: 'forStart',
        ...(ids.length > 1 ? { keyVar: ids[0] as string } : {}),
        valueVar: (ids.length > 1 ? ids[1] : ids[0]) ?? '',
        collection: expr,
        stripLeft,
        stripRight,
      };
    }
    default:
      return { kind: 'endfor', stripLeft, stripRight };
  }
}
