/**
 * HCL's decoding of a component configuration: every option the schema knows is converted to the type of its
 * HCL2 spec by cty's rules (core/hcl/eval/types.ts `convertValue`), as Packer's hcldec does before the
 * plugin sees it. `inline = "echo"` where the spec wants `list(string)` fails here ("list of string required"),
 * where legacy JSON's weak decoding (decode.ts) would make a list of one. Converted values then meet the field
 * kinds (fields.ts), which accept everything cty produces. Nested blocks are converted field by field.
 */
import { convertValue } from '../hcl/eval/types.ts';
import type { Value } from '../hcl/eval/values.ts';
import { type Config, isUnknown } from '../template/model.ts';
import { hclField } from './fields.ts';

export interface HclProblem {
  /** The top-level option the problem is under (where the diagnostic points). */
  readonly key: string;
  /** The attribute HCL names: the option itself, or the attribute inside its nested block. */
  readonly attribute: string;
  readonly message: string;
}

export interface HclDecoded {
  /** The configuration with each convertible option converted; options with a problem are left out. */
  readonly config: Config;
  readonly problems: readonly HclProblem[];
}

type Shape = Readonly<Record<string, unknown>>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isUnknown(v);
}

function convertBody(
  shape: Shape,
  body: Record<string, unknown>,
  top: string | undefined,
  problems: HclProblem[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const field = Object.hasOwn(shape, key) ? hclField(shape[key]) : undefined;
    if (!field) {
      out[key] = value;
      continue;
    }
    const at = top ?? key;
    if ('type' in field) {
      const r = convertValue(value as Value, field.type);
      if (r.ok) out[key] = r.value;
      else problems.push({ key: at, attribute: key, message: r.message });
      continue;
    }
    // A nested block: one object, or the list of objects the HCL front end makes of repeated blocks.
    const inner = (v: unknown) => (isPlainObject(v) ? convertBody(field.block, v, at, problems) : v);
    out[key] = Array.isArray(value) ? value.map(inner) : inner(value);
  }
  return out;
}

export function decodeHcl(shape: Shape, config: Config): HclDecoded {
  const problems: HclProblem[] = [];
  const converted = convertBody(shape, config, undefined, problems);
  const bad = new Set(problems.map((p) => p.key));
  return {
    config: Object.fromEntries(Object.entries(converted).filter(([k]) => !bad.has(k))) as Config,
    problems,
  };
}

/** Packer's wording (hcldec's AttrSpec): `Inappropriate value for attribute "inline": list of string required.` */
export function hclProblemDetail(p: HclProblem): string {
  return `Inappropriate value for attribute "${p.attribute}": ${p.message}.`;
}
