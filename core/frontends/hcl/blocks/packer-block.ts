/** The `packer` block: required_version (checked against Kiln's Packer compatibility version) and required_plugins. */

import type { EvalContext } from '../../../hcl/eval/context.ts';
import { isObject } from '../../../hcl/eval/values.ts';
import type { Block } from '../../../hcl/syntax/ast.ts';
import { type Diagnostic, error } from '../../../template/diagnostics.ts';
import type { RequiredPlugin } from '../../../template/model.ts';
import { evalAttr } from './config-body.ts';
import { checkAttributes } from './schema-check.ts';

function parseVersion(v: string): number[] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** hashicorp/go-version constraints: `>= 1.7, < 2`, `~> 1.2.0`, `= 1.9.4`, `!= 1.8`. */
export function satisfies(version: string, constraints: string): boolean | undefined {
  const v = parseVersion(version);
  if (!v) return undefined;
  for (const raw of constraints.split(',')) {
    const m = /^\s*(>=|<=|!=|~>|=|>|<)?\s*(v?\d+(?:\.\d+){0,2}\S*)\s*$/.exec(raw);
    if (!m) return undefined;
    const op = m[1] ?? '=';
    const want = parseVersion(m[2] as string) as number[];
    const c = cmp(v, want);
    const parts = (m[2] as string).replace(/^v/, '').split('.').length;
    const ok =
      op === '>='
        ? c >= 0
        : op === '<='
          ? c <= 0
          : op === '>'
            ? c > 0
            : op === '<'
              ? c < 0
              : op === '!='
                ? c !== 0
                : op === '~>'
                  ? c >= 0 &&
                    (parts <= 1 ? true : parts === 2 ? v[0] === want[0] : v[0] === want[0] && v[1] === want[1])
                  : c === 0;
    if (!ok) return false;
  }
  return true;
}

export interface PackerBlockResult {
  requiredVersion?: string;
  requiredPlugins: RequiredPlugin[];
}

export function evalPackerBlocks(
  blocks: readonly Block[],
  packerVersion: string,
  ctx: EvalContext,
  diagnostics: Diagnostic[],
): PackerBlockResult {
  const result: PackerBlockResult = { requiredPlugins: [] };
  for (const b of blocks) {
    checkAttributes(b.body, new Set(['required_version']), new Set(['required_plugins']), diagnostics);
    const rv = b.body.attributes.find((a) => a.name === 'required_version');
    if (rv) {
      const v = evalAttr(rv.expr, ctx, diagnostics);
      if (typeof v === 'string') {
        result.requiredVersion = v;
        const ok = satisfies(packerVersion, v);
        if (ok === undefined)
          diagnostics.push(
            error('Invalid version constraint', `"${v}" is not a valid version constraint.`, rv.expr.range),
          );
        else if (!ok) {
          diagnostics.push(
            error(
              'Unsupported Packer Core version',
              `This configuration does not support Packer version ${packerVersion}. To proceed, either choose another supported Packer version or update this version constraint. Version constraints are normally set for good reason, so updating the constraint may lead to other errors or unexpected behavior.`,
              rv.expr.range,
            ),
          );
        }
      }
    }
    for (const rp of b.body.blocks.filter((x) => x.type === 'required_plugins')) {
      for (const a of rp.body.attributes) {
        const v = evalAttr(a.expr, ctx, diagnostics);
        if (!isObject(v)) {
          diagnostics.push(
            error(
              'Invalid required_plugins entry',
              `The plugin "${a.name}" must be an object with "source" and "version".`,
              a.expr.range,
            ),
          );
          continue;
        }
        result.requiredPlugins.push({
          name: a.name,
          ...(typeof v.source === 'string' ? { source: v.source } : {}),
          ...(typeof v.version === 'string' ? { version: v.version } : {}),
          range: a.range,
        });
      }
    }
  }
  return result;
}
