/**
 * What code a local Lambda execution environment runs: the one place that decides it (`entryFor`).
 *
 * - `bundles`: the esbuild bundle `cdk synth` staged for the function (its asset folder's `index.mjs`, found by
 *   the template's `aws:asset:path`), run as the nodejs22.x runtime runs it: the asset folder as the task root
 *   and working directory, the AWS SDK the runtime provides beside it (lambda-sandbox.ts), no loader, source maps
 *   on. Production paths (`npm start`, the real-pipeline integration tests) only ever run these.
 * - `fixture-sources`: TypeScript handlers of a test fixture registry through tsx, for the harness's own tests
 *   whose functions are not part of any CDK app (test/fixtures/*). It refuses the repository's `functions/`
 *   folder: Kiln's own handlers never run from sources here, so a missing bundle cannot be papered over.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionSpec } from '../functions/registry.ts';

const REPO = resolve(import.meta.dirname, '..');

export type FunctionCode =
  | {
      readonly kind: 'bundles';
      /** Registry id (`KILN_FUNCTION_ID`) → asset folder holding `index.mjs`. */
      readonly assets: ReadonlyMap<string, string>;
    }
  | {
      readonly kind: 'fixture-sources';
      /** Folder holding `<dir>/handler.ts` of a fixture registry (never the repository's functions/). */
      readonly functionsRoot: string;
    };

/** How an environment loads a function's code: the module to import, the Node flags, the working directory. */
export interface FunctionEntry {
  /** URL of a module exporting `handler`. */
  readonly module: string;
  /** Node flags the module needs besides the memory limit. */
  readonly execArgv: readonly string[];
  /** The process's working directory (Lambda: the task root). */
  readonly cwd: string;
  /** What the entry is, for the labels of `npm start` and the tests. */
  readonly kind: FunctionCode['kind'];
}

/** The harness cannot find the code a function is to run. Never answered by falling back to something else. */
export class FunctionCodeError extends Error {
  override readonly name = 'Harness.FunctionCodeMissing';
}

export function entryFor(spec: FunctionSpec, code: FunctionCode | undefined): FunctionEntry {
  if (!code) {
    throw new FunctionCodeError(
      `${spec.id}: this harness was started without function code; pass the synthesized assembly's bundles ` +
        '(startKilnLocal does) or, for a fixture registry, fixtureSourcesRoot',
    );
  }
  if (code.kind === 'bundles') {
    const dir = code.assets.get(spec.id);
    if (!dir) {
      throw new FunctionCodeError(
        `${spec.id}: the synthesized assembly has no bundle for this function (bundled: ${[...code.assets.keys()].join(', ') || 'none'}); synthesize again with bundling`,
      );
    }
    const file = join(dir, 'index.mjs');
    if (!existsSync(file)) {
      throw new FunctionCodeError(`${spec.id}: the bundle ${file} is missing; synthesize again with bundling`);
    }
    return {
      module: pathToFileURL(file).href,
      // The template sets NODE_OPTIONS=--enable-source-maps too; the flag here keeps traces mapped even if not.
      execArgv: ['--enable-source-maps'],
      cwd: dir,
      kind: 'bundles',
    };
  }
  const root = resolve(code.functionsRoot);
  if (samePath(root, join(REPO, 'functions'))) {
    throw new FunctionCodeError(
      `fixture-sources cannot run Kiln's own functions/ (${spec.id}): they run as bundles from the synthesized assembly`,
    );
  }
  return {
    module: pathToFileURL(join(root, spec.dir, 'handler.ts')).href,
    execArgv: ['--import', 'tsx'],
    cwd: REPO,
    kind: 'fixture-sources',
  };
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : p);
  return real(a) === real(b);
}
