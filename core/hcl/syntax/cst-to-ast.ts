/**
 * Converts tree-sitter's HCL CST into Kiln's AST (ast.ts). Whitespace is not in the CST (tree-sitter skips it),
 * so template text is always sliced from the source between structural nodes rather than read from literals.
 */
import type { Node } from 'web-tree-sitter';
import type { Diagnostic, SourceRange } from '../../template/diagnostics.ts';
import { currentLimits, limitDiagnostic } from '../../template/limits.ts';
import type { Attribute, Block, Body, Expr, Step } from './ast.ts';
import { templateFromCst } from './cst-template.ts';
import { unescapeQuoted } from './template-tokens.ts';
import { nodeRange } from './tree-sitter.ts';

/**
 * Node kinds that open a nesting level, as the user counts them: brackets, braces, calls, parentheses, operators,
 * templates. Wrapper nodes of the CST (`expression`, `operation`, `collection_value`) do not, so 135 nested
 * brackets are 135 levels, checked against maxNestingDepth (deeper input is refused before it risks the stack).
 */
const NESTING = new Set([
  'tuple',
  'object',
  'function_call',
  'for_expr',
  'unary_operation',
  'binary_operation',
  'conditional',
  'template_expr',
]);

type Conditional = Extract<Expr, { kind: 'conditional' }>;

/**
 * Builds `cond ? whenTrue : whenFalse` with HCL's grouping. HCL parses a condition with its binary operators only
 * (hclsyntax parseTernaryConditional), so an unparenthesized conditional can never be a condition; the branches
 * are whole expressions, which makes `a ? b : c ? d : e` group as `a ? b : (c ? d : e)`. tree-sitter-hcl 1.2.0
 * declares the rule left-associative and hands `(a ? b : c) ? d : e`: rotate each such condition to the right.
 * A parenthesized conditional is a `paren` node here and is left alone.
 */
export function rightAssociate(cond: Expr, whenTrue: Expr, whenFalse: Expr, range: SourceRange): Conditional {
  let c = cond;
  let t = whenTrue;
  let f = whenFalse;
  // Iterative: a chain of n conditionals unwinds in n rotations without recursion depth.
  while (c.kind === 'conditional') {
    const inner: Conditional = c;
    f = rightAssociate(inner.whenFalse, t, f, {
      file: range.file,
      start: inner.whenFalse.range.start,
      end: f.range.end,
    });
    t = inner.whenTrue;
    c = inner.cond;
  }
  return { kind: 'conditional', cond: c, whenTrue: t, whenFalse: f, range };
}

export class CstConverter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly maxDepth = currentLimits().maxNestingDepth;
  private reportedDepth = false;
  constructor(
    readonly file: string,
    readonly source: string,
  ) {}

  range(node: Node): SourceRange {
    return nodeRange(this.file, node);
  }

  body(node: Node): Body {
    const attributes: Attribute[] = [];
    const blocks: Block[] = [];
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'attribute') {
        const a = this.attribute(child);
        if (a) attributes.push(a);
      } else if (child.type === 'block') {
        const b = this.block(child);
        if (b) blocks.push(b);
      }
    }
    return { attributes, blocks, range: this.range(node) };
  }

  attribute(node: Node): Attribute | undefined {
    const id = node.namedChildren.find((c) => c?.type === 'identifier');
    const exprNode = node.namedChildren.find((c) => c?.type === 'expression');
    if (!id || !exprNode) return undefined;
    return { name: id.text, nameRange: this.range(id), expr: this.expr(exprNode, 0), range: this.range(node) };
  }

  block(node: Node): Block | undefined {
    let type: Node | undefined;
    const labels: string[] = [];
    const labelRanges: SourceRange[] = [];
    let body: Body | undefined;
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'identifier') {
        if (!type) type = child;
        else {
          labels.push(child.text);
          labelRanges.push(this.range(child));
        }
      } else if (child.type === 'string_lit') {
        labels.push(this.stringLit(child));
        labelRanges.push(this.range(child));
      } else if (child.type === 'body') body = this.body(child);
    }
    if (!type) return undefined;
    return {
      type: type.text,
      labels,
      labelRanges,
      body: body ?? { attributes: [], blocks: [], range: this.range(node) },
      typeRange: this.range(type),
      range: this.range(node),
    };
  }

  stringLit(node: Node): string {
    const start = node.children[0];
    const end = node.children[node.children.length - 1];
    const from = start?.type === 'quoted_template_start' ? start.endIndex : node.startIndex;
    const to = end?.type === 'quoted_template_end' && !end.isMissing ? end.startIndex : node.endIndex;
    return unescapeQuoted(this.source.slice(from, to));
  }

  private tooDeep(node: Node): Expr {
    // Once per file: the levels below the first one past the limit would only repeat it.
    if (!this.reportedDepth) {
      const what = `This expression nests deeper than ${this.maxDepth} levels (brackets, calls, operators)`;
      this.diagnostics.push(limitDiagnostic('maxNestingDepth', this.maxDepth, what, this.range(node)));
      this.reportedDepth = true;
    }
    return { kind: 'invalid', range: this.range(node) };
  }

  /** An `expression` node, or any term node; `depth` is the number of nesting levels around it. */
  expr(node: Node, depth: number): Expr {
    const d = NESTING.has(node.type) ? depth + 1 : depth;
    if (d > this.maxDepth) return this.tooDeep(node);
    switch (node.type) {
      case 'expression':
        return this.sequence(node, node.children, d);
      case 'literal_value':
        return this.literal(node);
      case 'collection_value':
        return this.expr(node.namedChildren[0] as Node, d);
      case 'tuple':
        return {
          kind: 'tuple',
          items: node.namedChildren.filter((c) => c?.type === 'expression').map((c) => this.expr(c as Node, d)),
          range: this.range(node),
        };
      case 'object':
        return this.object(node, d);
      case 'template_expr':
        return this.template(node.namedChildren[0] as Node, d);
      case 'variable_expr':
        return { kind: 'variable', name: node.text, range: this.range(node) };
      case 'function_call':
        return this.call(node, d);
      case 'for_expr':
        return this.forExpr(node.namedChildren[0] as Node, d);
      case 'operation':
        return this.expr(node.namedChildren[0] as Node, d);
      case 'unary_operation': {
        const op = node.children[0]?.text === '!' ? '!' : '-';
        return { kind: 'unary', op, operand: this.sequence(node, node.children.slice(1), d), range: this.range(node) };
      }
      case 'binary_operation': {
        const opIndex = node.children.findIndex(
          (c, i) => i > 0 && c !== null && !c.isNamed && c.type !== '(' && c.type !== ')',
        );
        if (opIndex < 0) return { kind: 'invalid', range: this.range(node) };
        return {
          kind: 'binary',
          op: (node.children[opIndex] as Node).type,
          left: this.sequence(node, node.children.slice(0, opIndex), d),
          right: this.sequence(node, node.children.slice(opIndex + 1), d),
          range: this.range(node),
        };
      }
      case 'conditional': {
        const parts = node.namedChildren.filter((c) => c?.type === 'expression') as Node[];
        if (parts.length !== 3) return { kind: 'invalid', range: this.range(node) };
        return rightAssociate(
          this.expr(parts[0] as Node, d),
          this.expr(parts[1] as Node, d),
          this.expr(parts[2] as Node, d),
          this.range(node),
        );
      }
      default:
        return { kind: 'invalid', range: this.range(node) };
    }
  }

  /** A run of sibling nodes: a term (or parenthesized expression) followed by postfix get_attr/index/splat. */
  private sequence(parent: Node, nodes: readonly (Node | null)[], depth: number): Expr {
    let current: Expr | undefined;
    let steps: Step[] = [];
    let startNode: Node | undefined;
    const flush = (endNode: Node) => {
      if (current && steps.length > 0) {
        current = { kind: 'traverse', target: current, steps, range: this.span(startNode as Node, endNode) };
        steps = [];
      }
    };
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (!n) continue;
      if (n.type === '(') {
        const inner = nodes[i + 1];
        const close = nodes[i + 2];
        if (inner) {
          current = {
            kind: 'paren',
            inner: this.expr(inner, depth + 1),
            range: this.span(n, close && close.type === ')' ? close : inner),
          };
          startNode = n;
        }
        i += 2;
        continue;
      }
      if (n.type === 'get_attr' || n.type === 'index') {
        if (current) steps.push(this.step(n, depth));
        continue;
      }
      if (n.type === 'splat') {
        if (!current) continue;
        flush(n);
        const inner = n.namedChildren[0] as Node;
        const all = inner.namedChildren.filter((c) => c?.type === 'get_attr' || c?.type === 'index') as Node[];
        // HCL's attribute-only splat `.*` takes only `.name` (and legacy `.0`) steps into each element: in
        // `a.*.b[0]` the `[0]` indexes the splat's result. The grammar puts `[0]` inside the splat; split it off.
        let cut = all.length;
        if (inner.type === 'attr_splat') {
          cut = all.findIndex((c) => c.type === 'index' && c.namedChildren[0]?.type !== 'legacy_index');
          if (cut < 0) cut = all.length;
        }
        const each = all.slice(0, cut);
        const eachEnd = each[each.length - 1] ?? inner;
        current = {
          kind: 'splat',
          source: current,
          each: each.map((c) => this.step(c, depth)),
          range: this.span(startNode as Node, eachEnd),
        };
        for (const rest of all.slice(cut)) steps.push(this.step(rest, depth));
        continue;
      }
      if (!n.isNamed || n.type === 'comment') continue;
      current = this.expr(n, depth);
      startNode = n;
    }
    const last = [...nodes].reverse().find((n) => n?.isNamed) ?? parent;
    flush(last as Node);
    return current ?? { kind: 'invalid', range: this.range(parent) };
  }

  private span(a: Node, b: Node): SourceRange {
    const ra = this.range(a);
    const rb = this.range(b);
    return { file: this.file, start: ra.start, end: rb.end };
  }

  private step(node: Node, depth: number): Step {
    if (node.type === 'get_attr') {
      const id = node.namedChildren.find((c) => c?.type === 'identifier');
      return { kind: 'attr', name: id?.text ?? '', range: this.range(node) };
    }
    const inner = node.namedChildren[0] as Node;
    if (inner.type === 'legacy_index') {
      const n = Number(inner.text.replace(/^\./, ''));
      return { kind: 'index', key: { kind: 'literal', value: n, range: this.range(inner) }, range: this.range(node) };
    }
    const e = inner.namedChildren.find((c) => c?.type === 'expression');
    return {
      kind: 'index',
      key: e ? this.expr(e, depth + 1) : { kind: 'invalid', range: this.range(node) },
      range: this.range(node),
    };
  }

  private literal(node: Node): Expr {
    const inner = node.namedChildren[0] as Node;
    const range = this.range(node);
    switch (inner.type) {
      case 'numeric_lit':
        return { kind: 'literal', value: Number(inner.text), range };
      case 'bool_lit':
        return { kind: 'literal', value: inner.text === 'true', range };
      case 'null_lit':
        return { kind: 'literal', value: null, range };
      case 'string_lit':
        return { kind: 'literal', value: this.stringLit(inner), range };
      default:
        return { kind: 'invalid', range };
    }
  }

  private object(node: Node, depth: number): Expr {
    const items: { key: Expr; value: Expr; bareKey?: string }[] = [];
    for (const elem of node.namedChildren) {
      if (elem?.type !== 'object_elem') continue;
      const parts = elem.namedChildren.filter((c) => c?.type === 'expression') as Node[];
      if (parts.length !== 2) continue;
      const keyNode = parts[0] as Node;
      const key = this.expr(keyNode, depth);
      // A bare identifier key (`a = 1`) is the string "a", not a variable reference.
      const bareKey = key.kind === 'variable' ? key.name : undefined;
      items.push({ key, value: this.expr(parts[1] as Node, depth), ...(bareKey !== undefined ? { bareKey } : {}) });
    }
    return { kind: 'object', items, range: this.range(node) };
  }

  private call(node: Node, depth: number): Expr {
    const id = node.namedChildren.find((c) => c?.type === 'identifier') as Node;
    const argsNode = node.namedChildren.find((c) => c?.type === 'function_arguments');
    const args = argsNode ? argsNode.namedChildren.filter((c) => c?.type === 'expression') : [];
    const expandLast = argsNode ? argsNode.namedChildren.some((c) => c?.type === 'ellipsis') : false;
    return {
      kind: 'call',
      name: id.text,
      args: args.map((a) => this.expr(a as Node, depth)),
      expandLast,
      nameRange: this.range(id),
      range: this.range(node),
    };
  }

  private forExpr(node: Node, depth: number): Expr {
    const intro = node.namedChildren.find((c) => c?.type === 'for_intro') as Node;
    const ids = intro.namedChildren.filter((c) => c?.type === 'identifier').map((c) => (c as Node).text);
    const collNode = intro.namedChildren.find((c) => c?.type === 'expression') as Node;
    const exprs = node.namedChildren.filter((c) => c?.type === 'expression') as Node[];
    const condNode = node.namedChildren.find((c) => c?.type === 'for_cond');
    const condExpr = condNode?.namedChildren.find((c) => c?.type === 'expression');
    const object = node.type === 'for_object_expr';
    const valueVar = ids.length > 1 ? (ids[1] as string) : (ids[0] ?? '');
    return {
      kind: 'for',
      ...(ids.length > 1 ? { keyVar: ids[0] as string } : {}),
      valueVar,
      collection: this.expr(collNode, depth),
      ...(object && exprs[0] ? { keyExpr: this.expr(exprs[0], depth) } : {}),
      valueExpr: this.expr((object ? exprs[1] : exprs[0]) ?? node, depth),
      ...(condExpr ? { cond: this.expr(condExpr, depth) } : {}),
      grouping: node.namedChildren.some((c) => c?.type === 'ellipsis'),
      object,
      range: this.range(node),
    };
  }

  private template(node: Node, depth: number): Expr {
    return templateFromCst(this, node, depth);
  }
}
