/** A synthesized cloud assembly as the harness uses it: the one stack's template and asset manifest. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CloudAssembly {
  readonly dir: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly assetsFile: string;
  /** Whether this call synthesized (false: served from the cache). */
  readonly fresh: boolean;
  /**
   * Registry id → the function's bundled asset folder (index.mjs), laid out with the runtime's AWS SDK beside it.
   * Absent for a fixture registry synthesized without bundling.
   */
  readonly bundles?: ReadonlyMap<string, string>;
}

export function locateStack(dir: string): { stackName: string; templateFile: string; assetsFile: string } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  if (stacks.length !== 1) throw new Error(`synth: expected one stack, found ${stacks.map(([n]) => n).join(', ')}`);
  const [stackName, artifact] = stacks[0] as [string, { properties?: { templateFile?: string } }];
  return {
    stackName,
    templateFile: join(dir, artifact.properties?.templateFile ?? `${stackName}.template.json`),
    assetsFile: join(dir, `${stackName}.assets.json`),
  };
}
