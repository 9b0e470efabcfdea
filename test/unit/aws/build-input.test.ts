/**
 * The published build input: the committed JSON Schemas are what the contract generates, a start is checked with
 * errors that name each field and say what to write, a sidecar is checked with the same fields, and a sidecar
 * upload never counts as a template.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUILD_INPUT_SCHEMA_FILE,
  parseBuildInput,
  parseSidecar,
  publishedSchemas,
  SIDECAR_SCHEMA_FILE,
  sidecarKeyFor,
  varPairs,
} from '../../../aws/build-input.ts';
import { notATemplate } from '../../../aws/trigger-contract.ts';
import { readBuildStart } from '../../../functions/common/prepare-build/input.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
};

describe('published JSON Schemas', () => {
  it.each([BUILD_INPUT_SCHEMA_FILE, SIDECAR_SCHEMA_FILE])(
    '%s equals what aws/build-input.ts generates (npm run schemas)',
    (file) => {
      const committed = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as unknown;
      expect(committed).toEqual(publishedSchemas()[file]);
    },
  );

  it('describes the start: template location and version, vars, var files, only/except, trigger; nothing else', () => {
    const schema = publishedSchemas()[BUILD_INPUT_SCHEMA_FILE] as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties).sort()).toEqual([
      'except',
      'only',
      'template',
      'trigger',
      'varFiles',
      'vars',
    ]);
    expect(Object.keys(schema.properties.template?.properties ?? {}).sort()).toEqual(['bucket', 'key', 'versionId']);
    expect(schema.required).toEqual(['template']);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('parseBuildInput', () => {
  it('accepts a full start and keeps variables in order as strings', () => {
    const input = parseBuildInput({
      template: { bucket: 'kiln-templates', key: 'templates/web.pkr.hcl', versionId: 'v1' },
      vars: { region: 'eu-west-1', count: 2, debug: false },
      varFiles: ['templates/prod.pkrvars.hcl'],
      only: ['amazon-ebs.web'],
      except: [],
      trigger: { source: 'console', requestedBy: 'ops@example.com' },
    });
    expect(varPairs(input.vars)).toEqual([
      ['region', 'eu-west-1'],
      ['count', '2'],
      ['debug', 'false'],
    ]);
  });

  it('names every wrong field, what is wrong and what to write, and the schema file', () => {
    const err = errorOf(() =>
      parseBuildInput({
        template: { bucket: 'b', key: '' },
        variables: {},
        vars: { region: ['x'] },
        only: 'web',
        trigger: { source: 'my tool' },
      }),
    );
    expect(err.name).toBe('Kiln.InputInvalid');
    expect(err.message).toMatch(/^The build input is not valid: /);
    expect(err.message).toContain('template.key: must not be empty (the template or bundle key in that bucket');
    expect(err.message).toContain('vars.region: expected one of string, number, boolean, got a list');
    expect(err.message).toContain('only: expected array, got a string (a list of build names or globs');
    expect(err.message).toContain('trigger.source: is not a word of letters, digits');
    expect(err.message).toContain('(the input): unknown field "variables" (variables go in "vars"): remove it');
    expect(err.message).toMatch(/Its JSON Schema: schemas\/build-input\.schema\.json$/);
  });

  it('says a missing template is required and a non-object is the wrong kind', () => {
    expect(errorOf(() => parseBuildInput({})).message).toContain('template: required');
    expect(errorOf(() => parseBuildInput('templates/web.pkr.hcl')).message).toContain(
      '(the input): expected object, got a string',
    );
    expect(
      errorOf(() => parseBuildInput({ template: { bucket: 'b', key: 'k' }, vars: { '1x': 'a' } })).message,
    ).toContain('is not a variable name');
  });

  it('never echoes a value into the message (a wrong value may be a secret)', () => {
    const err = errorOf(() =>
      parseBuildInput({ template: { bucket: 'b', key: 'k' }, vars: { password: { value: 'hunter2-secret' } } }),
    );
    expect(err.message).not.toContain('hunter2-secret');
  });
});

describe('PrepareBuild reads a start by its kind', () => {
  it('checks a direct start against the published schema, events by their own contract', () => {
    expect(readBuildStart({ template: { bucket: 'b', key: 'k.pkr.hcl' }, trigger: { source: 'api' } })).toMatchObject({
      trigger: 'request',
      requestedVia: { source: 'api' },
    });
    expect(
      readBuildStart({
        'detail-type': 'Object Created',
        detail: { bucket: { name: 'b' }, object: { key: 'templates/a.pkr.hcl', 'version-id': 'v' } },
      }),
    ).toMatchObject({ trigger: 's3-upload', template: { versionId: 'v' } });
    expect(errorOf(() => readBuildStart({ template: { bucket: 'b' } })).message).toContain('template.key: required');
    expect(errorOf(() => readBuildStart({ 'detail-type': 'Object Deleted', detail: {} })).message).toContain(
      'an event PrepareBuild does not take',
    );
  });
});

describe('sidecars', () => {
  it('take the start fields without template or trigger', () => {
    expect(parseSidecar({ vars: { a: 'x' }, only: ['b'] }, 'x')).toEqual({ vars: { a: 'x' }, only: ['b'] });
    const err = errorOf(() => parseSidecar({ template: { bucket: 'b', key: 'k' } }, 's3://b/k.kiln.json'));
    expect(err.name).toBe('Kiln.InputInvalid');
    expect(err.message).toContain('The sidecar s3://b/k.kiln.json is not valid: (the input): unknown field "template"');
    expect(err.message).toContain(SIDECAR_SCHEMA_FILE);
  });

  it('an uploaded sidecar is not a template (its upload builds nothing), its template still is', () => {
    const key = sidecarKeyFor('templates/web.pkr.hcl');
    expect(key).toBe('templates/web.pkr.hcl.kiln.json');
    expect(notATemplate(key)).toMatch(/is a Kiln sidecar \(the inputs of templates\/web\.pkr\.hcl\), not a template/);
    expect(notATemplate(key, '{"builders":[]}')).toMatch(/Kiln sidecar/);
    expect(notATemplate('templates/web.pkr.hcl')).toBeUndefined();
    expect(notATemplate('templates/legacy.json', '{"builders":[]}')).toBeUndefined();
  });
});
