/**
 * Table-driven over test/fixtures/components/<kind>/<type>/<case>.json: each fixture is one component
 * configuration plus the error (and warning) summaries Packer would give, or none for a compliant one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILDERS } from '../../../core/builders/registry.ts';
import { POST_PROCESSORS } from '../../../core/postprocessors/registry.ts';
import { PROVISIONERS } from '../../../core/provisioners/registry.ts';
import type { ComponentSpec, ValidateContext } from '../../../core/schema/spec.ts';

interface Fixture {
  readonly type: string;
  readonly format?: 'json' | 'hcl';
  readonly config: Record<string, unknown>;
  /** Files that exist, relative to the template directory. */
  readonly files?: readonly string[];
  /** Each expected error summary starts with one of these, one for one. */
  readonly errors: readonly string[];
  readonly warnings?: readonly string[];
  /** The detail of the first error. */
  readonly detail?: string;
}

const ROOT = resolve(import.meta.dirname, '../../fixtures/components');
const TEMPLATE_DIR = '/templates/project';
const REGISTRIES: Record<string, ReadonlyMap<string, ComponentSpec>> = {
  builders: BUILDERS,
  provisioners: PROVISIONERS,
  postprocessors: POST_PROCESSORS,
};

function fixtures(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? fixtures(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : [],
  );
}

for (const kind of Object.keys(REGISTRIES)) {
  describe(kind, () => {
    for (const path of fixtures(join(ROOT, kind))) {
      const fixture = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
      it(relative(ROOT, path), () => {
        const spec = REGISTRIES[kind]?.get(fixture.type);
        expect(spec, `no ${kind} spec for ${fixture.type}`).toBeDefined();
        const existing = new Set((fixture.files ?? []).map((f) => resolve(TEMPLATE_DIR, f)));
        const ctx: ValidateContext = {
          format: fixture.format ?? 'json',
          templateDir: TEMPLATE_DIR,
          fileExists: (p) => existing.has(p) || existing.has(`${p}/`),
        };
        const diagnostics = spec?.validate(fixture.config, undefined, ctx) ?? [];
        const errors = diagnostics.filter((d) => d.severity === 'error');
        const warnings = diagnostics.filter((d) => d.severity === 'warning');
        expect(errors.map((d) => d.summary)).toHaveLength(fixture.errors.length);
        for (const expected of fixture.errors) {
          expect(
            errors.some((d) => d.summary.startsWith(expected)),
            `missing error "${expected}" in ${JSON.stringify(errors)}`,
          ).toBe(true);
        }
        for (const expected of fixture.warnings ?? []) {
          expect(warnings.some((d) => d.summary.startsWith(expected))).toBe(true);
        }
        if (fixture.detail) expect(errors[0]?.detail).toBe(fixture.detail);
      });
    }
  });
}
