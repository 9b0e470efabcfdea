/**
 * cdk-nag style tables for component rules: per rule, configurations it must pass and configurations it must
 * refuse with exactly its own findings (message and key), so each non-compliant case fails for its reason.
 */
import { describe, expect, it } from 'vitest';
import type { ComponentRule, Finding, ValidateContext } from '../../../../core/schema/spec.ts';
import type { Config } from '../../../../core/template/model.ts';

export interface RuleTable {
  readonly rule: ComponentRule;
  readonly compliant: readonly Config[];
  /** Each configuration with exactly the findings the rule must report for it. */
  readonly nonCompliant: readonly (readonly [Config, readonly Finding[]])[];
}

export const ctx: ValidateContext = {
  format: 'hcl',
  templateDir: '/tpl',
  fileExists: (p) => p === '/tpl/user-data.sh' || p === '/tpl/files/app.conf',
};

const label = (c: Config) => JSON.stringify(c);

export function describeRules(what: string, tables: Record<string, RuleTable>): void {
  describe.each(Object.entries(tables))(`${what} rule %s`, (name, table) => {
    it('is named for what it checks', () => {
      expect(table.rule.name).toBe(name);
    });
    it.each(table.compliant.map((c) => [label(c), c] as const))('passes %s', (_label, config) => {
      expect(table.rule(config, ctx)).toEqual([]);
    });
    it.each(table.nonCompliant.map(([c, f]) => [label(c), c, f] as const))('refuses %s', (_label, config, findings) => {
      expect(table.rule(config, ctx)).toEqual(findings);
    });
  });
}
