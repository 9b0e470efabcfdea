/**
 * `data` blocks. Every data source Kiln knows is checked against its schema (core/datasources/schemas.ts), offline.
 * Offline (no resolvers) the AWS data sources are UnknownValues; with resolvers they are resolved (async, before
 * builds are evaluated). `null` is resolved at once (its output is its input, as Packer's). Other types warn and
 * stay unknown.
 */

import {
  checkDataSourceShape,
  DATA_SOURCE_SCHEMAS,
  headerRange,
  validateDataSource,
} from '../../../datasources/schemas.ts';
import type { EvalContext, LazyRoot } from '../../../hcl/eval/context.ts';
import { didYouMean } from '../../../hcl/eval/suggest.ts';
import { containsUnknown, fail, type ObjectValue, type Value } from '../../../hcl/eval/values.ts';
import type { Block } from '../../../hcl/syntax/ast.ts';
import { type Diagnostic, error, warning } from '../../../template/diagnostics.ts';
import { type Resolvers, UnknownValue } from '../../../template/model.ts';
import { evalBody } from './config-body.ts';

export const KNOWN_DATA_SOURCES: ReadonlySet<string> = new Set(DATA_SOURCE_SCHEMAS.keys());

export class DataRoot implements LazyRoot {
  readonly lazy = true as const;
  readonly values: Record<string, ObjectValue> = {};

  constructor(blocks: readonly Block[], diagnostics: Diagnostic[]) {
    for (const b of blocks) {
      const [type, name] = b.labels;
      if (type === undefined || name === undefined || b.labels.length !== 2) {
        diagnostics.push(
          error('Missing data source labels', 'A data block needs two labels: the type and the name.', b.range),
        );
        continue;
      }
      this.values[type] ??= {};
      const byType = this.values[type];
      if (name in byType) {
        diagnostics.push(
          error(
            'Duplicate data source',
            `Data source "${type}.${name}" is defined more than once.`,
            b.labelRanges[1] ?? b.range,
          ),
        );
        continue;
      }
      byType[name] = new UnknownValue(`data.${type}.${name}`);
    }
  }

  get(type: string, range: Parameters<LazyRoot['get']>[1]): Value {
    const v = this.values[type];
    if (!v)
      return fail(
        'Unsupported attribute',
        `There is no data source of type "${type}" in this template.${didYouMean(type, Object.keys(this.values))}`,
        range,
      );
    return v;
  }

  whole(): Value {
    return this.values;
  }
}

function str(v: Value | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export async function resolveDataSources(
  blocks: readonly Block[],
  root: DataRoot,
  ctx: EvalContext,
  resolvers: Resolvers | undefined,
  diagnostics: Diagnostic[],
  sensitiveValues: string[],
): Promise<void> {
  for (const b of blocks) {
    const [type, name] = b.labels;
    if (type === undefined || name === undefined) continue;
    const schema = DATA_SOURCE_SCHEMAS.get(type);
    if (!schema) evalBody(b.body, ctx, diagnostics);
    if (!schema) {
      diagnostics.push(
        warning(
          'Unknown data source type',
          `Data source type "${type}" is not known to Kiln; its attributes are unknown until run time.`,
          b.labelRanges[0] ?? b.range,
        ),
      );
      continue;
    }
    const problems: Diagnostic[] = [];
    const body = checkDataSourceShape(b.body, schema, problems);
    const { config, keyRanges } = evalBody(body, ctx, diagnostics);
    const shapeDecoded = problems.length === 0;
    problems.push(
      ...validateDataSource(schema, config, keyRanges, headerRange(b), ctx.environment.baseDir, shapeDecoded),
    );
    diagnostics.push(...problems);
    if (problems.some((d) => d.severity === 'error') || containsUnknown(config as Value)) continue;
    const byType = root.values[type] as ObjectValue;
    if (type === 'null') {
      byType[name] = { output: config.input as Value };
      continue;
    }
    if (!resolvers) continue;
    try {
      if (type === 'amazon-ami' && resolvers.amazonAmi) {
        byType[name] = (await resolvers.amazonAmi(config)) as ObjectValue;
      } else if (type === 'amazon-parameterstore' && resolvers.parameterStore) {
        const value = await resolvers.parameterStore(str(config.name as Value) ?? '', config.with_decryption === true);
        byType[name] = { value, id: str(config.name as Value) ?? '' };
        if (config.with_decryption === true) sensitiveValues.push(value);
      } else if (type === 'amazon-secretsmanager' && resolvers.secretsManager) {
        const value = await resolvers.secretsManager(
          str(config.name as Value) ?? '',
          str(config.key as Value),
          str(config.version_stage as Value),
        );
        byType[name] = { value, secret_string: value, id: str(config.name as Value) ?? '' };
        sensitiveValues.push(value);
      }
    } catch (e) {
      diagnostics.push(
        error(`Failed to resolve data source ${type}.${name}`, e instanceof Error ? e.message : String(e), b.range),
      );
    }
  }
}
