/**
 * Parses a standalone template text (templatefile contents, JSON-syntax strings) with the already loaded
 * tree-sitter parser, by wrapping it in a heredoc (heredocs apply no backslash escapes, like template files).
 */
import type { Parser } from 'web-tree-sitter';
import type { Diagnostic, SourceRange } from '../../template/diagnostics.ts';
import type { Expr, TemplatePart } from './ast.ts';
import { CstConverter } from './cst-to-ast.ts';
import { treeErrors } from './tree-sitter.ts';

let syncParser: Parser | undefined;

/** Called once the async parser is ready, so evaluation (synchronous) can parse templates. */
export function setSyncParser(parser: Parser): void {
  syncParser = parser;
}

export interface ParsedTemplate {
  readonly parts: readonly TemplatePart[];
  readonly diagnostics: readonly Diagnostic[];
}

export function parseTemplateText(text: string, file: string): ParsedTemplate {
  if (!syncParser) throw new Error('HCL parser not initialised (call getParser first)');
  let marker = 'KILN_TEMPLATE_END';
  while (text.includes(marker)) marker += '_X';
  const endsWithNewline = text.endsWith('\n');
  const wrapped = `__t = <<${marker}\n${text}${endsWithNewline ? '' : '\n'}${marker}\n`;
  const tree = syncParser.parse(wrapped);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    const diagnostics = treeErrors(file, tree.rootNode).map((d) => shift(d));
    const conv = new CstConverter(file, wrapped);
    const body = conv.body(tree.rootNode.namedChildren[0] ?? tree.rootNode);
    const expr = body.attributes[0]?.expr;
    let parts: TemplatePart[] = expr?.kind === 'template' ? [...expr.parts] : [];
    if (!endsWithNewline && parts.length > 0) {
      const last = parts[parts.length - 1];
      if (last?.kind === 'text') parts = [...parts.slice(0, -1), { kind: 'text', text: last.text.replace(/\n$/, '') }];
    }
    return { parts, diagnostics: [...diagnostics, ...conv.diagnostics] };
  } finally {
    tree.delete();
  }
}

/** Positions inside the wrapper are one line below the real file. */
function shift(d: Diagnostic): Diagnostic {
  if (!d.range) return d;
  const r: SourceRange = {
    file: d.range.file,
    start: { line: Math.max(1, d.range.start.line - 1), column: d.range.start.column },
    end: { line: Math.max(1, d.range.end.line - 1), column: d.range.end.column },
  };
  return { ...d, range: r };
}

export function templateExpr(parts: readonly TemplatePart[], range: SourceRange): Expr {
  return { kind: 'template', parts, range };
}

export type ParsedExpression = { ok: true; expr: Expr } | { ok: false; message: string };

/** Parses a single expression (a -var value or PKR_VAR_ environment value for a complex type). */
export function parseExpressionText(text: string, file: string): ParsedExpression {
  if (!syncParser) throw new Error('HCL parser not initialised (call getParser first)');
  if (text.includes('\n')) return { ok: false, message: 'A value must be a single line' };
  const wrapped = `__v = ${text}\n`;
  const tree = syncParser.parse(wrapped);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    if (tree.rootNode.hasError) return { ok: false, message: `Invalid expression ${JSON.stringify(text)}` };
    const conv = new CstConverter(file, wrapped);
    const body = conv.body(tree.rootNode.namedChildren[0] ?? tree.rootNode);
    const attr = body.attributes[0];
    if (!attr || body.attributes.length !== 1)
      return { ok: false, message: `Invalid expression ${JSON.stringify(text)}` };
    return { ok: true, expr: attr.expr };
  } finally {
    tree.delete();
  }
}
