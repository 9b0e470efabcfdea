/**
 * Input variables: `variable` and legacy `variables` blocks, then values by Packer's precedence:
 * default < PKR_VAR_name < *.auto.pkrvars (name order) < -var-file (in order) < -var (in order).
 */

import type { EvalContext } from '../../../hcl/eval/context.ts';
import { evaluate } from '../../../hcl/eval/evaluate.ts';
import { convertValue, parseType, type TypeSpec, typeString } from '../../../hcl/eval/types.ts';
import { containsUnknown, HclEvalError, isObject, type Value } from '../../../hcl/eval/values.ts';
import { variableDefaultFunctions } from '../../../hcl/functions/index.ts';
import type { Attribute, Block, Body, Expr } from '../../../hcl/syntax/ast.ts';
import { parseExpressionText } from '../../../hcl/syntax/template-parse.ts';
import { type Diagnostic, error, type SourceRange, warning } from '../../../template/diagnostics.ts';
import type { VariableInfo } from '../../../template/model.ts';
import { REDACTED, redactText } from '../../../template/sensitive.ts';
import { evalAttr } from './config-body.ts';
import { checkAttributes } from './schema-check.ts';

export interface VariableDecl {
  readonly name: string;
  readonly type?: TypeSpec;
  readonly defaultExpr?: Expr;
  readonly description?: string;
  readonly sensitive: boolean;
  readonly validations: readonly { readonly condition: Expr; readonly message?: Expr; readonly range: SourceRange }[];
  readonly range: SourceRange;
}

export interface VariableInput {
  readonly name: string;
  /** Raw string (env, -var) or an expression (var file). */
  readonly raw?: string;
  readonly expr?: Expr;
  readonly source: string;
  readonly range?: SourceRange;
}

const VARIABLE_ATTRS = new Set(['type', 'default', 'description', 'sensitive', 'nullable']);

function staticBool(attr: Attribute | undefined, ctx: EvalContext, diagnostics: Diagnostic[]): boolean {
  if (!attr) return false;
  const v = evalAttr(attr.expr, ctx, diagnostics);
  return v === true || v === 'true';
}

export function declareVariables(
  blocks: readonly Block[],
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): Map<string, VariableDecl> {
  const decls = new Map<string, VariableDecl>();
  const add = (decl: VariableDecl, nameRange: SourceRange) => {
    const prev = decls.get(decl.name);
    if (prev) {
      diagnostics.push(error('Duplicate variable', `Duplicate ${decl.name} variable definition found.`, nameRange));
      return;
    }
    decls.set(decl.name, decl);
  };
  for (const block of blocks) {
    if (block.type === 'variables') {
      for (const attr of block.body.attributes) {
        add(
          { name: attr.name, defaultExpr: attr.expr, sensitive: false, validations: [], range: attr.range },
          attr.nameRange,
        );
      }
      continue;
    }
    if (block.type !== 'variable') continue;
    const name = block.labels[0];
    if (name === undefined || block.labels.length !== 1) {
      diagnostics.push(
        error(
          'Missing name for variable',
          'All variable blocks must have exactly one label: the variable name.',
          block.range,
        ),
      );
      continue;
    }
    checkAttributes(block.body, VARIABLE_ATTRS, new Set(['validation']), diagnostics);
    const attrs = new Map(block.body.attributes.map((a) => [a.name, a]));
    let type: TypeSpec | undefined;
    const typeAttr = attrs.get('type');
    if (typeAttr) {
      // HCL JSON syntax writes type constraints as strings ("list(string)"): parse them as expressions.
      const typeExpr =
        typeAttr.expr.kind === 'literal' && typeof typeAttr.expr.value === 'string'
          ? parseTypeString(typeAttr.expr.value, typeAttr.expr)
          : typeAttr.expr;
      const t = parseType(typeExpr, (e) => evalAttr(e, ctx, diagnostics) ?? null);
      if (t.ok) type = t.type;
      else diagnostics.push(error('Invalid type specification', t.message, t.range));
    }
    const descAttr = attrs.get('description');
    const desc = descAttr ? evalAttr(descAttr.expr, ctx, diagnostics) : undefined;
    const validations = block.body.blocks
      .filter((b) => b.type === 'validation')
      .flatMap((b) => {
        const cond = b.body.attributes.find((a) => a.name === 'condition');
        const msg = b.body.attributes.find((a) => a.name === 'error_message');
        if (!cond) {
          diagnostics.push(
            error(
              'Missing required argument',
              'The argument "condition" is required, but no definition was found.',
              b.range,
            ),
          );
          return [];
        }
        return [{ condition: cond.expr, ...(msg ? { message: msg.expr } : {}), range: cond.expr.range }];
      });
    const defaultAttr = attrs.get('default');
    add(
      {
        name,
        ...(type ? { type } : {}),
        ...(defaultAttr ? { defaultExpr: defaultAttr.expr } : {}),
        ...(typeof desc === 'string' ? { description: desc } : {}),
        sensitive: staticBool(attrs.get('sensitive'), ctx, diagnostics),
        validations,
        range: block.labelRanges[0] ?? block.range,
      },
      block.labelRanges[0] ?? block.range,
    );
  }
  return decls;
}

function parseTypeString(text: string, fallback: Expr): Expr {
  const parsed = parseExpressionText(text, fallback.range.file);
  return parsed.ok ? parsed.expr : fallback;
}

/** Packer parses -var / env strings as HCL only for complex types; strings, numbers and untyped stay literal. */
function valueFromString(raw: string, decl: VariableDecl, input: VariableInput, ctx: EvalContext): Value {
  // Without a type, Packer infers it from the default: a list or map default makes the input an expression.
  const inferred = decl.defaultExpr?.kind === 'tuple' || decl.defaultExpr?.kind === 'object';
  const complex = decl.type ? !['string', 'number', 'any'].includes(decl.type.kind) : inferred;
  if (!complex) return raw;
  const expr = parseExpressionText(raw, `<value for var.${decl.name} from ${input.source}>`);
  if (!expr.ok)
    throw new HclEvalError(
      error(
        'Invalid expression for variable',
        `${expr.message} (value for var.${decl.name} from ${input.source})`,
        input.range,
      ),
    );
  return evaluate(expr.expr, ctx);
}

/** Parse and evaluation messages may quote any fragment of the value: keep only what kind of problem it is. */
function hideValue(d: Diagnostic, input: VariableInput): Diagnostic {
  const summary = redactText(d.summary, [input.raw ?? '']);
  return {
    ...d,
    summary,
    detail: `The value given for var.${input.name} (from ${input.source}) is not valid: ${summary}. The variable is sensitive, so the value and the parser's message about it are not shown; check its syntax and type.`,
  };
}

export interface ResolvedVariables {
  readonly values: Record<string, Value>;
  readonly infos: VariableInfo[];
  readonly sensitiveValues: string[];
}

function collectStrings(v: Value, out: string[]): void {
  if (typeof v === 'string' && v !== '') out.push(v);
  else if (typeof v === 'number') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out);
  else if (isObject(v)) for (const x of Object.values(v)) collectStrings(x, out);
}

export function resolveVariables(
  decls: ReadonlyMap<string, VariableDecl>,
  inputs: readonly VariableInput[],
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): ResolvedVariables {
  const chosen = new Map<string, { value: Value; source: string; range?: SourceRange }>();
  const defaultsCtx: EvalContext = { ...ctx, functions: variableDefaultFunctions() };
  for (const [name, decl] of decls) {
    if (!decl.defaultExpr) continue;
    const v = evalAttr(decl.defaultExpr, defaultsCtx, diagnostics);
    if (v !== undefined) chosen.set(name, { value: v, source: 'default', range: decl.defaultExpr.range });
  }
  for (const input of inputs) {
    const decl = decls.get(input.name);
    if (!decl) {
      if (input.source === 'var') {
        diagnostics.push(
          error(
            'Undefined -var variable',
            `A "${input.name}" variable was passed in the command line but was not found in known variables. To declare variable "${input.name}", place this block in one of your .pkr.hcl files, such as variables.pkr.hcl`,
            input.range,
          ),
        );
      } else if (input.source.startsWith('var-file')) {
        diagnostics.push(
          warning(
            'Undefined variable',
            `The variable "${input.name}" was set but was not declared as an input variable.\nTo declare variable "${input.name}" place this block in one of your .pkr.hcl files, such as variables.pkr.hcl\n\nvariable "${input.name}" {\n  type    = string\n  default = null\n}`,
            input.range,
          ),
        );
      }
      continue;
    }
    try {
      const v =
        input.raw !== undefined ? valueFromString(input.raw, decl, input, ctx) : evaluate(input.expr as Expr, ctx);
      chosen.set(input.name, { value: v, source: input.source, ...(input.range ? { range: input.range } : {}) });
    } catch (e) {
      if (!(e instanceof HclEvalError)) throw e;
      // A sensitive -var value that does not parse must not be echoed back in the error (nor any encoding of it).
      diagnostics.push(decl.sensitive && input.raw !== undefined ? hideValue(e.diagnostic, input) : e.diagnostic);
    }
  }
  const values: Record<string, Value> = {};
  const infos: VariableInfo[] = [];
  const sensitiveValues: string[] = [];
  for (const [name, decl] of decls) {
    const c = chosen.get(name);
    let value = c?.value;
    if (c && decl.type && value !== undefined) {
      const r = convertValue(value, decl.type);
      if (r.ok) value = r.value;
      else {
        // The conversion message quotes the value: say only which type was expected when it is sensitive.
        const why = decl.sensitive ? `the value (${REDACTED}) is not a ${typeString(decl.type)}` : r.message;
        diagnostics.push(
          error(
            'Invalid value for variable',
            `The value for var.${name} is not compatible with the variable's type constraint: ${why}.`,
            c.range ?? decl.range,
          ),
        );
      }
    }
    if (c === undefined) {
      diagnostics.push(
        error(
          `Unset variable "${name}"`,
          'A used variable must be set or have a default value; see https://packer.io/docs/templates/hcl_templates/syntax for details.',
          decl.range,
        ),
      );
    }
    if (value !== undefined) values[name] = value;
    if (decl.sensitive && value !== undefined) collectStrings(value, sensitiveValues);
    infos.push({
      name,
      ...(decl.type ? { type: typeString(decl.type) } : {}),
      ...(decl.description !== undefined ? { description: decl.description } : {}),
      sensitive: decl.sensitive,
      required: decl.defaultExpr === undefined,
      ...(value !== undefined ? { value } : {}),
      ...(c ? { valueSource: c.source } : {}),
      range: decl.range,
    });
  }
  return { values, infos, sensitiveValues };
}

/** Runs each variable's validation blocks with only `var.<name>` in scope. */
export function validateVariables(
  decls: ReadonlyMap<string, VariableDecl>,
  values: Record<string, Value>,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): void {
  for (const [name, decl] of decls) {
    if (!(name in values)) continue;
    for (const v of decl.validations) {
      const scope: EvalContext = {
        roots: new Map([['var', { [name]: values[name] as Value }]]),
        functions: ctx.functions,
        environment: ctx.environment,
      };
      const local: Diagnostic[] = [];
      const ok = evalAttr(v.condition, scope, local);
      diagnostics.push(...local);
      if (ok === undefined || containsUnknown(ok)) continue;
      if (ok === false) {
        const msg = v.message ? evalAttr(v.message, scope, diagnostics) : undefined;
        diagnostics.push(
          error(
            'Invalid value for variable',
            typeof msg === 'string' ? msg : `Validation failed for var.${name}.`,
            v.range,
          ),
        );
      } else if (ok !== true) {
        diagnostics.push(
          error(
            'Invalid variable validation result',
            'Validation condition expression must return either true or false.',
            v.range,
          ),
        );
      }
    }
  }
}

/** Attributes of a var file body (blocks are not allowed there). */
export function varFileInputs(body: Body, source: string, diagnostics: Diagnostic[]): VariableInput[] {
  for (const b of body.blocks)
    diagnostics.push(error('Unsupported block type', `Blocks of type "${b.type}" are not expected here.`, b.typeRange));
  return body.attributes.map((a) => ({ name: a.name, expr: a.expr, source, range: a.nameRange }));
}
