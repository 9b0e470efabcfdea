/** Builds a component spec from a zod shape and its rules, so each component module stays declarative. */
import * as z from 'zod';
import type { Config } from '../template/model.ts';
import { optionalShape } from './fields.ts';
import {
  type ComponentKind,
  type ComponentSpec,
  decodeComponent,
  type Finding,
  type ValidateContext,
  validateComponent,
} from './spec.ts';

export interface ComponentOptions {
  readonly type: string;
  readonly shape: z.ZodRawShape;
  readonly removedKeys?: readonly string[];
  readonly rules?: (config: Config, ctx: ValidateContext) => Finding[];
}

export function defineComponent(kind: ComponentKind, options: ComponentOptions): ComponentSpec {
  const schema = z.looseObject(optionalShape(options.shape));
  const def = { ...options, kind, schema };
  return {
    type: options.type,
    kind,
    keys: Object.keys(options.shape),
    validate: (config, keyRanges, ctx) => validateComponent(def, config, keyRanges, ctx),
    decode: (config) => decodeComponent(def, config),
  };
}
