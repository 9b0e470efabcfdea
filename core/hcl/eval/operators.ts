/** Binary operators with HCL's conversions; unknown operands give an unknown result. */
import type { SourceRange } from '../../template/diagnostics.ts';
import { UnknownValue } from '../../template/model.ts';
import { deepEqual, fail, toBool, toNum, type Value } from './values.ts';

function unknownFrom(a: Value, b?: Value): UnknownValue | undefined {
  if (a instanceof UnknownValue) return a;
  if (b instanceof UnknownValue) return b;
  return undefined;
}

export function evalBinary(op: string, l: Value, r: Value, range: SourceRange): Value {
  if (op === '==' || op === '!=') {
    const u = unknownFrom(l, r);
    if (u) return u;
    const eq = deepEqual(l, r);
    return op === '==' ? eq : !eq;
  }
  const u = unknownFrom(l, r);
  if (u) return u;
  switch (op) {
    case '&&':
      return toBool(l, range) && toBool(r, range);
    case '||':
      return toBool(l, range) || toBool(r, range);
    case '+':
      return toNum(l, range) + toNum(r, range);
    case '-':
      return toNum(l, range) - toNum(r, range);
    case '*':
      return toNum(l, range) * toNum(r, range);
    case '/': {
      const d = toNum(r, range);
      if (d === 0) fail('Operation failed', "Error during operation: can't divide by zero.", range);
      return toNum(l, range) / d;
    }
    case '%': {
      const d = toNum(r, range);
      if (d === 0) fail('Operation failed', "Error during operation: can't use modulo by zero.", range);
      return toNum(l, range) % d;
    }
    case '<':
      return toNum(l, range) < toNum(r, range);
    case '>':
      return toNum(l, range) > toNum(r, range);
    case '<=':
      return toNum(l, range) <= toNum(r, range);
    case '>=':
      return toNum(l, range) >= toNum(r, range);
    default:
      return fail('Invalid operator', `Unsupported operator "${op}".`, range);
  }
}
