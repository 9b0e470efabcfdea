/**
 * The one recipe for Kiln's JavaScript bundles: every Lambda (bundleLambda, run by constructs/build-pipeline.ts
 * through scripts/bundle-lambda.ts) and the `kiln` CLI (scripts/build-cli.ts) are built by esbuild from these
 * settings, and the runtime files the template engine reads from disk (three wasm files) are copied beside the
 * bundle at the paths the bundled code looks for them. Tests (test/bundles) and the benchmark load the real
 * bundles this recipe produced, so a bundle that works in the repo but not once bundled fails there.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';

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
 * - core/hcl/syntax/tree-sitter.ts resolves the grammar by package name (a `node_modules` layout);
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

/**
 * The HCL syntax checker (@cdktf/hcl2json, Go in wasm) runs in a disposable worker thread
 * (core/template/hcl/syntax/gate-worker.ts), which loads the package by name. A bundle has no node_modules, so the
 * package is shipped as a package of its own beside the bundle: one CommonJS file (its dependencies inlined) at
 * its usual `lib/index.js`, a minimal package.json, and its `main.wasm.gz` (TEMPLATE_ENGINE_FILES), which it reads
 * from `<lib>/../main.wasm.gz`.
 */
export async function buildHclGatePackage(projectRoot: string, outputDir: string): Promise<void> {
  const { build } = await import('esbuild');
  const require = createRequire(join(projectRoot, 'package.json'));
  const pkgDir = join(outputDir, 'node_modules/@cdktf/hcl2json');
  await build({
    entryPoints: [require.resolve('@cdktf/hcl2json')],
    outfile: join(pkgDir, 'lib/index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: ESBUILD_COMMON.target,
    minify: true,
    legalComments: 'none',
    external: [...EXTERNAL_ALWAYS],
    logLevel: 'warning',
  });
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: '@cdktf/hcl2json', main: 'lib/index.js' }));
}

/** A top-level `const _x = "..."` of a generated SDK schema module: the names its schema objects use as keys. */
const SCHEMA_STRING_CONST = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A computed object key naming such a constant, as the first key (`{ [_x]:`) or a following one (`, [_x]:`). */
const COMPUTED_CONST_KEY = /([{,]\s*)\[(_\w+)\]:/g;

/**
 * The AWS SDK's generated schema modules (`dist-es/schemas/schemas_0.js`) declare every shape of a service as a
 * top-level array, with traits as objects keyed by computed names (`{ [_xN]: _cIon }`, where `const _xN =
 * "xmlName"`). esbuild keeps any object with a computed key whose value it cannot see is a primitive, so every
 * shape that holds one stays in the bundle, with everything it refers to: 2,300 of EC2's 3,400 shapes (540 KB
 * minified) for a function that sends one command. Replacing each such key by the string literal its constant
 * holds changes no value (the key is that string either way) and lets esbuild drop the unused shapes. Keys that
 * name anything but a top-level string constant of the same module are left as they are.
 */
export function inlineSchemaKeys(source: string): { code: string; inlined: number } {
  const constants = new Map<string, string>();
  for (const m of source.matchAll(SCHEMA_STRING_CONST)) constants.set(m[1] as string, m[2] as string);
  let inlined = 0;
  const code = source.replace(COMPUTED_CONST_KEY, (whole, before: string, name: string) => {
    const literal = constants.get(name);
    if (literal === undefined) return whole;
    inlined++;
    return `${before}${literal}:`;
  });
  return { code, inlined };
}

/** Applies inlineSchemaKeys to the AWS SDK's schema modules (any client, and the SDK's nested clients). */
export function sdkSchemaKeysPlugin(): Plugin {
  return {
    name: 'kiln-sdk-schema-keys',
    setup(build) {
      build.onLoad(
        { filter: /[\\/]@aws-sdk[\\/].+[\\/]dist-es[\\/](.+[\\/])?schemas[\\/]schemas_\d+\.js$/ },
        async (args) => ({
          contents: inlineSchemaKeys(await readFile(args.path, 'utf8')).code,
          loader: 'js',
        }),
      );
    },
  };
}

const NODE_BUILTINS: ReadonlySet<string> = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/** The Node built-in a specifier names (`http`, `node:fs/promises`), or undefined for anything else. */
export function nodeBuiltinName(specifier: string): string | undefined {
  const bare = specifier.startsWith('node:') ? specifier.slice('node:'.length) : specifier;
  return NODE_BUILTINS.has(bare) ? bare : undefined;
}

/**
 * Node built-ins imported by ES modules (`import { request } from "http"`) are loaded with `require` instead.
 * Importing a built-in as an ES module makes Node build a facade of all its exports, which reads every lazy
 * getter: `node:http`'s facade loads undici (WebSocket, MessageEvent), `node:process`'s opens stdin, `node:tls`'s
 * parses the root certificates, for code that uses none of them (about 30 ms of CPU per cold start with the SDK).
 * `require` returns the module object and leaves the getters alone. The bundle's `require` is the BANNER's.
 */
export function nodeBuiltinsPlugin(): Plugin {
  const namespace = 'kiln-node-builtin';
  return {
    name: 'kiln-node-builtins',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
        const name = nodeBuiltinName(args.path);
        if (name === undefined) return undefined;
        // Static ES imports go through a CommonJS module that requires the built-in. `require()` and `import()`
        // stay what they are: they run only when reached, and a dynamic import must resolve to the real module
        // namespace (web-tree-sitter's `const { createRequire } = await import("module")`).
        if (args.kind !== 'import-statement') return { path: `node:${name}`, external: true };
        return { path: name, namespace };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Lambda bundles carry their own AWS SDK v3: nothing is external but EXTERNAL_ALWAYS. The nodejs22.x runtime
 * ships the SDK too, but as CommonJS files that load whole (`@aws-sdk/client-ec2` is one 2 MB file, about 0.8 s
 * of CPU to load); bundled, esbuild keeps only the ES modules a function reaches. Two plugins make that
 * tree-shaking and loading effective (figures in BENCHMARKS.md, "Lambda bundles"):
 * - sdkSchemaKeysPlugin: lets esbuild drop the service schemas a function never uses;
 * - nodeBuiltinsPlugin: loads Node built-ins with `require` instead of through ES module facades.
 * Plugins need esbuild's JS API, which NodejsFunction's own bundling does not offer: build-pipeline.ts hands
 * NodejsFunction the asset built here (scripts/bundle-lambda.ts) instead.
 */
export const LAMBDA_PLUGINS: readonly Plugin[] = [sdkSchemaKeysPlugin(), nodeBuiltinsPlugin()];

/**
 * index.mjs plus one chunk per dynamic import, beside it (web-tree-sitter finds its wasm next to the file that
 * holds it, and the BANNER's `__dirname` is relative to each file): code reached only through `import()`, such
 * as the SDK's credential providers other than the environment's and the HCL front end, is not even parsed at
 * cold start.
 */
export const LAMBDA_OUTPUT = {
  splitting: true,
  entryNames: 'index',
  chunkNames: '[name]-[hash]',
  outExtension: { '.js': '.mjs' },
} as const;

export interface LambdaBundleRequest {
  readonly projectRoot: string;
  /** The handler module (`functions/<dir>/handler.ts`). */
  readonly entry: string;
  /** Asset folder to write: index.mjs, its chunks, their source maps and, for the template engine, its runtime files. */
  readonly outputDir: string;
  /** The function runs the template engine (FunctionSpec.templateEngine): ship its wasm files and HCL gate. */
  readonly templateEngine: boolean;
}

/** Builds one Lambda asset folder with the recipe (esbuild JS API, LAMBDA_PLUGINS). */
export async function bundleLambda(request: LambdaBundleRequest): Promise<void> {
  const { build } = await import('esbuild');
  mkdirSync(request.outputDir, { recursive: true });
  await build({
    ...ESBUILD_COMMON,
    mainFields: [...ESBUILD_COMMON.mainFields],
    entryPoints: [request.entry],
    ...LAMBDA_OUTPUT,
    outdir: request.outputDir,
    absWorkingDir: request.projectRoot,
    external: [...EXTERNAL_ALWAYS],
    plugins: [...LAMBDA_PLUGINS],
    banner: { js: BANNER },
    logLevel: 'warning',
  });
  if (!request.templateEngine) return;
  for (const file of TEMPLATE_ENGINE_FILES) {
    const target = join(request.outputDir, file.to);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(runtimeFileSource(request.projectRoot, file), target);
  }
  await buildHclGatePackage(request.projectRoot, request.outputDir);
}

/**
 * bundleLambda in a child process (scripts/bundle-lambda.ts), for CDK's synchronous local bundling. Throws with
 * esbuild's output when the build fails, so synth stops there instead of falling back to Docker.
 */
export function bundleLambdaSync(request: LambdaBundleRequest): void {
  const script = join(request.projectRoot, 'scripts/bundle-lambda.ts');
  const args = ['--import', 'tsx', script, request.entry, request.outputDir];
  if (request.templateEngine) args.push('--template-engine');
  const run = spawnSync(process.execPath, args, { cwd: request.projectRoot, encoding: 'utf8' });
  if (run.status !== 0) {
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim() || String(run.error ?? `exit ${run.status}`);
    throw new Error(`Bundling ${request.entry} failed:\n${output}`);
  }
  // esbuild's warnings, if any, shown as NodejsFunction's bundling would.
  if (run.stderr) process.stderr.write(run.stderr);
}
