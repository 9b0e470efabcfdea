/** A builder spec: a component spec (the schema kit) plus what only builders have, their driver and summary. */
import { type ComponentOptions, defineComponent } from '../schema/define.ts';
import type { ComponentSpec } from '../schema/spec.ts';
import type { Config } from '../template/model.ts';
import type { BuildSummary, Driver } from './driver.ts';

export interface BuilderSpec extends ComponentSpec {
  readonly kind: 'builder';
  readonly driver: Driver;
  readonly summarize: (config: Config) => BuildSummary;
}

export interface BuilderOptions extends ComponentOptions {
  readonly driver: Driver;
  readonly summarize: (config: Config) => BuildSummary;
}

export function defineBuilder(options: BuilderOptions): BuilderSpec {
  return {
    ...defineComponent('builder', options),
    kind: 'builder',
    driver: options.driver,
    summarize: options.summarize,
  };
}
