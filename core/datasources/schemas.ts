/**
 * Offline schemas of the data sources Kiln knows, from their HCL2 specs (packer-plugin-amazon
 * `datasource/<name>/data.hcl2spec.go`, Packer's `datasource/null`) and their `Configure` checks, checked with the
 * component schema kit (core/schema) as builders are. A body is checked in two passes: its shape first
 * (an attribute where the schema has a block and the reverse, as HCL's decoder reports them), then the evaluated
 * configuration through `validateComponent` (unknown arguments with did-you-mean, types, required arguments).
 */
import * as z from 'zod';
import { accessShape, filterShape } from '../builders/amazon/shape.ts';
import { argumentIsBlock, unsupportedBlock, useEqualsHint } from '../hcl/decode-messages.ts';
import { didYouMean } from '../hcl/eval/suggest.ts';
import type { Block, Body } from '../hcl/syntax/ast.ts';
import { bool, optionalShape, str } from '../schema/fields.ts';
import { type ComponentDefinition, type Finding, validateComponent } from '../schema/spec.ts';
import { type Diagnostic, error, type SourceRange } from '../template/diagnostics.ts';
import { type Config, isUnknown, type KeyRanges } from '../template/model.ts';

interface DataSourceSchema {
  readonly definition: ComponentDefinition;
  /** Names the schema decodes as nested blocks (hcldec.BlockSpec); every other name is an attribute. */
  readonly blocks: ReadonlySet<string>;
}

/** Unset as Go's zero value: absent, null, "" or an empty list or map. Unknown values are never "unset". */
function unset(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (isUnknown(v)) return false;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v as object).length === 0;
}

/** awscommon.AccessConfig.Prepare's offline checks. */
function accessRules(config: Config): Finding[] {
  const out: Finding[] = [];
  if (unset(config.access_key) !== unset(config.secret_key))
    out.push({
      message: '`access_key` and `secret_key` must both be either set or not set.',
      key: unset(config.access_key) ? 'secret_key' : 'access_key',
    });
  return out;
}

function define(
  type: string,
  shape: z.ZodRawShape,
  blocks: readonly string[],
  rules: (config: Config) => Finding[],
): DataSourceSchema {
  return {
    definition: {
      type,
      kind: 'builder',
      metaKeys: [],
      shape,
      schema: z.looseObject(optionalShape(shape)),
      rules: (config) => rules(config),
    },
    blocks: new Set(blocks),
  };
}

const AWS_BLOCKS = ['assume_role', 'vault_aws_engine', 'aws_polling'];

export const DATA_SOURCE_SCHEMAS: ReadonlyMap<string, DataSourceSchema> = new Map([
  [
    'amazon-ami',
    define('amazon-ami', { ...accessShape, ...filterShape }, AWS_BLOCKS, (c) => [
      ...accessRules(c),
      ...(unset(c.filters) ? [{ message: 'The `filters` must be specified' }] : []),
      ...(unset(c.owners) ? [{ message: 'For security reasons, you must declare an owner.' }] : []),
    ]),
  ],
  [
    'amazon-parameterstore',
    define('amazon-parameterstore', { ...accessShape, name: str(), with_decryption: bool() }, AWS_BLOCKS, (c) => [
      ...accessRules(c),
      ...(unset(c.name) ? [{ message: "a 'name' must be provided" }] : []),
    ]),
  ],
  [
    'amazon-secretsmanager',
    define(
      'amazon-secretsmanager',
      { ...accessShape, name: str(), key: str(), version_id: str(), version_stage: str() },
      AWS_BLOCKS,
      (c) => [...accessRules(c), ...(unset(c.name) ? [{ message: "a 'name' must be provided" }] : [])],
    ),
  ],
  [
    'null',
    define('null', { input: str() }, [], (c) => (unset(c.input) ? [{ message: 'The `input` must be specified' }] : [])),
  ],
]);

/** The block's header (type and labels), where HCL points a block's own problems (its DefRange). */
export function headerRange(b: Block): SourceRange {
  const last = b.labelRanges[b.labelRanges.length - 1];
  return last ? { file: b.typeRange.file, start: b.typeRange.start, end: last.end } : b.typeRange;
}

/**
 * The shape pass: returns the body without the items HCL's decoder would refuse for their kind, with one
 * diagnostic each worded as HCL words it.
 */
export function checkDataSourceShape(body: Body, schema: DataSourceSchema, diagnostics: Diagnostic[]): Body {
  const names = Object.keys(schema.definition.shape);
  const attributes = body.attributes.filter((a) => {
    if (!schema.blocks.has(a.name)) return true;
    diagnostics.push(argumentIsBlock(a.name, a.nameRange));
    return false;
  });
  const seen = new Map<string, SourceRange>();
  const blocks = body.blocks.filter((b) => {
    const name = b.type === 'dynamic' ? (b.labels[0] ?? '') : b.type;
    if (schema.blocks.has(name)) {
      const first = seen.get(name);
      if (first && b.type !== 'dynamic') {
        diagnostics.push(
          error(
            `Duplicate ${name} block`,
            `Only one "${name}" block is allowed. Another was defined at ${first.file}:${first.start.line},${first.start.column}.`,
            b.typeRange,
          ),
        );
        return false;
      }
      seen.set(name, b.typeRange);
      return true;
    }
    const hint = names.includes(name) ? useEqualsHint(name) : didYouMean(name, [...schema.blocks]);
    diagnostics.push(unsupportedBlock(name, hint, b.typeRange));
    return false;
  });
  return { attributes, blocks, range: body.range };
}

/**
 * The configuration pass, through the component kit. As in Packer, the decoder's problems (unknown arguments,
 * types) come first and stop there; only a configuration that decodes reaches the data source's own `Configure`
 * checks (required arguments), reported at the block's header `range`.
 */
export function validateDataSource(
  schema: DataSourceSchema,
  config: Config,
  keyRanges: KeyRanges,
  range: SourceRange,
  templateDir: string,
  /** False when the shape pass refused something: the body did not decode, so no `Configure` check runs. */
  shapeDecoded = true,
): Diagnostic[] {
  const { rules, ...decoding } = schema.definition;
  const decoded = validateComponent(decoding, config, keyRanges, {
    format: 'hcl',
    templateDir,
    fileExists: () => true,
    range,
  });
  if (!shapeDecoded || decoded.some((d) => d.severity === 'error') || !rules) return decoded;
  const configured = rules(config, { format: 'hcl', templateDir, fileExists: () => true, range });
  return [
    ...decoded,
    ...configured.map((f) => error(f.message, f.detail, (f.key !== undefined ? keyRanges[f.key] : undefined) ?? range)),
  ];
}
