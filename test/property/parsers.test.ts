/**
 * Fuzzing the template loader (middy's rule): for ANY input, loadTemplate returns a LoadResult (with
 * diagnostics when something is wrong) or throws a typed KilnError; any other exception is a bug.
 *
 * Runs: 300 per property by default; the nightly-size run is `KILN_FC_RUNS=10000 npx vitest run test/property`.
 * A failure prints fast-check's seed and shrunk counterexample; replay it with that seed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { KilnError } from '../../core/errors.ts';
import type { LoadResult } from '../../core/template/model.ts';
import { loadTemplate } from '../../core/validation/load.ts';

const RUNS = Number(process.env.KILN_FC_RUNS ?? 300);
// Generous: the nightly size runs 10,000 loads per property on a shared 2-core machine.
const TIMEOUT_MS = Math.max(60_000, RUNS * 100);

const dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;

type Outcome = { kind: 'result'; result: LoadResult } | { kind: 'kiln-error'; error: KilnError };

/** Loads `text` from a fresh file with the given extension; only KilnError may escape as an error. */
async function load(text: string, extension: '.json' | '.pkr.hcl' | '.pkr.json'): Promise<Outcome> {
  const path = join(dir, `t${counter++}${extension}`);
  writeFileSync(path, text);
  try {
    return { kind: 'result', result: await loadTemplate(path, { cwd: dir, env: {}, now: new Date(0) }) };
  } catch (error) {
    if (error instanceof KilnError) return { kind: 'kiln-error', error };
    throw new Error(`loadTemplate threw a non-Kiln error for ${JSON.stringify(text.slice(0, 200))}: ${String(error)}`, {
      cause: error,
    });
  } finally {
    rmSync(path, { force: true });
  }
}

function assertWellFormed(outcome: Outcome): void {
  if (outcome.kind === 'kiln-error') {
    expect(outcome.error.name).toMatch(/^Kiln\./);
    return;
  }
  const { result } = outcome;
  expect(Array.isArray(result.diagnostics)).toBe(true);
  for (const d of result.diagnostics) {
    expect(['error', 'warning']).toContain(d.severity);
    expect(typeof d.summary).toBe('string');
    if (d.range) {
      expect(d.range.start.line).toBeGreaterThanOrEqual(1);
      expect(d.range.start.column).toBeGreaterThanOrEqual(1);
    }
  }
  // A result without a model must say why.
  if (!result.template) expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
}

/**
 * JSON shaped like a Packer template, so the fuzzer reaches builders, provisioners and variables. The type
 * pool includes Object.prototype names: a lookup table indexed by a user-written type must not find them.
 */
const PROTOTYPE_NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];
const componentType = fc.constantFrom(
  'docker',
  'shell',
  'amazon-ebs',
  'null',
  'file',
  'manifest',
  'goss',
  ...PROTOTYPE_NAMES,
);
const component = fc.dictionary(
  fc.constantFrom(
    'type',
    'name',
    'only',
    'except',
    'override',
    'inline',
    'script',
    'pause_before',
    'max_retries',
    'image',
    'commit',
    'ami_name',
    'source',
  ),
  fc.oneof(componentType, fc.constantFrom('{{user `x`}}', '{{timestamp}}', '5s'), fc.jsonValue({ maxDepth: 2 })),
);
const templateShaped = fc.record(
  {
    variables: fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(fc.constant(null), fc.string(), fc.jsonValue({ maxDepth: 1 })),
    ),
    'sensitive-variables': fc.array(fc.string({ maxLength: 8 })),
    builders: fc.array(component, { maxLength: 3 }),
    provisioners: fc.array(component, { maxLength: 3 }),
    'post-processors': fc.array(fc.oneof(component, fc.string(), fc.array(component, { maxLength: 2 })), {
      maxLength: 3,
    }),
    min_packer_version: fc.string({ maxLength: 8 }),
  },
  { requiredKeys: [] },
);

/** HCL-ish text: fragments of real syntax glued at random, so the parser sees near-misses, not only noise. */
const hclFragment = fc.constantFrom(
  'source "docker" "x" {',
  'source "constructor" "x" {',
  'provisioner "toString" {',
  'post-processor "__proto__" {',
  'build {',
  '}',
  'sources = ["source.docker.x"]',
  'provisioner "shell" {',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL interpolation syntax, not a JS template
  'inline = ["echo ${var.a}"]',
  'variable "a" {',
  'default = "x"',
  'locals { b = upper(var.a) }',
  '"${',
  '%{ for x in y }',
  '<<EOF',
  'EOF',
  '= [1, 2',
  '#',
  '/*',
  'image = "alpine"',
);
const hclText = fc
  .array(fc.oneof(hclFragment, fc.string({ maxLength: 12 })), { maxLength: 20 })
  .map((parts) => parts.join('\n'));

describe('loadTemplate never fails with anything but diagnostics or a KilnError', () => {
  for (const extension of ['.json', '.pkr.hcl'] as const) {
    it(
      `any string as ${extension}`,
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), async (text) => {
            assertWellFormed(await load(text, extension));
          }),
          { numRuns: RUNS },
        );
      },
      TIMEOUT_MS,
    );

    it(
      `any JSON value as ${extension}`,
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.jsonValue(), async (value) => {
            assertWellFormed(await load(JSON.stringify(value), extension));
          }),
          { numRuns: RUNS },
        );
      },
      TIMEOUT_MS,
    );
  }

  it(
    'template-shaped JSON as .json',
    async () => {
      await fc.assert(
        fc.asyncProperty(templateShaped, async (value) => {
          assertWellFormed(await load(JSON.stringify(value), '.json'));
        }),
        {
          numRuns: RUNS,
          // Found by the 10,000-run fuzz: a post-processor type named like an Object.prototype member.
          examples: [[{ builders: [{ type: 'docker' }], 'post-processors': ['toString'] }]],
        },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'HCL-shaped text as .pkr.hcl',
    async () => {
      await fc.assert(
        fc.asyncProperty(hclText, async (text) => {
          assertWellFormed(await load(text, '.pkr.hcl'));
        }),
        {
          numRuns: RUNS,
          // Same class of bug as the JSON example: a component type named like an Object.prototype member.
          examples: [['source "constructor" "x" {}\nbuild {\n  sources = ["source.constructor.x"]\n}\n']],
        },
      );
    },
    TIMEOUT_MS,
  );
});
