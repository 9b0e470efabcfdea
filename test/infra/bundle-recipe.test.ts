/**
 * The bundle recipe's esbuild plugins (infra/bundle-recipe.ts): the schema-key inlining must change no value of
 * any AWS SDK schema module Kiln bundles, and must let esbuild drop the shapes a function does not use; Node
 * built-ins imported by ES modules must be loaded with `require`, never through an ES module facade.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BANNER,
  ESBUILD_COMMON,
  inlineSchemaKeys,
  nodeBuiltinName,
  nodeBuiltinsPlugin,
  sdkSchemaKeysPlugin,
} from '../../infra/bundle-recipe.ts';
import { PROJECT_ROOT } from '../../infra/kiln-app.ts';

const work = mkdtempSync(join(tmpdir(), 'kiln-recipe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Evaluates a module body that ends in `return <value>;` (no imports). */
function evaluate(body: string): unknown {
  return new Function(body)();
}

describe('inlineSchemaKeys', () => {
  it('replaces computed keys naming top-level string constants by their literal', () => {
    const source = [
      'const _eQN = "ec2QueryName";',
      'const _xN = "xmlName";',
      'var Shape$ = [3, "ns", "Shape", 0, ["A"], [[0, { [_eQN]: `A`,',
      '  [_xN]: "a" }]]];',
      'return Shape$;',
    ].join('\n');
    const { code, inlined } = inlineSchemaKeys(source);
    expect(inlined).toBe(2);
    expect(code).not.toMatch(/\[_eQN\]|\[_xN\]/);
    expect(code).toContain('{ "ec2QueryName": `A`');
    expect(evaluate(code)).toEqual(evaluate(source));
  });

  // Each: source whose computed keys must keep their value; `unchanged` when the text must not move at all.
  const hostile: [string, string, boolean][] = [
    ['a key naming a var', 'var _x = "k";\nreturn { [_x]: 1 };', true],
    ['a key naming a let', 'let _a = "k";\nreturn { [_a]: 1 };', true],
    ['a key naming a number constant', 'const _n = 4;\nreturn { [_n]: 1 };', true],
    [
      'a key naming a constant declared in a block',
      'if (true) {\n  const _a = "k";\n  var o = { [_a]: 1 };\n}\nreturn o;',
      true,
    ],
    ['an expression key', 'const _a = "k";\nconst _b = "l";\nreturn { [_a + _b]: 1 };', true],
    ['a key with $ in its name', 'const _a$ = "k";\nreturn { [_a$]: 1 };', true],
    ['a constant holding escaped quotes', 'const _q = "say \\"hi\\"";\nreturn { [_q]: 1 };', false],
    ['a constant holding a backslash', 'const _s = "a\\\\b";\nreturn { [_s]: 1 };', false],
    ['a key after a newline and spaces', 'const _a = "k";\nreturn { x: 0,\n      [_a]: 1 };', false],
    ['an array holding a constant (not a key)', 'const _a = "k";\nreturn [_a, [_a], { y: [_a] }];', true],
    ['a constant named like a key of another object', 'const _a = "k";\nreturn { _a: { [_a]: "_a" } };', false],
    ['the same key twice (the last wins, as before)', 'const _a = "k";\nreturn { [_a]: 1, [_a]: 2 };', false],
  ];
  it.each(hostile)('keeps every value with %s', (_name, source, unchanged) => {
    const { code, inlined } = inlineSchemaKeys(source);
    expect(evaluate(code)).toEqual(evaluate(source));
    if (unchanged) {
      expect(code).toBe(source);
      expect(inlined).toBe(0);
    }
  });
});

/** Structural equality of two schema graphs: arrow functions (lazy references to shapes) are followed. */
function sameGraph(a: unknown, b: unknown, seen = new Map<unknown, unknown>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (typeof a === 'function') {
    const fa = a as (...args: unknown[]) => unknown;
    const fb = b as (...args: unknown[]) => unknown;
    // Classes (error types) are the same class object on both sides only by name; thunks are followed.
    if (fa.prototype !== undefined || fb.prototype !== undefined) return fa.name === fb.name;
    if (seen.get(fa) === fb) return true;
    seen.set(fa, fb);
    return sameGraph(fa(), fb(), seen);
  }
  if (typeof a !== 'object') return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameGraph((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], seen));
}

/** One schema module of an SDK package, bundled alone (with or without the plugin), then imported. */
async function loadSchemas(pkg: string, file: string, plugins: Plugin[], tag: string): Promise<unknown> {
  const require = createRequire(join(PROJECT_ROOT, 'package.json'));
  const path = join(dirname(require.resolve(`${pkg}/package.json`)), file);
  const outfile = join(work, `${pkg.replace(/\W/g, '_')}-${tag}.mjs`);
  await build({
    ...ESBUILD_COMMON,
    mainFields: [...ESBUILD_COMMON.mainFields],
    minify: false,
    sourcemap: false,
    stdin: { contents: `export * from ${JSON.stringify(path)};`, resolveDir: PROJECT_ROOT },
    outfile,
    plugins,
    banner: { js: BANNER },
    logLevel: 'error',
  });
  return import(pathToFileURL(outfile).href);
}

describe('sdkSchemaKeysPlugin on the SDK schema modules Kiln bundles', () => {
  const modules: [string, string][] = [
    ['@aws-sdk/client-ec2', 'dist-es/schemas/schemas_0.js'],
    ['@aws-sdk/client-s3', 'dist-es/schemas/schemas_0.js'],
    ['@aws-sdk/client-ssm', 'dist-es/schemas/schemas_0.js'],
    ['@aws-sdk/client-dynamodb', 'dist-es/schemas/schemas_0.js'],
    ['@aws-sdk/client-secrets-manager', 'dist-es/schemas/schemas_0.js'],
    ['@aws-sdk/client-lambda', 'dist-es/schemas/schemas_0.js'],
    ['@aws-sdk/nested-clients', 'dist-es/submodules/sts/schemas/schemas_0.js'],
  ];
  it.each(modules)(
    '%s %s exports the same schemas with and without the plugin',
    async (pkg, file) => {
      const [plain, inlined] = await Promise.all([
        loadSchemas(pkg, file, [], 'plain'),
        loadSchemas(pkg, file, [sdkSchemaKeysPlugin()], 'inlined'),
      ]);
      const names = Object.keys(plain as object);
      expect(names.length).toBeGreaterThan(10);
      expect(Object.keys(inlined as object)).toEqual(names);
      expect(sameGraph(plain, inlined)).toBe(true);
    },
    60_000,
  );

  it('lets esbuild drop the EC2 shapes a function does not use', async () => {
    const bundle = async (plugins: Plugin[]) => {
      const out = await build({
        ...ESBUILD_COMMON,
        mainFields: [...ESBUILD_COMMON.mainFields],
        sourcemap: false,
        stdin: {
          contents: "export { TerminateInstancesCommand } from '@aws-sdk/client-ec2';",
          resolveDir: PROJECT_ROOT,
        },
        write: false,
        outfile: join(work, 'ec2.mjs'),
        plugins,
        logLevel: 'error',
      });
      return out.outputFiles[0]?.text ?? '';
    };
    const [plain, shaken] = await Promise.all([bundle([]), bundle([sdkSchemaKeysPlugin()])]);
    // Names of shapes that TerminateInstances does not reach, kept today without the plugin.
    expect(plain).toContain('AcceptAddressTransferRequest');
    expect(shaken).not.toContain('AcceptAddressTransferRequest');
    expect(shaken).toContain('TerminateInstancesRequest');
    expect(shaken.length).toBeLessThan(plain.length / 2);
  }, 60_000);
});

describe('nodeBuiltinsPlugin', () => {
  it.each([
    ['http', 'http'],
    ['node:http', 'http'],
    ['node:fs/promises', 'fs/promises'],
    ['fs/promises', 'fs/promises'],
    ['node:process', 'process'],
  ])('%s is the built-in %s', (specifier, name) => {
    expect(nodeBuiltinName(specifier)).toBe(name);
  });

  it.each([['fs-extra'], ['node:nope'], [''], ['node:'], ['_http_agent'], ['./http'], ['http/'], ['yaml'], ['HTTP']])(
    '%s is not a built-in',
    (specifier) => {
      expect(nodeBuiltinName(specifier)).toBeUndefined();
    },
  );

  it('turns ES imports of built-ins into require calls, and the bundle still runs', async () => {
    const outfile = join(work, 'builtins.mjs');
    writeFileSync(
      join(work, 'entry.mjs'),
      [
        "import { request } from 'node:http';",
        "import * as https from 'https';",
        "import { env } from 'node:process';",
        "import { readFile } from 'node:fs/promises';",
        // A dynamic import keeps the real module namespace (web-tree-sitter destructures it).
        "const { createRequire } = await import('module');",
        'export const kinds = [typeof request, typeof https.request, typeof env, typeof readFile, typeof createRequire];',
      ].join('\n'),
    );
    await build({
      ...ESBUILD_COMMON,
      mainFields: [...ESBUILD_COMMON.mainFields],
      sourcemap: false,
      minify: false,
      entryPoints: [join(work, 'entry.mjs')],
      outfile,
      plugins: [nodeBuiltinsPlugin()],
      banner: { js: BANNER },
      logLevel: 'error',
    });
    const { readFileSync } = await import('node:fs');
    const code = readFileSync(outfile, 'utf8');
    for (const name of ['http', 'https', 'process', 'fs/promises']) {
      expect(code).toContain(`require("node:${name}")`);
      expect(code).not.toMatch(new RegExp(`from ["'](node:)?${name}["']`));
    }
    const mod = (await import(pathToFileURL(outfile).href)) as { kinds: string[] };
    expect(code).toMatch(/import\(["']node:module["']\)/);
    expect(mod.kinds).toEqual(['function', 'function', 'object', 'function', 'function']);
  });
});
