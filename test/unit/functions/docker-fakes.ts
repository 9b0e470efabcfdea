/**
 * Fixtures for the ec2-docker stage tests: a stored plan of a docker build made by the real engine (loadTemplate
 * and planTemplate under the pipeline's options, as PrepareBuild runs them) from the reference template
 * examples/docker-python-app.json or a variant of it, and a docker build state at each phase.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { planTemplate } from '../../../core/plan/plan.ts';
import type { StagedBuildContext } from '../../../core/plan/types.ts';
import { hasErrors } from '../../../core/template/diagnostics.ts';
import { loadTemplate } from '../../../core/validation/load.ts';
import { pipelineLoadOptions, pipelinePlanOptions } from '../../../core/validation/pipeline.ts';
import type { Ec2DockerState } from '../../../functions/lib/build-state.ts';
import type { StoredPlan } from '../../../functions/lib/plan-store.ts';
import { PLAN_KEY } from './fakes.ts';

export const REFERENCE = new URL('../../../examples/docker-python-app/docker-python-app.json', import.meta.url)
  .pathname;
const NOW = new Date('2026-01-01T00:00:00.000Z');

/** What PrepareBuild records for the reference template's context (requirements, app, tests, the wheel). */
export const CONTEXT: StagedBuildContext = {
  key: 'builds/kb-test/files/.kiln/build-context.tar.gz',
  files: 5,
  bytes: 2048,
  sha256: 'a'.repeat(64),
};

async function plan(path: string): Promise<StoredPlan['plan']> {
  const root = dirname(path);
  const loaded = await loadTemplate(path, pipelineLoadOptions(root, { now: NOW }));
  if (!loaded.template || hasErrors(loaded.diagnostics)) {
    throw new Error(`the test template does not load: ${JSON.stringify(loaded.diagnostics)}`);
  }
  return planTemplate(loaded.template, pipelinePlanOptions(root, NOW));
}

/**
 * The stored plan text of `template` (the reference when absent): written to a scratch folder with `files`
 * beside it, planned, the build context recorded on its docker builds unless `context` is false.
 */
export async function dockerPlanText(
  template?: unknown,
  opts: { readonly files?: Record<string, string>; readonly context?: boolean } = {},
): Promise<string> {
  let planned: StoredPlan['plan'];
  if (template === undefined) planned = await plan(REFERENCE);
  else {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-docker-plan-'));
    try {
      const path = join(dir, 'app.json');
      writeFileSync(path, JSON.stringify(template));
      for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
      planned = await plan(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const withContext = opts.context ?? true;
  const stored: StoredPlan = {
    version: 1,
    buildId: 'kb-test',
    executionName: 'exec-1',
    template: { bucket: 'kiln-templates', key: 'templates/docker-python-app.zip', versionId: 'v1' },
    plan: {
      ...planned,
      builds: planned.builds.map((b) =>
        b.driver === 'ec2-docker' && withContext ? { ...b, buildContext: CONTEXT } : b,
      ),
    },
    createdAt: NOW.toISOString(),
  };
  // Through JSON, as the stages read it from S3.
  return JSON.stringify(stored);
}

/** The reference template as JSON, to derive variants from. */
export function referenceTemplate(): {
  builders: Record<string, unknown>[];
  provisioners: Record<string, unknown>[];
  'post-processors': unknown[];
} {
  return {
    builders: [{ type: 'docker', image: 'python:3.9-slim', commit: true }],
    provisioners: [
      { type: 'shell', inline: ['pip install -r requirements.txt', 'python -m unittest discover tests/'] },
    ],
    'post-processors': [{ type: 'docker-tag', repository: 'my-python-app', tag: '' }],
  };
}

/** A docker build state before launch. */
export function dockerBaseState(over: Partial<Ec2DockerState> = {}): Ec2DockerState {
  return {
    buildId: 'kb-test',
    executionName: 'exec-1',
    planKey: PLAN_KEY,
    index: 0,
    name: 'docker',
    driver: 'ec2-docker',
    pushed: [],
    created: [],
    ...over,
  };
}

/** A docker build state with its host launched, the cursor at `index` of `count` host steps. */
export function dockerHostState(index: number, count = 3, over: Partial<Ec2DockerState> = {}): Ec2DockerState {
  return dockerBaseState({
    region: 'us-east-1',
    instanceId: 'i-0dkr',
    launchedAt: NOW.toISOString(),
    provision: { index, count, attempt: 0 },
    created: [{ kind: 'instance', region: 'us-east-1', id: 'i-0dkr' }],
    ...over,
  });
}
