/**
 * The published input of a direct build start (console "Start execution", the API, `kiln submit`) and of a
 * template's sidecar (`<template key>.kiln.json` beside an upload, or `kiln.json` at a bundle's root). One owner:
 * PrepareBuild checks a start with it before anything else, `kiln submit` builds its StartExecution input with it,
 * and `schemas/build-input.schema.json` / `schemas/sidecar.schema.json` are generated from it (a test keeps the
 * committed files equal to the generated ones).
 */
import * as z from 'zod/mini';
import { InputInvalidError } from '../core/errors.ts';

/** Where the published JSON Schemas live in the repository (named in every input error). */
export const BUILD_INPUT_SCHEMA_FILE = 'schemas/build-input.schema.json';
export const SIDECAR_SCHEMA_FILE = 'schemas/sidecar.schema.json';

/** A sidecar beside a template upload: `templates/web.pkr.hcl` → `templates/web.pkr.hcl.kiln.json`. */
export const SIDECAR_SUFFIX = '.kiln.json';
/** A sidecar inside a bundle: this file at the bundle's root (next to the template). */
export const BUNDLE_SIDECAR_FILE = 'kiln.json';
export const sidecarKeyFor = (templateKey: string): string => `${templateKey}${SIDECAR_SUFFIX}`;
export const isSidecarKey = (key: string): boolean => key.toLowerCase().endsWith(SIDECAR_SUFFIX);

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const name = z.string().check(z.minLength(1), z.maxLength(128));

const varsSchema = z
  .union([
    z.record(
      z.string().check(z.regex(VAR_NAME, 'a variable name: letters, digits, _ and -, not starting with a digit')),
      z.union([z.string(), z.number(), z.boolean()]),
    ),
    z.array(z.tuple([z.string().check(z.regex(VAR_NAME, 'a variable name')), z.string()])),
  ])
  .check(
    z.describe(
      'Template variables: { "region": "eu-west-1" } (numbers and booleans as Packer reads them), or [name, value] pairs applied in order',
    ),
  );

/** The inputs a start and a sidecar share: variables, var files, only/except. */
const inputFields = {
  vars: z.optional(varsSchema),
  varFiles: z.optional(
    z
      .array(z.string().check(z.minLength(1), z.maxLength(1024)))
      .check(
        z.maxLength(32),
        z.describe(
          'Variable files: keys in the template bucket (.pkrvars.hcl, .pkrvars.json or a legacy .json), applied in order after vars',
        ),
      ),
  ),
  only: z.optional(
    z
      .array(name)
      .check(z.maxLength(100), z.describe('Build only these builds (names or globs, as packer build -only)')),
  ),
  except: z.optional(
    z
      .array(name)
      .check(
        z.maxLength(100),
        z.describe('Skip these builds and post-processors (names or globs, as packer build -except)'),
      ),
  ),
};

/** Who or what asked for the build; recorded for people, never used to decide anything. */
export const triggerMetadataSchema = z.strictObject({
  source: z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(64),
      z.regex(/^[A-Za-z0-9._:-]+$/, 'a word of letters, digits, . _ : -'),
      z.describe("What started the build: console, api, kiln-submit, or your tool's name"),
    ),
  requestedBy: z.optional(
    z
      .string()
      .check(z.maxLength(256), z.describe('A person or system, free text (no secret: the execution history keeps it)')),
  ),
  contentSha256: z.optional(
    z
      .string()
      .check(
        z.regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
        z.describe('kiln submit: sha256 of the uploaded bundle and inputs (the execution name derives from it)'),
      ),
  ),
});

export const buildInputSchema = z.strictObject({
  template: z.strictObject({
    bucket: z
      .string()
      .check(z.minLength(1), z.maxLength(63), z.describe('The template bucket (stack output TemplateBucketName)')),
    key: z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(1024),
        z.describe('A template (.pkr.hcl, .pkr.json, .json) or bundle (.zip, .tar.gz, .tgz) key in that bucket'),
      ),
    versionId: z.optional(
      z
        .string()
        .check(z.minLength(1), z.maxLength(1024), z.describe('The object version to build; absent: the latest')),
    ),
  }),
  ...inputFields,
  trigger: z.optional(triggerMetadataSchema),
});
export type BuildInput = z.infer<typeof buildInputSchema>;

/** A sidecar: the same fields as a start, without the template (it is the file beside it) or trigger. */
export const sidecarSchema = z.strictObject({ ...inputFields });
export type SidecarInput = z.infer<typeof sidecarSchema>;

/** What to do about an issue at a field, so the error says how to fix it, not only what is wrong. */
const HINTS: readonly [RegExp, string][] = [
  [/^template$/, 'give { "bucket": <TemplateBucketName>, "key": "templates/…" }'],
  [/^template\.bucket$/, 'the template bucket name (stack output TemplateBucketName)'],
  [/^template\.key$/, 'the template or bundle key in that bucket, e.g. templates/web.pkr.hcl'],
  [/^vars/, 'vars is an object of name → string, number or boolean (or a list of [name, value] pairs)'],
  [/^varFiles/, 'varFiles is a list of keys in the template bucket'],
  [/^(only|except)/, 'a list of build names or globs, e.g. ["amazon-ebs.web"]'],
  [/^trigger/, 'trigger is { "source": "console" } with optional requestedBy'],
];

type Issue = z.core.$ZodIssue;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = root;
  for (const p of path)
    at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[p] : undefined;
  return at;
}

/** What is wrong, in words: zod/mini carries no locale here (the aws layer sets no global configuration). */
function problem(issue: Issue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? 'required' : `expected ${issue.expected}, got ${typeOf(value)}`;
    case 'too_small':
      return issue.origin === 'string'
        ? issue.minimum === 1
          ? 'must not be empty'
          : `must be at least ${issue.minimum} characters`
        : `must have at least ${issue.minimum} entries`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${issue.maximum} characters`
        : `must have at most ${issue.maximum} entries`;
    case 'invalid_format':
      return `is not ${issue.message && issue.message !== 'Invalid input' ? issue.message : `in the form ${(issue as { pattern?: string }).pattern ?? issue.format}`}`;
    case 'invalid_key':
      return 'is not a variable name (letters, digits, _ and -, not starting with a digit)';
    default:
      return issue.message && issue.message !== 'Invalid input' ? issue.message : 'is not valid';
  }
}

/**
 * One readable line per problem. A union (vars: an object or a list of pairs) is explained by the branch that
 * matches the value's shape, so `vars.x: expected string, number or boolean` rather than "Invalid input".
 */
function describeIssues(issue: Issue, root: unknown, base: readonly PropertyKey[] = []): string[] {
  const path = [...base, ...issue.path];
  const where = path.map(String).join('.') || '(the input)';
  const value = valueAt(root, path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const hint = keys.includes('variables') ? ' (variables go in "vars")' : '';
    return [
      `${where}: unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}${hint}: remove ${keys.length > 1 ? 'them' : 'it'}`,
    ];
  }
  if (issue.code === 'invalid_union') {
    const branches = issue.errors;
    // The value's own shape picks the branch to explain (an object → the map form, a list → the pairs form).
    const pick =
      branches.find((b) => b.every((i) => i.code !== 'invalid_type' || i.path.length > 0)) ??
      (Array.isArray(value) ? branches[1] : branches[0]);
    const scalarOnly = branches.every((b) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0);
    if (scalarOnly) {
      const expected = branches.map((b) => (b[0] as { expected?: string }).expected).join(', ');
      return [`${where}: expected one of ${expected}, got ${typeOf(value)}${hintFor(path)}`];
    }
    if (pick && pick.length > 0) return pick.flatMap((i) => describeIssues(i, root, path));
  }
  return [`${where}: ${problem(issue, value)}${hintFor(path)}`];
}

function hintFor(path: readonly PropertyKey[]): string {
  const text = path.map(String).join('.');
  const hint = HINTS.find(([re]) => re.test(text))?.[1];
  return hint ? ` (${hint})` : '';
}

/**
 * Checks a value against a schema and throws `Kiln.InputInvalid` naming every wrong field, what is wrong and what
 * to write instead, and the schema file to check against.
 */
function check<S extends z.core.$ZodType>(schema: S, value: unknown, what: string, schemaFile: string): z.infer<S> {
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.flatMap((i) => describeIssues(i, value));
  throw new InputInvalidError(`${what} is not valid: ${issues.join('; ')}. Its JSON Schema: ${schemaFile}`);
}

export const parseBuildInput = (value: unknown): BuildInput =>
  check(buildInputSchema, value, 'The build input', BUILD_INPUT_SCHEMA_FILE);

export const parseSidecar = (value: unknown, label: string): SidecarInput =>
  check(sidecarSchema, value, `The sidecar ${label}`, SIDECAR_SCHEMA_FILE);

/** Variables as ordered pairs of strings, the form the template engine takes. */
export function varPairs(vars: BuildInput['vars']): [string, string][] {
  if (vars === undefined) return [];
  return Array.isArray(vars) ? vars.map(([k, v]) => [k, v]) : Object.entries(vars).map(([k, v]) => [k, String(v)]);
}

/** The JSON Schemas as published (draft 2020-12), generated from the schemas above. */
export function publishedSchemas(): Record<string, object> {
  const make = (schema: z.core.$ZodType, id: string, title: string, description: string) => ({
    ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }),
    $id: id,
    title,
    description,
  });
  return {
    [BUILD_INPUT_SCHEMA_FILE]: make(
      buildInputSchema,
      'https://kiln.dev/schemas/build-input.schema.json',
      'Kiln build input',
      'The execution input of a direct start of the Kiln build state machine (console, API, kiln submit). PrepareBuild checks it before anything else and fails with Kiln.InputInvalid naming each wrong field.',
    ),
    [SIDECAR_SCHEMA_FILE]: make(
      sidecarSchema,
      'https://kiln.dev/schemas/sidecar.schema.json',
      'Kiln template sidecar',
      'Inputs of an uploaded template: <template key>.kiln.json beside it in the template bucket, or kiln.json at the root of a bundle. An upload of it starts no build.',
    ),
  };
}
