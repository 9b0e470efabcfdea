/**
 * HCL JSON syntax → AST body. JSON cannot tell blocks from attributes, so (like HCL's own JSON decoder) the
 * Packer schema decides: which keys are blocks and how many labels each takes. Strings are templates.
 */
import { type Diagnostic, error, positionAt, type SourceRange } from '../../template/diagnostics.ts';
import type { Attribute, Block, Body, Expr } from './ast.ts';
import type { JsonNode } from './json-value.ts';
import { parseTemplateText } from './template-parse.ts';

/** Block types per parent body, with their label count. */
const BLOCK_LABELS: Record<string, Record<string, number>> = {
  root: { packer: 0, variable: 1, variables: 0, locals: 0, local: 1, source: 2, data: 2, build: 0 },
  packer: { required_plugins: 0 },
  variable: { validation: 0 },
  build: { source: 1, provisioner: 1, 'error-cleanup-provisioner': 1, 'post-processor': 1, 'post-processors': 0 },
  'post-processors': { 'post-processor': 1 },
};

export class JsonBodyConverter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  range(start: number, end: number): SourceRange {
    return { file: this.file, start: positionAt(this.text, start), end: positionAt(this.text, end) };
  }

  body(node: JsonNode, context: string): Body {
    const attributes: Attribute[] = [];
    const blocks: Block[] = [];
    const range = this.range(node.start, node.end);
    if (node.kind !== 'object') {
      this.diagnostics.push(
        error('Incorrect JSON value type', 'Either a JSON object or a JSON array of objects is required here.', range),
      );
      return { attributes, blocks, range };
    }
    const schema = BLOCK_LABELS[context] ?? {};
    for (const entry of node.entries) {
      if (entry.key === '//') continue;
      const labels = schema[entry.key];
      const keyRange = this.range(entry.keyStart, entry.keyEnd);
      if (labels === undefined && context !== 'root') {
        attributes.push({
          name: entry.key,
          nameRange: keyRange,
          expr: this.expr(entry.value),
          range: this.range(entry.keyStart, entry.value.end),
        });
        continue;
      }
      if (labels === undefined) {
        // Unknown top-level key: keep it as a block so the semantic pass reports "Unsupported block type".
        blocks.push({
          type: entry.key,
          labels: [],
          labelRanges: [],
          body: { attributes: [], blocks: [], range: keyRange },
          typeRange: keyRange,
          range: keyRange,
        });
        continue;
      }
      this.blocks(entry.key, keyRange, entry.value, labels, [], [], blocks);
    }
    return { attributes, blocks, range };
  }

  private blocks(
    type: string,
    typeRange: SourceRange,
    node: JsonNode,
    remaining: number,
    labels: string[],
    labelRanges: SourceRange[],
    out: Block[],
  ): void {
    if (node.kind === 'array') {
      for (const item of node.items) this.blocks(type, typeRange, item, remaining, labels, labelRanges, out);
      return;
    }
    if (remaining > 0) {
      if (node.kind !== 'object') {
        this.diagnostics.push(
          error(
            'Incorrect JSON value type',
            `A JSON object is required here, for the labels of a "${type}" block.`,
            this.range(node.start, node.end),
          ),
        );
        return;
      }
      for (const e of node.entries) {
        this.blocks(
          type,
          typeRange,
          e.value,
          remaining - 1,
          [...labels, e.key],
          [...labelRanges, this.range(e.keyStart, e.keyEnd)],
          out,
        );
      }
      return;
    }
    out.push({
      type,
      labels,
      labelRanges,
      body: this.body(node, type),
      typeRange,
      range: this.range(node.start, node.end),
    });
  }

  expr(node: JsonNode): Expr {
    const range = this.range(node.start, node.end);
    if (node.kind === 'array') return { kind: 'tuple', items: node.items.map((n) => this.expr(n)), range };
    if (node.kind === 'object') {
      return {
        kind: 'object',
        items: node.entries.map((e) => ({
          key: { kind: 'literal', value: e.key, range: this.range(e.keyStart, e.keyEnd) } as Expr,
          value: this.expr(e.value),
          bareKey: e.key,
        })),
        range,
      };
    }
    if (typeof node.value === 'string' && (node.value.includes('${') || node.value.includes('%{'))) {
      const parsed = parseTemplateText(node.value, this.file);
      for (const d of parsed.diagnostics) this.diagnostics.push({ ...d, range });
      return { kind: 'template', parts: parsed.parts, range };
    }
    return { kind: 'literal', value: node.value, range };
  }
}
