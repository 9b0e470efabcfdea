/**
 * The one recipe for Kiln's JavaScript bundles: every Lambda (through NodejsFunction, see
 * constructs/build-pipeline.ts) and the `kiln` CLI (scripts/build-cli.ts) are built by esbuild from these
 * settings, and the runtime files the template engine reads from disk (three wasm files) are copied beside the
 * bundle at the paths the bundled code looks for them. Tests (test/bundles) and the benchmark load the real
 * bundles this recipe produced, so a bundle that works in the repo but not once bundled fails there.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** esbuild settings shared by every bundle, in esbuild's own option names (JS API). */
export const ESBUILD_COMMON = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  // Typed Kiln errors are matched by `name` in ASL Catch blocks and in the CLI; minification must not rename classes.
  keepNames: true,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'none',
} as const;

/**
 * Modules left out of every bundle:
 * - `performance`: @cdktf/hcl2json's wasm bridge runs `globalThis.performance ??= require("performance")`, a
 *   fallback for runtimes without the global; Node 22 has it, so the require never runs, but esbuild cannot
 *   resolve a package of that name. External, it stays a lazy require that is never reached.
 */
export const EXTERNAL_ALWAYS = ['performance'] as const;

/** The nodejs22.x runtime ships AWS SDK v3; bundling it would only add bytes and cold-start time. */
export const EXTERNAL_LAMBDA = ['@aws-sdk/*'] as const;

/**
 * Prepended to every bundle. ESM has no `require`, `__filename` or `__dirname`, and CommonJS dependencies inside
 * the bundle use them:
 * - `require` for Node built-ins (commander, fs-extra, hcl2json's bridge);
 * - `__dirname` only by @cdktf/hcl2json, which reads `join(__dirname, "..", "main.wasm.gz")`; it points at the
 *   package's `lib` folder as laid out beside the bundle by RUNTIME_FILES (checked by test/bundles).
 */
export const BANNER = [
  "import { createRequire as __kilnCreateRequire } from 'node:module';",
  "import { fileURLToPath as __kilnFileURLToPath } from 'node:url';",
  'const require = __kilnCreateRequire(import.meta.url);',
  "const __dirname = __kilnFileURLToPath(new URL('./node_modules/@cdktf/hcl2json/lib', import.meta.url));",
].join(' ');

export interface RuntimeFile {
  /** Module specifier of the file in node_modules. */
  readonly from: string;
  /** Path relative to the bundle's folder. */
  readonly to: string;
}

/**
 * Files the template engine reads at run time, where the bundled code looks for them:
 * - web-tree-sitter locates its wasm beside its own script, which becomes the bundle (`import.meta.url`);
 * - core/template/hcl/syntax/tree-sitter.ts resolves the grammar by package name (a `node_modules` layout);
 * - @cdktf/hcl2json reads `<lib>/../main.wasm.gz` (see BANNER's `__dirname`).
 */
export const TEMPLATE_ENGINE_FILES: readonly RuntimeFile[] = [
  { from: 'web-tree-sitter/web-tree-sitter.wasm', to: 'web-tree-sitter.wasm' },
  {
    from: '@tree-sitter-grammars/tree-sitter-hcl/tree-sitter-hcl.wasm',
    to: 'node_modules/@tree-sitter-grammars/tree-sitter-hcl/tree-sitter-hcl.wasm',
  },
  { from: '@cdktf/hcl2json/main.wasm.gz', to: 'node_modules/@cdktf/hcl2json/main.wasm.gz' },
];

/** Absolute source path of a runtime file, resolved from the project root's node_modules. */
export function runtimeFileSource(projectRoot: string, file: RuntimeFile): string {
  const require = createRequire(join(projectRoot, 'package.json'));
  // web-tree-sitter's `exports` does not list its wasm; resolve the package entry and take its folder.
  const [pkg, rest] = splitSpecifier(file.from);
  if (pkg === 'web-tree-sitter') return join(dirname(require.resolve(pkg)), rest);
  return require.resolve(file.from);
}

function splitSpecifier(specifier: string): [string, string] {
  const parts = specifier.split('/');
  const n = specifier.startsWith('@') ? 2 : 1;
  return [parts.slice(0, n).join('/'), parts.slice(n).join('/')];
}

/** POSIX shell commands that copy runtime files into a bundle folder (NodejsFunction `afterBundling`). */
export function copyCommands(projectRoot: string, outputDir: string, files: readonly RuntimeFile[]): string[] {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  return files.flatMap((file) => {
    const target = join(outputDir, file.to);
    return [`mkdir -p ${q(dirname(target))}`, `cp ${q(runtimeFileSource(projectRoot, file))} ${q(target)}`];
  });
}

/**
 * The HCL syntax checker (@cdktf/hcl2json, Go in wasm) runs in a disposable worker thread
 * (core/template/hcl/syntax/gate-worker.ts), which loads the package by name. A bundle has no node_modules, so the
 * package is shipped as a package of its own beside the bundle: one CommonJS file (its dependencies inlined) at
 * its usual `lib/index.js`, a minimal package.json, and its `main.wasm.gz` (TEMPLATE_ENGINE_FILES), which it reads
 * from `<lib>/../main.wasm.gz`.
 */
export function hclGateCommands(projectRoot: string, outputDir: string): string[] {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const require = createRequire(join(projectRoot, 'package.json'));
  const entry = require.resolve('@cdktf/hcl2json');
  const pkgDir = join(outputDir, 'node_modules/@cdktf/hcl2json');
  const esbuild = join(projectRoot, 'node_modules/.bin/esbuild');
  const manifest = JSON.stringify({ name: '@cdktf/hcl2json', main: 'lib/index.js' });
  return [
    `mkdir -p ${q(join(pkgDir, 'lib'))}`,
    [
      q(esbuild),
      q(entry),
      '--bundle --platform=node --format=cjs --target=node22 --minify --legal-comments=none',
      ...EXTERNAL_ALWAYS.map((m) => `--external:${m}`),
      `--outfile=${q(join(pkgDir, 'lib/index.js'))}`,
      '--log-level=warning',
    ].join(' '),
    `printf '%s' ${q(manifest)} > ${q(join(pkgDir, 'package.json'))}`,
  ];
}
