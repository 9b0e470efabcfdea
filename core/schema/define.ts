/** Builds a component spec from a zod shape and its rules, so each component module stays declarative. */
import * as z from 'zod';
import type { Config } from '../template/model.ts';
import { hclField, optionalShape } from './fields.ts';
import {
  type ComponentKind,
  type ComponentSpec,
  decodeComponent,
  type Finding,
  type HclShape,
  type ValidateContext,
  validateComponent,
} from './spec.ts';

export interface ComponentOptions {
  readonly type: string;
  readonly shape: z.ZodRawShape;
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

export function defineComponent(kind: ComponentKind, options: ComponentOptions): ComponentSpec {
  const schema = z.looseObject(optionalShape(options.shape));
  const def = { ...options, kind, schema };
  return {
    type: options.type,
    kind,
    keys: Object.keys(options.shape),
    validate: (config, keyRanges, ctx) => validateComponent(def, config, keyRanges, ctx),
    decode: (config, format) => decodeComponent(def, config, format),
    hclShape: hclShapeOf(options.shape),
  };
}
