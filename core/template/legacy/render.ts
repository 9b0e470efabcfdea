/**
 * Renders Packer's `{{ }}` templates. Actions that depend on run-time data (component fields like
 * `{{ .Path }}`, builder data `{{ build `ID` }}`) are kept exactly as written so the run-time side can render
 * them; everything known now (user variables, timestamp...) is substituted.
 */

import { currentBudget } from '../limits.ts';
import type { Command, ParsedTemplate, Pipeline, Term } from './ast.ts';
import {
  isRenderError,
  type LegacyContext,
  type LegacyRenderResult,
  type SecretRequest,
  secretRequestKey,
} from './context.ts';
import { ArgCountError, ArgTypeError, type CallRecorder, callFunction, isLegacyFunction } from './functions.ts';
import { isParseFailure, parseLegacyTemplate } from './parser.ts';
import { Deferred, FuncError, printValue, Unknown, type Value } from './values.ts';

export { isRenderError };

class TemplateExecError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Merges Deferred/Unknown among arguments: Deferred wins (the text is kept), else unknown sources add up. */
function pending(values: readonly Value[]): Deferred | Unknown | undefined {
  if (values.some((v) => v instanceof Deferred)) return Deferred.instance;
  const unknowns = values.filter((v): v is Unknown => v instanceof Unknown);
  if (unknowns.length === 0) return undefined;
  return new Unknown(unknowns.flatMap((u) => u.sources));
}

class Evaluator {
  constructor(
    private readonly ctx: LegacyContext,
    private readonly rec: CallRecorder,
  ) {}

  pipeline(pipe: Pipeline): Value {
    let piped: Value | undefined;
    for (const cmd of pipe.commands) piped = this.command(cmd, piped);
    return piped as Value;
  }

  private command(cmd: Command, piped: Value | undefined): Value {
    const [head, ...rest] = cmd.args;
    if (!head) throw new TemplateExecError('missing value for command', cmd.pos);
    if (head.kind !== 'identifier') {
      if (rest.length > 0 || piped !== undefined) {
        // Go: only functions take arguments; a field with arguments is a method call we never have.
        if (head.kind === 'field' && !this.fieldKnown(head.path)) return Deferred.instance;
        throw new TemplateExecError(`can't give argument to non-function ${termText(head)}`, head.pos);
      }
      return this.term(head);
    }
    const args = rest.map((t) => this.term(t));
    if (piped !== undefined) args.push(piped);
    const waiting = pending(args);
    if (waiting) return waiting;
    try {
      return callFunction(head.name, args, this.ctx, this.rec);
    } catch (e) {
      if (e instanceof FuncError) throw new TemplateExecError(`error calling ${head.name}: ${e.message}`, head.pos);
      if (e instanceof ArgCountError || e instanceof ArgTypeError) throw new TemplateExecError(e.message, head.pos);
      throw e;
    }
  }

  private fieldKnown(path: readonly string[]): boolean {
    return this.field(path) !== undefined;
  }

  private field(path: readonly string[]): Value | undefined {
    let cur: unknown = this.ctx.data;
    for (const p of path) {
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return undefined;
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur as Value;
  }

  private term(t: Term): Value {
    switch (t.kind) {
      case 'string':
      case 'number':
      case 'bool':
        return t.value;
      case 'nil':
        throw new TemplateExecError('nil is not a command', t.pos);
      case 'field':
        return this.field(t.path) ?? Deferred.instance;
      case 'dot':
        return this.ctx.data === undefined ? Deferred.instance : (this.ctx.data as Value);
      case 'variable':
        return Deferred.instance;
      case 'identifier':
        return this.command({ args: [t], pos: t.pos }, undefined);
      case 'pipeline':
        return this.pipeline(t.pipe);
    }
  }
}

function termText(t: Term): string {
  switch (t.kind) {
    case 'field':
      return `.${t.path.join('.')}`;
    case 'string':
      return JSON.stringify(t.value);
    case 'number':
      return t.text;
    default:
      return t.kind;
  }
}

function renderParsed(parsed: ParsedTemplate, text: string, ctx: LegacyContext): LegacyRenderResult {
  // A control structure (`{{if .Sudo}}`) is a run-time template: keep the text whole.
  if (parsed.hasControl) return { value: text };
  const sensitive: string[] = [];
  const pendingSecrets = new Map<string, SecretRequest>();
  const rec: CallRecorder = {
    sensitive: (v) => sensitive.push(v),
    pending: (r) => pendingSecrets.set(secretRequestKey(r), r),
  };
  const ev = new Evaluator(ctx, rec);
  const unknowns: string[] = [];
  const budget = currentBudget();
  let out = '';
  try {
    for (const node of parsed.nodes) {
      budget.step();
      // Values can double per variable (`{{user `a`}}{{user `a`}}`): stop before the string gets huge.
      if (out.length > budget.limits.maxStringLength) budget.stringLength(out.length, 'A rendered template string');
      if (node.kind === 'text') {
        out += node.text;
        continue;
      }
      if (node.kind === 'control') continue;
      const v = ev.pipeline(node.pipe);
      if (v instanceof Deferred) {
        out += node.raw;
      } else if (v instanceof Unknown) {
        unknowns.push(...v.sources);
        out += node.raw;
      } else {
        out += printValue(v);
      }
    }
  } catch (e) {
    if (e instanceof TemplateExecError) return { error: e.message, offset: e.offset };
    throw e;
  }
  budget.stringLength(out.length, 'A rendered template string');
  return {
    value: out,
    ...(unknowns.length ? { unknowns: [...new Set(unknowns)] } : {}),
    ...(sensitive.length ? { sensitive: [...new Set(sensitive)] } : {}),
    ...(pendingSecrets.size ? { pendingSecrets: [...pendingSecrets.values()] } : {}),
  };
}

/** True when the text has no `{{` at all: the common case, rendered without parsing. */
export function hasLegacyActions(text: string): boolean {
  return text.includes('{{');
}

/**
 * Renders `text` in `ctx`. Parse errors and function errors come back as `{ error, offset }` with the offset
 * of the offending token in `text`; nothing throws for bad input.
 */
export function renderLegacy(text: string, ctx: LegacyContext): LegacyRenderResult {
  if (!hasLegacyActions(text)) return { value: text };
  const parsed = parseLegacyTemplate(text, isLegacyFunction);
  if (isParseFailure(parsed)) return parsed;
  return renderParsed(parsed, text, ctx);
}

/** Checks syntax and function names only (what `validate -syntax-only` does for JSON strings). */
export function checkLegacySyntax(text: string): { error: string; offset: number } | undefined {
  if (!hasLegacyActions(text)) return undefined;
  const parsed = parseLegacyTemplate(text, isLegacyFunction);
  return isParseFailure(parsed) ? parsed : undefined;
}
