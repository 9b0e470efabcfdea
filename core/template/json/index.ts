/** Public API of the legacy JSON front end. */

export type { JsonEntry, JsonNode, JsonSpan } from './jsonAst.ts';
export { MAX_NESTING_DEPTH, packerErrorLocation, parseJson } from './jsonParser.ts';
export { loadJsonTemplate, MAX_TEMPLATE_BYTES } from './load.ts';
