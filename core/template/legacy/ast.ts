/**
 * Syntax tree of Packer's `{{ }}` templates (the subset of Go's text/template that Packer templates use).
 * Offsets are 0-based indices into the template text, so callers can map errors onto file positions.
 */

export type Term =
  | { readonly kind: 'string'; readonly value: string; readonly pos: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly pos: number }
  | { readonly kind: 'bool'; readonly value: boolean; readonly pos: number }
  | { readonly kind: 'nil'; readonly pos: number }
  /** `.Name`, `.A.B`: data of the component (HTTPIP, Vars, Path...), supplied by its context at run time. */
  | { readonly kind: 'field'; readonly path: readonly string[]; readonly pos: number }
  | { readonly kind: 'dot'; readonly pos: number }
  /** `$x`: template variables; parsed so the text can be passed through, never evaluated at load time. */
  | { readonly kind: 'variable'; readonly name: string; readonly pos: number }
  | { readonly kind: 'identifier'; readonly name: string; readonly pos: number }
  | { readonly kind: 'pipeline'; readonly pipe: Pipeline; readonly pos: number };

export interface Command {
  readonly args: readonly Term[];
  readonly pos: number;
}

export interface Pipeline {
  readonly commands: readonly Command[];
  readonly pos: number;
}

export type TemplateNode =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'action';
      /** Offset of `{{` and just past `}}`; `raw` is the action text as written, for pass-through. */
      readonly start: number;
      readonly end: number;
      readonly raw: string;
      readonly pipe: Pipeline;
    }
  /** `if`, `range`, `with`, `else`, `end`...: run-time templates; the whole text is passed through. */
  | { readonly kind: 'control'; readonly keyword: string; readonly start: number; readonly end: number };

export interface ParsedTemplate {
  readonly nodes: readonly TemplateNode[];
  readonly hasControl: boolean;
}

export interface ParseFailure {
  readonly error: string;
  readonly offset: number;
}
