/** Corpus-style fixtures for issue 13's classes (test/fixtures/hcl/issue13): each file states Packer's verdict. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/template/hcl/index.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../fixtures/hcl/issue13');
const load = (rel: string) => loadHclTemplate(rel, { cwd: FIXTURES });

describe('issue 13 fixtures', () => {
  it.each([
    ['valid/operator-grouping.pkr.hcl', 'echo m5.large 80,8080 5'],
    [
      'valid/cidr-ipv6.pkr.hcl',
      'echo fd00:fd12:3456:7800::10 fd00:fd12:3456:7800:a200::/72 fd00:fd12:3456:7800::/72 fd00:fd12:3456:7800:100::/72 fd00:fd12:3456:7800:200::/72 fd00:fd12:3456:7800:300::/88',
    ],
  ])('%s is valid and renders %s', async (file, inline) => {
    const r = await load(file);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.template?.builds[0]?.provisioners[0]?.config.inline).toEqual([inline]);
  });

  it.each([
    ['invalid/data-filters-block.pkr.hcl', 'Unsupported block type', 4, 3, /use the equals sign/],
    ['invalid/data-no-owner.pkr.hcl', 'For security reasons, you must declare an owner.', 2, 1, /^$/],
    ['invalid/data-null-typo.pkr.hcl', 'Unsupported argument', 3, 3, /"inptu".*Did you mean "input"/],
    ['invalid/vault-no-address.pkr.hcl', 'Error in function call', 4, 14, /needs a Vault address \(VAULT_ADDR\)/],
  ])('%s → %s at %i:%i', async (file, summary, line, column, detail) => {
    const r = await load(file);
    const d = r.diagnostics.find((x) => x.severity === 'error');
    expect(d?.summary).toBe(summary);
    expect(d?.range?.file).toBe(file);
    expect([d?.range?.start.line, d?.range?.start.column]).toEqual([line, column]);
    expect(d?.detail ?? '').toMatch(detail);
  });
});
