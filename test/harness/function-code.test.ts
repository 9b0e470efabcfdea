/**
 * entryFor: the one place that picks a local function's code. Bundles come from the synthesized assembly and run
 * with no loader; fixture sources run through tsx and never for the repository's own functions/; anything
 * missing fails loudly instead of falling back.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../functions/registry.ts';
import { entryFor, type FunctionCode, FunctionCodeError } from '../../harness/function-code.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SPEC: FunctionSpec = {
  id: 'Echo',
  dir: 'echo',
  description: 'fixture',
  env: [],
  permissions: [],
  timeoutSeconds: 3,
  memoryMb: 128,
  trigger: { kind: 'task', stateMachine: 'build' },
};

const scratch = mkdtempSync(join(tmpdir(), 'kiln-function-code-'));
const asset = join(scratch, 'asset.1');
mkdirSync(asset);
writeFileSync(join(asset, 'index.mjs'), 'export const handler = async () => 1;\n');
const emptyAsset = join(scratch, 'asset.2');
mkdirSync(emptyAsset);
// A second name for the repository's functions/ folder.
symlinkSync(join(ROOT, 'functions'), join(scratch, 'functions-link'), 'dir');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('entryFor with bundles', () => {
  it("runs the asset folder's index.mjs from that folder, source maps on, no loader", () => {
    const entry = entryFor(SPEC, { kind: 'bundles', assets: new Map([['Echo', asset]]) });
    expect(entry).toEqual({
      module: `file://${join(asset, 'index.mjs')}`,
      execArgv: ['--enable-source-maps'],
      cwd: asset,
      kind: 'bundles',
    });
  });
});

describe('entryFor with fixture sources', () => {
  it("runs a fixture's handler.ts through tsx", () => {
    const root = join(ROOT, 'test/fixtures/harness/functions');
    const entry = entryFor(SPEC, { kind: 'fixture-sources', functionsRoot: root });
    expect(entry.module).toBe(`file://${join(root, 'echo/handler.ts')}`);
    expect(entry.execArgv).toEqual(['--import', 'tsx']);
    expect(entry.kind).toBe('fixture-sources');
  });
});

// Each a way the harness could end up running something other than the bundle it deployed: all refused.
const refused: [string, FunctionCode | undefined, RegExp][] = [
  ['no code at all', undefined, /started without function code/],
  ['bundles without this function', { kind: 'bundles', assets: new Map([['Other', asset]]) }, /no bundle for this/],
  ['no bundles at all', { kind: 'bundles', assets: new Map() }, /bundled: none/],
  ['an asset folder without index.mjs', { kind: 'bundles', assets: new Map([['Echo', emptyAsset]]) }, /is missing/],
  [
    'an asset folder that does not exist',
    { kind: 'bundles', assets: new Map([['Echo', join(scratch, 'gone')]]) },
    /is missing/,
  ],
  [
    "fixture sources at the repository's functions/",
    { kind: 'fixture-sources', functionsRoot: join(ROOT, 'functions') },
    /fixture-sources cannot run Kiln's own functions/,
  ],
  [
    'the same with a trailing slash',
    { kind: 'fixture-sources', functionsRoot: `${join(ROOT, 'functions')}/` },
    /cannot run Kiln's own/,
  ],
  [
    'the same through ..',
    { kind: 'fixture-sources', functionsRoot: join(ROOT, 'harness/../functions') },
    /cannot run Kiln's own/,
  ],
  [
    'the same, relative to the working directory',
    { kind: 'fixture-sources', functionsRoot: 'functions' },
    /cannot run Kiln's own/,
  ],
  [
    'the same through a symlink',
    { kind: 'fixture-sources', functionsRoot: join(scratch, 'functions-link') },
    /cannot run Kiln's own/,
  ],
];

describe('entryFor refuses to guess', () => {
  it.each(refused)('%s', (_name, code, message) => {
    expect(() => entryFor(SPEC, code)).toThrow(FunctionCodeError);
    expect(() => entryFor(SPEC, code)).toThrow(message);
  });
});
