import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadJsonTemplate } from '../../../../core/frontends/json/index.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/json');

/** Each fixture file fails with exactly one error: Packer's message and where it points. */
const CASES: readonly (readonly [file: string, summary: string, where: string, detail?: RegExp])[] = [
  ['duplicate_builder_name.json', "builder 2: builder with name 'a' already exists", '4:31'],
  ['unknown_root_key.json', "Unknown root level key in template: 'provisioner'", '3:3', /Did you mean "provisioners"/],
  ['nested_post_processor_chain.json', 'post-processor 1.2: sequence not allowed to be nested in a sequence', '6:7'],
  ['builder_missing_type.json', "builder 1: missing 'type'", '3:5'],
  ['no_builders.json', 'at least one builder must be defined', '2:3'],
  [
    'provisioner_only_unknown.json',
    "provisioner 1: 'only' specified builder 'wbe' not found",
    '4:38',
    /Did you mean "web"/,
  ],
  ['provisioner_except_unknown.json', "provisioner 1: 'except' specified builder 'docker' not found", '4:40'],
  ['provisioner_only_and_except.json', "provisioner 1: only one of 'only' or 'except' may be specified", '4:58'],
  ['override_unknown_builder.json', "provisioner 1: override 'amazon-ebs' doesn't exist", '8:9'],
  ['post_processor_only_unknown.json', "post-processor 1.1: 'only' specified builder 'nope' not found", '4:35'],
  ['post_processor_missing_type.json', 'post-processor 1.2: type is required', '4:18'],
  ['post_processor_bad_format.json', 'post-processor 1: bad format', '3:23'],
  ['provisioner_missing_type.json', "provisioner 1: Provisioner missing 'type'", '3:20'],
  ['provisioners_not_array.json', "'provisioners': source data must be an array or slice, got string", '3:19'],
  [
    'syntax_missing_comma.json',
    `Error parsing JSON: invalid character '"' after object key:value pair`,
    '5:3',
    /At line 5, column 4 \(offset 48\)/,
  ],
  ['syntax_trailing_comma.json', "Error parsing JSON: invalid character ']' looking for beginning of value", '2:35'],
  ['syntax_unterminated.json', 'Error parsing JSON: unexpected end of JSON input', '3:1'],
  ['duplicate_nested_key.json', 'template has duplicate field: communicator', '6:7'],
  ['min_version_too_high.json', 'This template requires Packer version 99.1.0 or higher; using 1.16.0', '2:25'],
  ['min_version_malformed.json', 'min_version is invalid: Malformed version: one.two', '2:25'],
  ['required_variable.json', 'required variable not set: region', '3:5'],
  [
    'variable_not_string.json',
    "variable count: '' expected type 'string', got unconvertible type 'float64', value: '3'",
    '3:14',
  ],
  ['unknown_function.json', 'builder "null": error rendering "communicator": function "nope" not defined', '3:43'],
  [
    'env_outside_variables.json',
    'builder "null": error rendering "communicator": error calling env: env vars are not allowed here',
    '3:43',
  ],
  ['comment_not_string.json', 'Failed to cast root level comment value in comment "_comment" to string.', '2:15'],
  ['bad_pause_before.json', 'provisioner 1: Error decoding provisioner: time: invalid duration "ten seconds"', '4:46'],
  [
    'bad_max_retries.json',
    '`max_retries` must be a valid integer: strconv.Atoi: parsing "many": invalid syntax',
    '4:45',
  ],
  [
    'vault_not_supported.json',
    "error interpolating default value for 'token': error calling vault: vault is not supported by Kiln",
    '3:14',
  ],
];

describe('legacy JSON fixtures', () => {
  const rows = CASES.map(([file, summary, where, detail]) => ({ file, summary, where, detail }));
  it.each(rows)('$file → $summary at $where', async ({ file, summary, where, detail }) => {
    const result = await loadJsonTemplate(file, { cwd: FIXTURES, now: new Date(0) });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    const [e] = errors;
    expect(e?.summary.startsWith(summary)).toBe(true);
    expect(`${e?.range?.start.line}:${e?.range?.start.column}`).toBe(where);
    expect(e?.range?.file).toBe(file);
    if (detail) expect(e?.detail).toMatch(detail);
  });
});
