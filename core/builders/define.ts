/** A builder spec: a component spec (the schema kit) plus what only builders have, their driver and summary. */
import type * as z from 'zod';
import { type ComponentOptions, defineComponent } from '../schema/define.ts';
import type { ConfigOf } from '../schema/fields.ts';
import type { ComponentSpec } from '../schema/spec.ts';
import type { Config } from '../template/model.ts';
import type { BuildSummary, Driver } from './driver.ts';

export interface BuilderSpec<T extends string = string, C extends Config = Config> extends ComponentSpec<T, C> {
  readonly kind: 'builder';
  readonly driver: Driver;
  readonly summarize: (config: C) => BuildSummary;
}

export interface BuilderOptions<T extends string, S extends z.ZodRawShape> extends ComponentOptions<T, S> {
  readonly driver: Driver;
  readonly summarize: (config: ConfigOf<S>) => BuildSummary;
}

export function defineBuilder<const T extends string, S extends z.ZodRawShape>(
  options: BuilderOptions<T, S>,
): BuilderSpec<T, ConfigOf<S>> {
  return {
    ...defineComponent('builder', options),
    kind: 'builder',
    driver: options.driver,
    summarize: options.summarize,
  };
}
