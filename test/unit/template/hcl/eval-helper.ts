/** Test helper: evaluates one HCL expression (as the attribute `x`) with the real function table. */

import type { EvalContext } from '../../../../core/hcl/eval/context.ts';
import { evaluate } from '../../../../core/hcl/eval/evaluate.ts';
import { HclEvalError, type Value } from '../../../../core/hcl/eval/values.ts';
import { hclFunctions } from '../../../../core/hcl/functions/index.ts';
import { parseFile } from '../../../../core/hcl/syntax/parse-file.ts';

export const NOW = new Date('2024-01-02T03:04:05Z');

export function testContext(vars: Record<string, Value> = {}, baseDir = '/nonexistent'): EvalContext {
  return {
    roots: new Map(Object.entries(vars)),
    functions: hclFunctions(),
    environment: { cwd: baseDir, baseDir, readFile: () => undefined, now: () => NOW, env: { HOME: '/home/kiln' } },
  };
}

export async function evalExpr(src: string, vars: Record<string, Value> = {}, ctx?: EvalContext): Promise<Value> {
  const parsed = await parseFile('expr.pkr.hcl', `x = ${src}\n`);
  const syntax = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (syntax.length > 0) throw new Error(`syntax: ${syntax.map((d) => `${d.summary} ${d.detail ?? ''}`).join('; ')}`);
  const attr = parsed.body?.attributes[0];
  if (!attr) throw new Error('no attribute parsed');
  return evaluate(attr.expr, ctx ?? testContext(vars));
}

/** The diagnostic an expression fails with (summary + detail), or undefined if it evaluates. */
export async function evalError(
  src: string,
  vars: Record<string, Value> = {},
): Promise<{ summary: string; detail: string; line?: number; column?: number } | undefined> {
  try {
    await evalExpr(src, vars);
    return undefined;
  } catch (e) {
    if (!(e instanceof HclEvalError)) throw e;
    const d = e.diagnostic;
    return {
      summary: d.summary,
      detail: d.detail ?? '',
      ...(d.range ? { line: d.range.start.line, column: d.range.start.column } : {}),
    };
  }
}
