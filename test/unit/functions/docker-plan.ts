/**
 * A stored plan of a docker build planned the way PrepareBuild plans it (the real loader and planner on a template
 * file), and its ec2-docker build state after the builder host launched. For RecordImages and the ECR tests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planTemplate } from '../../../core/plan/plan.ts';
import { loadTemplate } from '../../../core/validation/load.ts';
import type { Ec2DockerState } from '../../../functions/lib/build-state.ts';
import type { StoredPlan } from '../../../functions/lib/plan-store.ts';

export async function storedDockerPlan(template: object, buildId = 'kb-test'): Promise<StoredPlan> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-docker-plan-'));
  writeFileSync(join(dir, 'app.json'), JSON.stringify(template));
  const loaded = await loadTemplate(join(dir, 'app.json'), { cwd: dir, env: {} });
  if (!loaded.template || loaded.diagnostics.length > 0) {
    throw new Error(`the docker test template does not load: ${JSON.stringify(loaded.diagnostics)}`);
  }
  return {
    version: 1,
    buildId,
    executionName: 'exec-1',
    template: { bucket: 'templates', key: 'templates/app.json', versionId: 'v1' },
    createdAt: '2026-01-01T00:00:00.000Z',
    plan: planTemplate(loaded.template, { now: new Date(0) }),
  };
}

export function dockerState(planKey: string, over: Partial<Ec2DockerState> = {}): Ec2DockerState {
  return {
    buildId: 'kb-test',
    executionName: 'exec-1',
    planKey,
    index: 0,
    name: 'docker',
    driver: 'ec2-docker',
    region: 'us-east-1',
    instanceId: 'i-0abc',
    pushed: [],
    created: [{ kind: 'instance', region: 'us-east-1', id: 'i-0abc' }],
    ...over,
  };
}
