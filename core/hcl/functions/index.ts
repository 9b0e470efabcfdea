/**
 * Packer 1.16's HCL2 function table (112 names with `try`, `can` and `convert`, which the evaluator handles itself:
 * lazy arguments, type argument).
 *
 * Partly implemented:
 * - bcrypt: bcryptjs, within the step budget (see crypto.ts).
 * - aws_secretsmanager, aws_secretsmanager_raw: always UnknownValue while loading (secrets are read at run time
 *   through the resolvers, never during validation).
 * - vault, consul_key: an error naming VAULT_ADDR / CONSUL_HTTP_ADDR unless the environment sets it, then
 *   UnknownValue (nothing contacts a network while loading).
 * cidrnetmask is IPv4-only, as in Terraform; the other cidr functions take IPv4 and IPv6.
 * env is only in variableDefaultFunctions(): Packer allows it in variable `default` values alone.
 * Kiln extras: filebase64, base64sha256/512, one, sum,
 * alltrue/anytrue, strcontains.
 */
import type { FunctionDef } from '../eval/context.ts';
import { collectionFunctions } from './collection.ts';
import { conversionFunctions, envFunction } from './conversion.ts';
import { cryptoFunctions } from './crypto.ts';
import { datetimeFunctions } from './datetime.ts';
import { encodingFunctions } from './encoding.ts';
import { filesystemFunctions } from './filesystem.ts';
import { networkFunctions } from './network.ts';
import { numericFunctions } from './numeric.ts';
import { stringFunctions } from './string.ts';

/** Names the evaluator implements itself; listed so did-you-mean suggestions include them. */
export const SPECIAL_FUNCTIONS = ['try', 'can', 'convert'] as const;

let table: ReadonlyMap<string, FunctionDef> | undefined;

export function hclFunctions(): ReadonlyMap<string, FunctionDef> {
  table ??= new Map(
    Object.entries({
      ...stringFunctions,
      ...collectionFunctions,
      ...numericFunctions,
      ...encodingFunctions,
      ...cryptoFunctions,
      ...datetimeFunctions,
      ...filesystemFunctions,
      ...conversionFunctions,
      ...networkFunctions,
    }),
  );
  return table;
}

let withEnv: ReadonlyMap<string, FunctionDef> | undefined;

/** The table for variable `default` expressions: everything plus env(). */
export function variableDefaultFunctions(): ReadonlyMap<string, FunctionDef> {
  withEnv ??= new Map([...hclFunctions(), ...Object.entries(envFunction)]);
  return withEnv;
}
