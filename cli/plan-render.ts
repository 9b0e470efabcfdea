/** Rendering for `kiln plan`: one table row per build, then each build's steps and the staged files. */
import type { BuildPlan } from '../core/plan/types.ts';
import { cell } from './display.ts';
import { renderTable } from './table.ts';

export const PLAN_COLUMNS = [
  'BUILD',
  'DRIVER',
  'INSTANCE TYPE',
  'SOURCE',
  'AMI NAME',
  'REGIONS',
  'ECR REPOSITORY',
  'AGENT LABELS',
] as const;

/** One row per build; SOURCE is the source AMI for EC2 builds and the base image for Docker builds. */
export function planRows(plan: BuildPlan): string[][] {
  return plan.builds.map((b) => {
    const s = b.summary;
    return [
      b.name,
      b.driver,
      cell(s.instanceType),
      cell(s.sourceAmi ?? s.image),
      cell(s.amiName),
      cell(s.regions),
      cell(s.ecrRepository),
      cell(s.agentLabels),
    ];
  });
}

export function renderPlanText(plan: BuildPlan): string {
  const lines = [`Plan for ${plan.templatePath} (${plan.format === 'json' ? 'JSON' : 'HCL2'}):`, ''];
  let text = `${lines.join('\n')}\n${renderTable(PLAN_COLUMNS, planRows(plan))}`;
  for (const b of plan.builds) {
    const steps = b.provisioners.map((p) => p.type + (p.name ? ` (${p.name})` : ''));
    const chains = b.postProcessors.map((chain) => chain.map((pp) => pp.type).join(' -> '));
    text += `\n${b.name}: ${steps.length} provisioner(s)${steps.length ? `: ${steps.join(', ')}` : ''}`;
    if (chains.length) text += `; post-processors: ${chains.join('; ')}`;
  }
  if (plan.files.length > 0) {
    text += `\n\nFiles staged for the build (${plan.files.length}):\n`;
    text += plan.files.map((f) => `  ${f.relativePath}${f.size === undefined ? '' : ` (${f.size} bytes)`}`).join('\n');
  }
  return `${text}\n`;
}
