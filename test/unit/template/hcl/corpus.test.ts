/**
 * Every HCL case of the shared corpus whose template-layer verdict is decidable here, through loadHclTemplate.
 * Cases whose `invalid` verdict comes from builder/provisioner schemas (owned by core/builders etc.) are listed
 * as "needs component schema": for them the template layer alone must pass.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type CorpusCase, loadManifest, prepareCase, varFileArgs } from '../../../../bench/lib/corpus-cases.ts';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';
import { hasErrors } from '../../../../core/template/diagnostics.ts';

/** Invalid only because of a component schema (plugin config), not the template layer. */
const NEEDS_COMPONENT_SCHEMA: Record<string, string> = {
  'packer-validate-except-hcl-fail': 'file builder "target is required", shell-local needs inline/command/script',
  'packer-hcl2template-complete-dir': 'mock-plugin attributes unknown to the real plugins',
  'packer-hcl2template-provisioner-onlyexcept': 'empty source blocks rejected by plugin schemas',
  'amazon-ebs-interpolated-run-tags-hcl': 'amazon-ebs ami_name length/characters',
  'amazon-ebs-interpolated-skip-run-tags-hcl': 'amazon-ebs ami_name length/characters',
  'sam-caldwell-windows10-dir': 'iso_checksum_type is not a builder argument',
};

/**
 * Cases written for Packer's mock plugins, whose bodies the template layer now checks against the real schemas
 * (data sources are decoded while loading; builder, provisioner and post-processor bodies get HCL's block/argument
 * shape check): the only errors allowed are the mock plugins' own arguments and blocks.
 */
const MOCK_DATA_SOURCES: Record<string, RegExp> = {
  'packer-hcl2template-complete-dir':
    /^(Unsupported argument: An argument named "string" is not expected here\.|Unsupported block type: Blocks of type "nested(_slice)?" are not expected here\.)$/,
};

/** What the diagnostic must mention for each template-layer `invalid` case (from the manifest's `reason`). */
const EXPECTED_INVALID: Record<string, RegExp> = {
  'packer-validate-var-foo-no-default-hcl': /Unset variable "foo"/,
  'packer-validate-invalid-packer-block-hcl': /Unsupported argument.*"version"/s,
  'packer-validate-invalid-missing-build-block-hcl': /Unknown source file\.cho.*file\.chocolate/s,
  'packer-hcl-wrong-pause-before': /pause_before.*missing unit in duration/s,
  'packer-hcl-inspect-aws-builds': /Unknown source amazon-ebs\.example-1/,
  'packer-hcl2template-two-error-cleanup': /Only one error-cleanup-provisioner block is allowed per build/,
  'packer-hcl2template-variable-validation-invalid-default':
    /Invalid value for variable.*must be a valid AMI id, starting with "ami-"/s,
};

function parseArgs(args: readonly string[] = []): { only?: string[]; except?: string[] } {
  const out: { only?: string[]; except?: string[] } = {};
  for (const a of args) {
    const m = /^-(only|except)=(.*)$/.exec(a);
    if (m) out[m[1] as 'only' | 'except'] = (m[2] as string).split(',');
  }
  return out;
}

const cases = loadManifest().filter(
  (c) => c.format === 'hcl' && ['valid', 'valid-with-vars', 'invalid'].includes(c.template_expect ?? c.expect),
);
const tmpRoots: string[] = [];
afterAll(() => {
  for (const r of tmpRoots) rmSync(r, { recursive: true, force: true });
});

async function run(c: CorpusCase, withVars: boolean) {
  const prepared = prepareCase(c);
  tmpRoots.push(prepared.root);
  return loadHclTemplate(c.entry_arg, {
    cwd: prepared.cwd,
    ...parseArgs(c.args),
    ...(withVars ? { vars: Object.entries(c.vars ?? {}), varFiles: varFileArgs(c) } : {}),
    now: new Date('2024-01-02T03:04:05Z'),
  });
}

function summary(r: Awaited<ReturnType<typeof loadHclTemplate>>): string {
  return r.diagnostics
    .map((d) => `${d.severity}: ${d.summary}: ${d.detail ?? ''} @${d.range?.file}:${d.range?.start.line}`)
    .join('\n');
}

describe('shared corpus, HCL cases (template layer)', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const verdict = c.template_expect ?? c.expect;
    const result = await run(c, true);
    const text = summary(result);
    if (verdict === 'invalid' && !NEEDS_COMPONENT_SCHEMA[c.id]) {
      expect(hasErrors(result.diagnostics), text).toBe(true);
      const pattern = EXPECTED_INVALID[c.id];
      expect(pattern, `no expectation recorded for ${c.id}: ${c.reason}`).toBeDefined();
      expect(text).toMatch(pattern as RegExp);
    } else if (MOCK_DATA_SOURCES[c.id]) {
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      expect(errors.length, text).toBeGreaterThan(0);
      for (const d of errors) expect(`${d.summary}: ${d.detail ?? ''}`).toMatch(MOCK_DATA_SOURCES[c.id] as RegExp);
    } else if (NEEDS_COMPONENT_SCHEMA[c.id] && c.template_expect === undefined) {
      // Packer's verdict is decided by plugin schemas; the template layer must still build a model.
      expect(result.template, text).toBeDefined();
    } else {
      expect(hasErrors(result.diagnostics), text).toBe(false);
      expect(result.template?.builds.length ?? 0).toBeGreaterThan(0);
    }
    if (verdict === 'valid-with-vars') {
      const without = await run(c, false);
      expect(hasErrors(without.diagnostics), 'must fail without its vars').toBe(true);
      expect(summary(without)).toMatch(/Unset variable/);
    }
  });
});
