/** Diagnostics for component types Kiln has no schema for: other official Packer types, third-party, unknown. */
import { type Diagnostic, error, type SourceRange, warning } from '../template/diagnostics.ts';
import type { RequiredPlugin } from '../template/model.ts';
import { didYouMean } from '../template/suggest.ts';
import { pluginName, THIRD_PARTY } from './plugins.ts';
import type { ComponentKind, ComponentSpec } from './spec.ts';

export type Resolution<S extends ComponentSpec> =
  | { readonly status: 'kiln'; readonly spec: S }
  | { readonly status: 'official' }
  | { readonly status: 'third-party'; readonly source: string }
  | { readonly status: 'unknown' };

export function resolveComponent<S extends ComponentSpec>(
  kind: ComponentKind,
  type: string,
  specs: ReadonlyMap<string, S>,
  official: readonly string[],
): Resolution<S> {
  const spec = specs.get(type);
  if (spec) return { status: 'kiln', spec };
  if (official.includes(type)) return { status: 'official' };
  const source = Object.hasOwn(THIRD_PARTY[kind], type) ? THIRD_PARTY[kind][type] : undefined;
  if (source) return { status: 'third-party', source };
  return { status: 'unknown' };
}

export function unknownComponent(
  kind: ComponentKind,
  type: string,
  candidates: readonly string[],
  range?: SourceRange,
): Diagnostic {
  return error(
    `The ${kind} ${type} is unknown by Packer, and is likely part of a plugin that is not installed.`,
    didYouMean(type, candidates) ??
      'You may find the needed plugin along with installation instructions documented on the Packer integrations page.',
    range,
  );
}

/** Whether the template declares the plugin in `required_plugins` (then the agent's `packer init` installs it). */
export function declaresPlugin(requiredPlugins: readonly RequiredPlugin[], source: string): boolean {
  const name = pluginName(source).toLowerCase();
  return requiredPlugins.some((p) => p.source?.toLowerCase() === source.toLowerCase() || p.name.toLowerCase() === name);
}

export function thirdPartyComponent(
  kind: ComponentKind,
  type: string,
  source: string,
  requiredPlugins: readonly RequiredPlugin[],
  range?: SourceRange,
): Diagnostic {
  if (declaresPlugin(requiredPlugins, source)) {
    return warning(
      `The ${kind} ${type} comes from the third-party plugin ${source}`,
      `Kiln has no schema for it: the build runs on an agent, whose packer installs and checks the plugin.`,
      range,
    );
  }
  return error(
    `The ${kind} ${type} needs the third-party plugin ${source}, which is not installed`,
    `Packer does not include "${type}": install the plugin on the agent (packer plugins install ${source}) and declare it in required_plugins, or remove the ${kind}.`,
    range,
  );
}
