/** Type conversion functions (`convert` itself is in the evaluator: its second argument is a type, not a value). */
import { UnknownValue } from '../../template/model.ts';
import type { FunctionDef } from '../eval/context.ts';
import { convertValue, type TypeSpec } from '../eval/types.ts';
import { fail, type Value } from '../eval/values.ts';
import { argError, type FunctionTable, fixed, str } from './helpers.ts';

function converter(type: TypeSpec, label: string): FunctionDef {
  return fixed(1, (a, c) => {
    const r = convertValue(a[0] as Value, type);
    if (!r.ok)
      fail(
        'Invalid function argument',
        `Invalid value for "v" parameter: cannot convert to ${label}: ${r.message}.`,
        c.argRanges[0],
      );
    return r.value;
  });
}

/**
 * vault(path, key) and consul_key(key) read a secret store at build time. Offline nothing is contacted, and
 * Packer's clients find their store through VAULT_ADDR / CONSUL_HTTP_ADDR: without one the template cannot build,
 * which is said here with the variable to set; with one the value stays unknown until run time.
 */
function secretStore(name: string, arity: number, store: string, variable: string): FunctionDef {
  return {
    min: arity,
    acceptsUnknown: true,
    impl: (a, c) => {
      a.forEach((v, i) => {
        if (!(v instanceof UnknownValue)) str(a, i, c);
      });
      const address = c.ctx.environment.env[variable];
      if (address === undefined || address === '')
        fail(
          'Error in function call',
          `Call to function "${name}" failed: it needs a ${store} address (${variable}), and none is configured: set ${variable} in the build's environment, or read the secret through a variable.`,
          c.range,
        );
      if (a.some((v) => v instanceof UnknownValue)) return new UnknownValue(`${name}(...)`);
      if (a.some((v) => v === '')) argError(c, a.indexOf(''), 'must not be empty.');
      return new UnknownValue(`${name}(${a.map((x) => JSON.stringify(x)).join(', ')})`);
    },
  };
}

function unknownOf(what: string): FunctionDef {
  return {
    min: 1,
    max: 'variadic',
    acceptsUnknown: true,
    impl: (a) => new UnknownValue(`${what}(${a.map((x) => JSON.stringify(x)).join(', ')})`),
  };
}

export const conversionFunctions: FunctionTable = {
  tostring: converter({ kind: 'string' }, 'string'),
  tonumber: converter({ kind: 'number' }, 'number'),
  tobool: converter({ kind: 'bool' }, 'bool'),
  tolist: converter({ kind: 'list', elem: { kind: 'any' } }, 'list'),
  toset: fixed(1, (a, c) => {
    const r = convertValue(a[0] as Value, { kind: 'set', elem: { kind: 'any' } });
    if (!r.ok)
      fail(
        'Invalid function argument',
        `Invalid value for "v" parameter: cannot convert to set: ${r.message}.`,
        c.argRanges[0],
      );
    const items = r.value as Value[];
    return items.filter((x, i) => items.findIndex((y) => JSON.stringify(y) === JSON.stringify(x)) === i);
  }),
  tomap: converter({ kind: 'map', elem: { kind: 'any' } }, 'map'),
  sensitive: { min: 1, acceptsUnknown: true, impl: (a) => a[0] as Value },
  nonsensitive: { min: 1, acceptsUnknown: true, impl: (a) => a[0] as Value },
  // Secret stores are read at run time (resolvers), never while evaluating offline.
  aws_secretsmanager: unknownOf('aws_secretsmanager'),
  aws_secretsmanager_raw: unknownOf('aws_secretsmanager_raw'),
  vault: secretStore('vault', 2, 'Vault', 'VAULT_ADDR'),
  consul_key: secretStore('consul_key', 1, 'Consul', 'CONSUL_HTTP_ADDR'),
};

/**
 * env() exists only while evaluating variable `default` values, as in Packer (its variables are decoded with an
 * evaluation context holding env alone); anywhere else it is an unknown function.
 */
export const envFunction: FunctionTable = {
  env: fixed(1, (a, c) => {
    const name = a[0];
    if (typeof name !== 'string') fail('Invalid function argument', 'env() expects a string.', c.argRanges[0]);
    return c.ctx.environment.env[name] ?? '';
  }),
};
