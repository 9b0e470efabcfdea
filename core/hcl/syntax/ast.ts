/**
 * The HCL syntax tree Kiln evaluates. Both the native syntax (tree-sitter CST) and the JSON syntax
 * (`*.pkr.json`) are converted into it, so evaluation and block semantics never see either parser.
 */
import type { SourceRange } from '../../template/diagnostics.ts';

export type Expr =
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null; readonly range: SourceRange }
  | { readonly kind: 'template'; readonly parts: readonly TemplatePart[]; readonly range: SourceRange }
  | { readonly kind: 'variable'; readonly name: string; readonly range: SourceRange }
  | {
      readonly kind: 'traverse';
      readonly target: Expr;
      readonly steps: readonly Step[];
      readonly range: SourceRange;
    }
  | { readonly kind: 'splat'; readonly source: Expr; readonly each: readonly Step[]; readonly range: SourceRange }
  | { readonly kind: 'tuple'; readonly items: readonly Expr[]; readonly range: SourceRange }
  | {
      readonly kind: 'object';
      readonly items: readonly { readonly key: Expr; readonly value: Expr; readonly bareKey?: string }[];
      readonly range: SourceRange;
    }
  | {
      readonly kind: 'call';
      readonly name: string;
      readonly args: readonly Expr[];
      readonly expandLast: boolean;
      readonly nameRange: SourceRange;
      readonly range: SourceRange;
    }
  | { readonly kind: 'unary'; readonly op: '-' | '!'; readonly operand: Expr; readonly range: SourceRange }
  | {
      readonly kind: 'binary';
      readonly op: string;
      readonly left: Expr;
      readonly right: Expr;
      readonly range: SourceRange;
    }
  | {
      readonly kind: 'conditional';
      readonly cond: Expr;
      readonly whenTrue: Expr;
      readonly whenFalse: Expr;
      readonly range: SourceRange;
    }
  | {
      readonly kind: 'for';
      readonly keyVar?: string;
      readonly valueVar: string;
      readonly collection: Expr;
      readonly keyExpr?: Expr;
      readonly valueExpr: Expr;
      readonly cond?: Expr;
      readonly grouping: boolean;
      readonly object: boolean;
      readonly range: SourceRange;
    }
  | { readonly kind: 'paren'; readonly inner: Expr; readonly range: SourceRange }
  /** A JSON-syntax string: evaluated as a template (HCL JSON spec). */
  | { readonly kind: 'invalid'; readonly range: SourceRange };

export type Step =
  | { readonly kind: 'attr'; readonly name: string; readonly range: SourceRange }
  | { readonly kind: 'index'; readonly key: Expr; readonly range: SourceRange };

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'interp'; readonly expr: Expr; readonly stripLeft: boolean; readonly stripRight: boolean }
  | {
      readonly kind: 'if';
      readonly cond: Expr;
      readonly whenTrue: readonly TemplatePart[];
      readonly whenFalse: readonly TemplatePart[];
      readonly stripLeft: boolean;
      readonly stripRight: boolean;
    }
  | {
      readonly kind: 'for';
      readonly keyVar?: string;
      readonly valueVar: string;
      readonly collection: Expr;
      readonly body: readonly TemplatePart[];
      readonly stripLeft: boolean;
      readonly stripRight: boolean;
    };

export interface Attribute {
  readonly name: string;
  readonly expr: Expr;
  readonly nameRange: SourceRange;
  readonly range: SourceRange;
}

export interface Block {
  readonly type: string;
  readonly labels: readonly string[];
  readonly labelRanges: readonly SourceRange[];
  readonly body: Body;
  readonly typeRange: SourceRange;
  readonly range: SourceRange;
}

/** Attributes and blocks in document order (`items`), which Packer's provisioner order depends on. */
export interface Body {
  readonly attributes: readonly Attribute[];
  readonly blocks: readonly Block[];
  readonly range: SourceRange;
}
