/** `-var-file` JSON files: an object of strings (Packer decodes them into map[string]string). */
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import { goJsonType } from './jsonAst.ts';
import { packerErrorLocation, parseJson } from './jsonParser.ts';
import { SourceMap } from './sourceMap.ts';

export function parseVarFile(path: string, text: string): { values: [string, string][]; diagnostics: Diagnostic[] } {
  const map = new SourceMap(path, text);
  const parsed = parseJson(text);
  if (!parsed.ok) {
    const loc = packerErrorLocation(text, parsed.error);
    return {
      values: [],
      diagnostics: [
        error(
          `Error parsing var-file: ${parsed.error.message}`,
          `At line ${loc.line}, column ${loc.column} (offset ${loc.offset})`,
          map.point(parsed.error.index),
        ),
      ],
    };
  }
  const root = parsed.value;
  if (root.kind !== 'object') {
    return {
      values: [],
      diagnostics: [
        error(
          `Error reading var-file: json: cannot unmarshal ${goJsonType(root)} into Go value of type map[string]string`,
          undefined,
          map.range(root),
        ),
      ],
    };
  }
  const values: [string, string][] = [];
  const diagnostics: Diagnostic[] = [];
  for (const e of root.entries) {
    if (e.value.kind === 'string') values.push([e.key, e.value.value]);
    // Go's json.Unmarshal into map[string]string stores null as "" (the key counts as set).
    else if (e.value.kind === 'null') values.push([e.key, '']);
    else {
      const kind = e.value.kind === 'bool' ? 'bool' : e.value.kind === 'object' ? 'object' : e.value.kind;
      diagnostics.push(
        error(
          `Error reading var-file: json: cannot unmarshal ${kind} into Go value of type string`,
          `variable "${e.key}"`,
          map.range(e.value),
        ),
      );
    }
  }
  return { values, diagnostics };
}
