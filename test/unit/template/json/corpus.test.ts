/**
 * Every legacy JSON case of the shared corpus through the JSON front end alone. The front end owns the
 * template layer (parsing, structure, variables, only/except/override); verdicts that come from builder or
 * plugin schemas belong to the component validators and are listed below as such, not faked here.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type CorpusCase, loadManifest, prepareCase, varFileArgs } from '../../../../bench/lib/corpus-cases.ts';
import { loadJsonTemplate } from '../../../../core/frontends/json/index.ts';
import { isUnknown } from '../../../../core/template/model.ts';

/** Invalid (or unsupported) only because of a component schema or plugin: the template layer passes them. */
const COMPONENT_VERDICTS: Readonly<Record<string, string>> = {
  'packer-hcl2upgrade-aws-access-config-json': 'amazon-ebs schema: instance_type / iam_instance_profile',
  'packer-hcl2upgrade-unknown-builder-json': 'unknown builder type "potatoes"',
  'packer-core-build-prov-override': 'mock builder type "test"',
  'packer-core-build-split-func': 'mock builder type "test"',
  'packer-core-build-var-build-name': 'mock builder type "test"',
  'packer-core-build-template-path': 'mock builder type "test"',
  'sdk-parse-basic': 'mock builder type "something"',
  'sdk-parse-comment': 'mock builder type "something"',
  'sdk-validate-good-pp-only': 'mock builder type "foo"',
  'sdk-validate-good-prov-timeout': 'mock builder type "foo"',
  'amazon-ebs-interpolated-run-tags-json': 'amazon-ebs schema: ami_name "%s"',
  'boxcutter-ubuntu-json': 'plugin schema: iso_checksum_type removed',
  'image-builder-ova-packer-node-json': 'third-party goss provisioner',
  'stefanscherer-windows10-json': 'third-party parallels-iso builder',
};

const cases = loadManifest().filter((c) => c.format === 'json');
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function flag(c: CorpusCase, name: string): string[] {
  return (c.args ?? []).filter((a) => a.startsWith(`-${name}=`)).flatMap((a) => a.slice(name.length + 2).split(','));
}

async function load(c: CorpusCase, withVars = true) {
  const prepared = prepareCase(c);
  roots.push(prepared.root);
  return loadJsonTemplate(c.entry_arg, {
    cwd: prepared.cwd,
    vars: withVars ? Object.entries(c.vars ?? {}) : [],
    varFiles: withVars ? varFileArgs(c) : [],
    only: flag(c, 'only'),
    except: flag(c, 'except'),
    now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
  });
}

/**
 * Per build, the provisioner types `packer inspect` lists, filtered by each provisioner's only/except on
 * the raw builder name and by -only/-except (exact names in these cases).
 */
function expectedBuilds(c: CorpusCase, source: string): [string, string[]][] {
  const raw = JSON.parse(source) as {
    builders?: { type: string; name?: string }[];
    provisioners?: { only?: string[]; except?: string[] }[];
  };
  const only = flag(c, 'only');
  const except = flag(c, 'except');
  return (raw.builders ?? [])
    .map((b) => b.name ?? b.type)
    .filter((name) => (only.length === 0 || only.includes(name)) && !except.includes(name))
    .map((name) => [
      name,
      (raw.provisioners ?? []).flatMap((p, i) =>
        (p.only?.length ? p.only.includes(name) : !p.except?.includes(name)) ? [c.inspect_provisioners?.[i] ?? ''] : [],
      ),
    ]);
}

/** The verdict the template layer alone should give. */
function layerExpectation(c: CorpusCase): 'valid' | 'invalid' | 'needs-credentials' {
  if (c.template_expect) return c.template_expect;
  if (COMPONENT_VERDICTS[c.id]) return 'valid';
  if (c.expect === 'needs-credentials') return 'needs-credentials';
  return c.expect === 'invalid' ? 'invalid' : 'valid';
}

describe('corpus: legacy JSON cases', () => {
  it('has JSON cases to check', () => {
    expect(cases.length).toBeGreaterThan(40);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const result = await load(c);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const want = layerExpectation(c);
    if (want === 'invalid') {
      expect(errors.length, JSON.stringify(result.diagnostics)).toBeGreaterThan(0);
      // The first error names the same problem as Packer's reason (its distinctive words).
      const reason = (c.template_reason ?? c.reason ?? '').toLowerCase();
      const first = errors[0]?.summary.toLowerCase() ?? '';
      const words = first.match(/[a-z_-]{3,}/g) ?? [];
      expect(
        words.some((w) => reason.includes(w)),
        `${first} vs ${reason}`,
      ).toBe(true);
    } else if (want === 'needs-credentials') {
      expect(errors).toEqual([]);
      const secret = result.template?.variables.filter((v) => isUnknown(v.value)) ?? [];
      expect(secret.length).toBeGreaterThan(0);
      expect(result.diagnostics.some((d) => /credentials/.test(d.summary))).toBe(true);
    } else {
      expect(errors, JSON.stringify(errors)).toEqual([]);
    }
    const expected = c.inspect_provisioners ? expectedBuilds(c, result.sources.get(c.entry_arg) ?? '{}') : undefined;
    if (expected && result.template) {
      const actual = result.template.builds.map((b) => [b.name, b.provisioners.map((p) => p.type)]);
      expect(actual).toEqual(expected);
    }
  });

  it.each(cases.filter((c) => c.expect === 'valid-with-vars').map((c) => [c.id, c] as const))(
    '%s fails without its vars',
    async (_id, c) => {
      const result = await load(c, false);
      const required = result.template?.variables.filter((v) => v.required).map((v) => v.name) ?? [];
      if (required.length > 0) {
        expect(result.diagnostics.some((d) => d.summary.startsWith('required variable not set:'))).toBe(true);
      } else {
        // Undeclared variables are empty without -var; the failure then comes from the component (empty path).
        const build = result.template?.builds[0];
        expect(JSON.stringify(build?.config ?? {}) + JSON.stringify(build?.provisioners ?? [])).toMatch(/""/);
      }
    },
  );
});
