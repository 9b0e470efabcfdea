/**
 * Loads web-tree-sitter and the HCL grammar once per process (HARNESS.md probe A: init ~9 ms, then ~1 ms per
 * parse) and reports ERROR / MISSING nodes as diagnostics, since tree-sitter gives positions but no messages.
 */
import { createRequire } from 'node:module';
import { Language, type Node, Parser, type Tree } from 'web-tree-sitter';
import { type Diagnostic, error, type SourceRange } from '../../template/diagnostics.ts';

let parserPromise: Promise<Parser> | undefined;

async function createParser(): Promise<Parser> {
  await Parser.init();
  const require = createRequire(import.meta.url);
  const language = await Language.load(require.resolve('@tree-sitter-grammars/tree-sitter-hcl/tree-sitter-hcl.wasm'));
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

export function getParser(): Promise<Parser> {
  parserPromise ??= createParser();
  return parserPromise;
}

export async function parseHclTree(source: string): Promise<Tree> {
  const parser = await getParser();
  const tree = parser.parse(source);
  // parse() only returns null when cancelled or without a language; neither happens here.
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

export function nodeRange(file: string, node: Node): SourceRange {
  return {
    file,
    start: { line: node.startPosition.row + 1, column: node.startPosition.column + 1 },
    end: { line: node.endPosition.row + 1, column: node.endPosition.column + 1 },
  };
}

/** One diagnostic per ERROR or MISSING node, outermost first; nested errors inside an ERROR are skipped. */
export function treeErrors(file: string, root: Node, limit = 20): Diagnostic[] {
  const out: Diagnostic[] = [];
  const stack: Node[] = [root];
  while (stack.length > 0 && out.length < limit) {
    const node = stack.pop() as Node;
    if (!node.hasError && !node.isMissing) continue;
    if (node.isMissing) {
      out.push(error('Missing token', `Expected "${node.type}" here.`, nodeRange(file, node)));
      continue;
    }
    if (node.isError) {
      const text = node.text.length > 40 ? `${node.text.slice(0, 40)}...` : node.text;
      out.push(error('Invalid syntax', `Unexpected ${JSON.stringify(text)}.`, nodeRange(file, node)));
      continue;
    }
    const children = node.children;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Node);
  }
  return out;
}
