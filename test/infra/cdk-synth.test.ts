import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KILN_FUNCTIONS } from '../../functions/registry.ts';
import { BANNER } from '../../infra/bundle-recipe.ts';
import { PROJECT_ROOT } from '../../infra/kiln-app.ts';
import { FIXTURE_FUNCTIONS } from '../fixtures/infra/registry.ts';

const run = promisify(execFile);

// The real CLI, as CI and users run it: the tsx app entry, context flags, cdk-nag as a validation plugin (any
// finding makes the command fail), then cfn-lint on what it wrote. Node 22 from node_modules/.bin first on PATH.
const env = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  PATH: `${join(PROJECT_ROOT, 'node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}`,
};
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** `npx cdk synth` into a fresh folder; `app` undefined means cdk.json's app (the real one). */
async function cdkSynth(app: string | undefined, context: string[]): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'kiln-synth-'));
  outdirs.push(outdir);
  const args = ['cdk', 'synth', ...(app ? ['--app', app] : []), '-o', outdir, '--no-notices', '-q'];
  for (const entry of context) args.push('-c', entry);
  await run('npx', args, { cwd: PROJECT_ROOT, env, maxBuffer: 32 * 1024 * 1024 });
  return outdir;
}

// Timeouts leave room for a loaded 2-core machine: alone the real synth takes ~40 s, beside a full test run 3 min.
describe('cdk synth (real CLI)', () => {
  it('synthesizes the real app (registry, statemachines/) without bundling, passes cdk-nag and cfn-lint', async () => {
    const outdir = await cdkSynth(undefined, ['kiln:skipBundling=true']);
    const templatePath = join(outdir, 'Kiln.template.json');
    const template = JSON.parse(readFileSync(templatePath, 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(KILN_FUNCTIONS.length);
    expect(types.filter((t) => t === 'AWS::StepFunctions::StateMachine').length).toBeGreaterThanOrEqual(1);
    expect(types.filter((t) => t.startsWith('Custom::'))).toEqual([]);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; conclusion: string }>;
    };
    // A cdk-nag finding would have failed the command above; the report lists no failed plugin either.
    expect(report.pluginReports.filter((r) => r.conclusion !== 'success')).toEqual([]);
    const lint = await run('cfn-lint', ['--ignore-checks', 'W3005', '--', templatePath], { env }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? '', code: error.code }),
    );
    expect(lint.stdout).toBe('');
  }, 360_000);

  it('bundles every function with esbuild into a runnable ESM file that keeps class names', async () => {
    // The fixture app: small handlers this test can run after bundling.
    const outdir = await cdkSynth('npx tsx test/fixtures/infra/fixture-app.ts', [
      'kiln:stateMachinesDir=test/fixtures/infra/statemachines',
    ]);
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(FIXTURE_FUNCTIONS.length);
    for (const asset of assets) {
      const code = readFileSync(join(outdir, asset, 'index.mjs'), 'utf8');
      // The recipe's banner (require, __dirname for CommonJS dependencies) opens every bundle.
      expect(code.startsWith(BANNER)).toBe(true);
      expect(readdirSync(join(outdir, asset)).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const mod = (await import(pathToFileURL(join(outdir, asset, 'index.mjs')).href)) as {
        handler: (event: { fail?: boolean }) => Promise<{ ok: boolean; fn: string }>;
        FixtureFailedError: { name: string };
      };
      const result = await mod.handler({});
      expect(result.ok).toBe(true);
      expect(FIXTURE_FUNCTIONS.map((f) => f.dir)).toContain(result.fn);
      // keepNames: minified classes keep their names (Step Functions matches errors by name).
      expect(mod.FixtureFailedError.name).toBe('FixtureFailedError');
      await expect(mod.handler({ fail: true })).rejects.toMatchObject({ name: 'Kiln.Transient' });
    }
  }, 360_000);
});
