/** Builds a component spec from a zod shape and its rules, so each component module stays declarative. */
import * as z from 'zod';
import type { Config } from '../template/model.ts';
import { type ConfigOf, hclField, optionalShape } from './fields.ts';
import {
  type ComponentKind,
  type ComponentSpec,
  decodeComponent,
  type Finding,
  type HclShape,
  type ValidateContext,
  validateComponent,
} from './spec.ts';

export interface ComponentOptions<T extends string = string, S extends z.ZodRawShape = z.ZodRawShape> {
  readonly type: T;
  readonly shape: S;
  readonly removedKeys?: readonly string[];
  readonly rules?: (config: Config, ctx: ValidateContext) => Finding[];
}

/** Blocks are the kit's `block`/`blockList` fields, arguments every other typed field. */
export function hclShapeOf(shape: z.ZodRawShape): HclShape {
  const blocks = new Set<string>();
  const attributes = new Set<string>();
  for (const [key, schema] of Object.entries(shape)) {
    const field = hclField(schema);
    if (field) ('block' in field ? blocks : attributes).add(key);
  }
  return { blocks, attributes };
}

/** The spec's decoded configuration type is `ConfigOf` the shape: one description validates, decodes and types. */
export function defineComponent<const T extends string, S extends z.ZodRawShape>(
  kind: ComponentKind,
  options: ComponentOptions<T, S>,
): ComponentSpec<T, ConfigOf<S>> {
  const schema = z.looseObject(optionalShape(options.shape));
  const def = { ...options, kind, schema };
  return {
    type: options.type,
    kind,
    keys: Object.keys(options.shape),
    validate: (config, keyRanges, ctx) => validateComponent(def, config, keyRanges, ctx),
    decode: (config, format) => decodeComponent(def, config, format) as ConfigOf<S>,
    hclShape: hclShapeOf(options.shape),
  };
}

/**
 * Decodes by a shape outside any component (a data source's arguments, always HCL), by the same rules as
 * `decode`: a configuration the shape does not validate is returned as written (its validator reported it).
 */
export function decoderFor<S extends z.ZodRawShape>(shape: S): (config: Config) => ConfigOf<S> {
  const def = { type: 'arguments', kind: 'builder' as const, shape, schema: z.looseObject(optionalShape(shape)) };
  return (config) => decodeComponent(def, config, 'hcl') as ConfigOf<S>;
}
