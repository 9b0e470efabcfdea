/** JSON syntax tree with the source offsets (UTF-16 indices) of every key and value. */

export interface JsonSpan {
  readonly start: number;
  /** Just past the last character. */
  readonly end: number;
}

export interface JsonEntry {
  readonly key: string;
  readonly keySpan: JsonSpan;
  readonly value: JsonNode;
}

export type JsonNode =
  | (JsonSpan & { readonly kind: 'object'; readonly entries: readonly JsonEntry[] })
  | (JsonSpan & { readonly kind: 'array'; readonly items: readonly JsonNode[] })
  | (JsonSpan & { readonly kind: 'string'; readonly value: string })
  | (JsonSpan & { readonly kind: 'number'; readonly value: number; readonly raw: string })
  | (JsonSpan & { readonly kind: 'bool'; readonly value: boolean })
  | (JsonSpan & { readonly kind: 'null' });

export type JsonObjectNode = Extract<JsonNode, { kind: 'object' }>;
export type JsonArrayNode = Extract<JsonNode, { kind: 'array' }>;

/** Go's names for decoded JSON types, used in Packer's decoding errors. */
export function goJsonType(n: JsonNode): string {
  switch (n.kind) {
    case 'object':
      return 'map[string]interface {}';
    case 'array':
      return '[]interface {}';
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'bool':
      return 'bool';
    case 'null':
      return 'nil';
  }
}

export function getEntry(obj: JsonObjectNode, key: string): JsonEntry | undefined {
  // Duplicate keys are rejected before anything reads the tree, so the first match is the only one.
  return obj.entries.find((e) => e.key === key);
}
