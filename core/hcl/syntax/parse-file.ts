/** Parses one `.hcl` or `.json` (HCL JSON syntax) file into an AST body plus syntax diagnostics. */
import { type Diagnostic, error, positionAt } from '../../template/diagnostics.ts';
import { currentLimits, DEFAULT_LIMITS, limitDiagnostic } from '../../template/limits.ts';
import type { Body } from './ast.ts';
import { CstConverter } from './cst-to-ast.ts';
import { JsonBodyConverter } from './json-body.ts';
import { JsonSyntaxError, JsonTooDeepError, parseJsonWithPositions } from './json-value.ts';
import { nestingTooDeep, strictSyntaxCheck } from './strict-gate.ts';
import { setSyncParser } from './template-parse.ts';
import { getParser, parseHclTree, treeErrors } from './tree-sitter.ts';

export interface ParsedFile {
  readonly body?: Body;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Files above maxFileBytes (limits.ts) are refused with a diagnostic. Real Packer templates are kilobytes; both
 * parsers hold the whole file in memory and cost ~2-4 s per MB on a busy 2-core machine (measured), so 10 MB
 * inputs would take a minute and gigabytes instead of failing fast.
 */
export const MAX_FILE_SIZE = DEFAULT_LIMITS.maxFileBytes;

export async function ensureParser(): Promise<void> {
  setSyncParser(await getParser());
}

export async function parseFile(file: string, text: string, context = 'root'): Promise<ParsedFile> {
  await ensureParser();
  const limits = currentLimits();
  // Characters first: a cheap bound that avoids encoding a huge string just to measure it.
  const bytes = text.length > limits.maxFileBytes ? text.length : Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxFileBytes) {
    const at = { line: 1, column: 1 };
    const what = `${file} is ${bytes} ${text.length > limits.maxFileBytes ? 'characters' : 'bytes'}`;
    return { diagnostics: [limitDiagnostic('maxFileBytes', limits.maxFileBytes, what, { file, start: at, end: at })] };
  }
  if (file.endsWith('.json')) return parseJsonFile(file, text, context);
  const deep = nestingTooDeep(text);
  if (deep !== undefined) {
    // Too deep for either parser to be safe: report without building a tree.
    return { diagnostics: await strictSyntaxCheck(text, file) };
  }
  const tree = await parseHclTree(text);
  try {
    const strict = await strictSyntaxCheck(text, file);
    const structural = tree.rootNode.hasError ? treeErrors(file, tree.rootNode) : [];
    // The strict gate's messages are better; tree-sitter's positions are kept only when the gate saw nothing.
    const diagnostics = strict.length > 0 ? strict : structural;
    const conv = new CstConverter(file, text);
    const bodyNode = tree.rootNode.namedChildren.find((c) => c?.type === 'body');
    const body = bodyNode
      ? conv.body(bodyNode)
      : { attributes: [], blocks: [], range: { file, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } } };
    // A limit the gate already reported is not repeated by the converter.
    const seen = new Set(diagnostics.map((d) => d.summary));
    return { body, diagnostics: [...diagnostics, ...conv.diagnostics.filter((d) => !seen.has(d.summary))] };
  } finally {
    tree.delete();
  }
}

function parseJsonFile(file: string, text: string, context: string): ParsedFile {
  try {
    const root = parseJsonWithPositions(text, currentLimits().maxNestingDepth);
    const conv = new JsonBodyConverter(file, text);
    const body = conv.body(root, context);
    return { body, diagnostics: conv.diagnostics };
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const at = positionAt(text, e.offset);
    if (e instanceof JsonTooDeepError) {
      const limit = currentLimits().maxNestingDepth;
      const what = `A value in ${file} nests deeper than ${limit} arrays and objects`;
      return { diagnostics: [limitDiagnostic('maxNestingDepth', limit, what, { file, start: at, end: at })] };
    }
    return { diagnostics: [error('Invalid JSON syntax', e.message, { file, start: at, end: at })] };
  }
}
