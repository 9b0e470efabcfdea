/**
 * Steps a template could run on the agent's own host rather than in the VM it builds. `shell-local` (as a
 * provisioner or a post-processor) executes any command as the agent's user, with the agent's files within
 * reach: a build request is not a licence to run code on the build host, so the agent refuses such a job
 * unless its operator allowed it (`--allow-local-exec`). JSON templates are read properly; for HCL a scan of
 * the `.pkr.hcl` text for `provisioner "shell-local"` / `post-processor "shell-local"` blocks is enough here
 * (the block type is a literal label in HCL, it cannot be computed), without a full HCL parser on the agent.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCAL_EXEC_TYPES = ['shell-local'] as const;

type Step = { kind: 'provisioner' | 'post-processor'; type: string };

function jsonSteps(template: unknown): Step[] {
  if (typeof template !== 'object' || template === null) return [];
  const t = template as { provisioners?: unknown; 'post-processors'?: unknown };
  const steps: Step[] = [];
  for (const p of Array.isArray(t.provisioners) ? t.provisioners : []) {
    if (typeof p === 'object' && p !== null && typeof (p as { type?: unknown }).type === 'string') {
      steps.push({ kind: 'provisioner', type: (p as { type: string }).type });
    }
  }
  // A post-processor is a name, an object, or a sequence (array) of those.
  const visit = (pp: unknown): void => {
    if (typeof pp === 'string') steps.push({ kind: 'post-processor', type: pp });
    else if (Array.isArray(pp)) pp.forEach(visit);
    else if (typeof pp === 'object' && pp !== null && typeof (pp as { type?: unknown }).type === 'string') {
      steps.push({ kind: 'post-processor', type: (pp as { type: string }).type });
    }
  };
  visit(t['post-processors']);
  return steps;
}

const HCL_STEP = /\b(provisioner|post-processor)\s+"([^"]+)"/g;
function hclSteps(text: string): Step[] {
  return [...text.matchAll(HCL_STEP)].map((m) => ({ kind: m[1] as Step['kind'], type: m[2] as string }));
}

/** The local-execution steps of the template at `templatePath` (a file, or an HCL folder), as messages. */
export async function localExecSteps(format: 'json' | 'hcl', templatePath: string): Promise<string[]> {
  let steps: Step[];
  if (format === 'json') {
    steps = jsonSteps(JSON.parse(await readFile(templatePath, 'utf8')));
  } else {
    const files = (await stat(templatePath)).isDirectory()
      ? (await readdir(templatePath))
          .filter((f) => f.endsWith('.pkr.hcl') || f.endsWith('.pkr.json'))
          .map((f) => join(templatePath, f))
      : [templatePath];
    const found = await Promise.all(
      files.map(async (f) => {
        const text = await readFile(f, 'utf8');
        // HCL's JSON syntax nests the type as a key; any mention of the type there counts (conservative).
        if (f.endsWith('.pkr.json')) {
          return LOCAL_EXEC_TYPES.filter((t) => text.includes(`"${t}"`)).map((type) => ({
            kind: 'provisioner' as const,
            type,
          }));
        }
        return hclSteps(text);
      }),
    );
    steps = found.flat();
  }
  return steps
    .filter((s) => (LOCAL_EXEC_TYPES as readonly string[]).includes(s.type))
    .map((s) => `${s.kind} "${s.type}"`);
}
