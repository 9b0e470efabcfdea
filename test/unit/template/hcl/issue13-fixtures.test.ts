/** Corpus-style fixtures for issue 13's classes (test/fixtures/hcl/issue13): each file states Packer's verdict. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planTemplate } from '../../../../core/plan/plan.ts';
import { isProvisioner } from '../../../../core/plan/typed.ts';
import { loadTemplate } from '../../../../core/validation/load.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../fixtures/hcl/issue13');
// The whole load (front end, then every component's schema), as `kiln validate` runs it.
const load = (rel: string) => loadTemplate(rel, { cwd: FIXTURES });

describe('issue 13 fixtures', () => {
  it.each([
    ['valid/operator-grouping.pkr.hcl', ['echo m5.large 80,8080 5']],
    [
      'valid/cidr-ipv6.pkr.hcl',
      [
        'echo fd00:fd12:3456:7800::10 fd00:fd12:3456:7800:a200::/72 fd00:fd12:3456:7800::/72 fd00:fd12:3456:7800:100::/72 fd00:fd12:3456:7800:200::/72 fd00:fd12:3456:7800:300::/88',
      ],
    ],
    ['valid/hcl-conversions.pkr.hcl', ['echo', '42', 'true']],
    ['valid/build-dynamic.pkr.hcl', ['echo setup']],
    ['valid/conditional-unify.pkr.hcl', ['echo "8080" ["1","b"] {"a":"1","b":"x"} 2']],
  ])('%s is valid and plans inline %j', async (file, inline) => {
    const r = await load(file);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    if (!r.template) throw new Error(`${file} loads`);
    // The plan holds each option decoded by the template's format (HCL: cty's conversions).
    const p = planTemplate(r.template).builds[0]?.provisioners[0];
    expect(p && (isProvisioner(p, 'shell') || isProvisioner(p, 'shell-local')) ? p.config.inline : p).toEqual(inline);
  });

  it('build-dynamic.pkr.hcl: builds and provisioners from expressions and dynamic blocks, in order', async () => {
    const r = await load('valid/build-dynamic.pkr.hcl');
    const builds = r.template?.builds ?? [];
    expect(builds.map((b) => b.name)).toEqual(['null.base', 'null.web', 'null.db']);
    expect(builds.map((b) => b.provisioners.map((p) => (p.config.inline as string[])[0]))).toEqual(
      ['base', 'web', 'db'].map((s) => ['echo setup', `echo 0 web on ${s}`, `echo 1 db on ${s}`, 'echo done']),
    );
  });

  it.each([
    [
      'invalid/conditional-inconsistent.pkr.hcl',
      'Inconsistent conditional result types',
      11,
      25,
      /^The true and false result expressions must have consistent types\. The 'true' value is tuple, but the 'false' value is object\.$/,
    ],
    [
      'invalid/map-as-block.pkr.hcl',
      'Unsupported block type',
      11,
      3,
      /^Blocks of type "tags" are not expected here\. Did you mean "tag"\?$/,
    ],
    [
      'invalid/block-as-argument.pkr.hcl',
      'Unsupported argument',
      11,
      3,
      /Did you mean to define a block of type "launch_block_device_mappings"\?$/,
    ],
    ['invalid/build-dynamic-no-labels.pkr.hcl', 'Missing required argument', 11, 3, /"labels" is required/],
    [
      'invalid/build-sources-string.pkr.hcl',
      'Unsuitable value type',
      13,
      13,
      /^Unsuitable value: list of string required$/,
    ],
    ['invalid/data-filters-block.pkr.hcl', 'Unsupported block type', 4, 3, /use the equals sign/],
    ['invalid/data-no-owner.pkr.hcl', 'For security reasons, you must declare an owner.', 2, 1, /^$/],
    ['invalid/data-null-typo.pkr.hcl', 'Unsupported argument', 3, 3, /"inptu".*Did you mean "input"/],
    ['invalid/vault-no-address.pkr.hcl', 'Error in function call', 4, 14, /needs a Vault address \(VAULT_ADDR\)/],
    [
      'invalid/inline-string.pkr.hcl',
      'Incorrect attribute value type',
      12,
      5,
      /^Inappropriate value for attribute "inline": list of string required\.$/,
    ],
    [
      'invalid/env-vars-csv.pkr.hcl',
      'Incorrect attribute value type',
      12,
      5,
      /^Inappropriate value for attribute "environment_vars": list of string required\.$/,
    ],
    [
      'invalid/bool-yes.pkr.hcl',
      'Incorrect attribute value type',
      12,
      5,
      /^Inappropriate value for attribute "use_linux_pathing": a bool is required\.$/,
    ],
    [
      'invalid/block-attr-type.pkr.hcl',
      'Incorrect attribute value type',
      11,
      3,
      /^Inappropriate value for attribute "volume_size": a number is required\.$/,
    ],
  ])('%s → %s at %i:%i', async (file, summary, line, column, detail) => {
    const r = await load(file);
    const d = r.diagnostics.find((x) => x.severity === 'error');
    expect(d?.summary).toBe(summary);
    expect(d?.range?.file).toBe(file);
    expect([d?.range?.start.line, d?.range?.start.column]).toEqual([line, column]);
    expect(d?.detail ?? '').toMatch(detail);
  });
});
