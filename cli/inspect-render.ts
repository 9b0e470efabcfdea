/**
 * Rendering for `kiln inspect`: what a template declares, like `packer inspect`: variables (sensitive values shown as
 * `<sensitive>`), builds, provisioners in run order and post-processor chains. Only sensitive *values*
 * are redacted, never labels (Packer 1.6.6 masks matching characters anywhere in its output).
 */
import type { Template } from '../core/template/model.ts';
import { displayValue, redactText, SENSITIVE } from './display.ts';
import { machineLine } from './machine-readable.ts';

/** One event of the inspect output; rendered either as text or as machine-readable lines. */
export type InspectEvent =
  | { readonly kind: 'say'; readonly text: string }
  | { readonly kind: 'data'; readonly type: string; readonly target?: string; readonly data: readonly string[] };

function variableValue(template: Template, sensitive: boolean, value: unknown): string {
  if (sensitive) return SENSITIVE;
  return redactText(displayValue(value), template.sensitiveValues);
}

export function inspectEvents(template: Template): InspectEvent[] {
  const events: InspectEvent[] = [];
  const say = (text: string) => events.push({ kind: 'say', text });
  say(`Kiln Inspect: ${template.format === 'json' ? 'JSON' : 'HCL2'} mode`);

  const required = template.variables.filter((v) => v.required && v.value === undefined);
  const optional = template.variables.filter((v) => !(v.required && v.value === undefined));
  if (template.variables.length === 0) {
    say('Variables:\n');
    say('  <No variables>');
  }
  if (required.length > 0) {
    say('Required variables:\n');
    for (const v of required) {
      events.push({ kind: 'data', type: 'template-variable', data: [v.name, '', '1'] });
      say(`  ${v.name}`);
    }
    say('');
  }
  if (optional.length > 0) {
    say('Optional variables and their defaults:\n');
    const width = Math.max(...optional.map((v) => v.name.length));
    for (const v of optional) {
      const value = variableValue(template, v.sensitive, v.value);
      events.push({ kind: 'data', type: 'template-variable', data: [v.name, value, '0'] });
      say(`  ${v.name.padEnd(width)} = ${value}`);
    }
  }
  say('');

  say('Builds:\n');
  if (template.builds.length === 0) say('  <No builds>');
  const width = Math.max(0, ...template.builds.map((b) => b.name.length));
  for (const build of template.builds) {
    events.push({ kind: 'data', type: 'template-builder', data: [build.name, build.builderType] });
    const suffix = build.name === build.builderType ? '' : `  (${build.builderType})`;
    say(`  ${build.name.padEnd(width)}${suffix}`.trimEnd());
  }
  say('');

  for (const build of template.builds) {
    say(`Build ${build.name}:\n`);
    say('  Provisioners:');
    if (build.provisioners.length === 0) say('    <none>');
    for (const p of build.provisioners) {
      events.push({ kind: 'data', type: 'template-provisioner', target: build.name, data: [p.type] });
      say(`    ${p.type}${p.name ? ` (${p.name})` : ''}`);
    }
    if (build.errorCleanupProvisioner) {
      say(`    error-cleanup-provisioner: ${build.errorCleanupProvisioner.type}`);
    }
    say('  Post-processors:');
    if (build.postProcessors.length === 0) say('    <none>');
    build.postProcessors.forEach((chain, i) => {
      for (const pp of chain) {
        events.push({ kind: 'data', type: 'template-post-processor', target: build.name, data: [String(i), pp.type] });
      }
      say(`    ${i}: ${chain.map((pp) => pp.type + (pp.name ? ` (${pp.name})` : '')).join(' -> ')}`);
    });
    say('');
  }
  return events;
}

export function renderInspectText(events: readonly InspectEvent[]): string {
  return events
    .filter((e): e is Extract<InspectEvent, { kind: 'say' }> => e.kind === 'say')
    .map((e) => `${e.text}\n`)
    .join('');
}

export function renderInspectMachine(events: readonly InspectEvent[], now: Date): string {
  return events
    .map((e) =>
      e.kind === 'say'
        ? machineLine(now, '', 'ui', 'say', e.text)
        : machineLine(now, e.target ?? '', e.type, ...e.data),
    )
    .join('');
}
