/**
 * docs/events.md's reference part, generated from the zod schemas of aws/events-contract.ts (their JSON Schema
 * and descriptions), so the documented fields are the checked ones. `node --import tsx scripts/events-doc.ts`
 * rewrites the part between the markers; test/unit/aws/events-doc.test.ts fails when the file and the schemas
 * differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { KILN_DETAIL_SCHEMAS, KILN_DETAIL_TYPES, KILN_EVENT_SOURCE } from '../aws/events-contract.ts';

export const EVENTS_DOC = join(import.meta.dirname, '..', 'docs', 'events.md');
export const BEGIN = '<!-- generated from aws/events-contract.ts by scripts/events-doc.ts: do not edit below -->';
export const END = '<!-- end of generated part -->';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

/** One row per field, nested objects (and arrays of objects) flattened as `parent.child` / `parent[].child`. */
function rows(schema: JsonSchema, prefix = ''): string[] {
  const out: string[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    const cell = (field.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    out.push(`| \`${path}\` | ${typeOf(field)} | ${required.has(name) ? 'yes' : 'no'} | ${cell} |`);
    if (field.properties) out.push(...rows(field, `${path}.`));
    if (field.type === 'array' && field.items?.properties) out.push(...rows(field.items, `${path}[].`));
  }
  return out;
}

export function renderEventsReference(): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (const detailType of Object.values(KILN_DETAIL_TYPES)) {
    const zod = KILN_DETAIL_SCHEMAS[detailType];
    const schema = z.toJSONSchema(zod) as JsonSchema;
    parts.push(`### \`${detailType}\``, '', schema.description ?? '', '');
    const same = Object.entries(KILN_DETAIL_SCHEMAS).find(([t, s]) => s === zod && t !== detailType && seen.has(s));
    if (same) {
      parts.push(`Detail: as \`${same[0]}\` above.`, '');
      continue;
    }
    seen.add(zod);
    parts.push(
      `Pattern: \`{ "source": ["${KILN_EVENT_SOURCE}"], "detail-type": ["${detailType}"] }\``,
      '',
      '| field | type | required | meaning |',
      '| --- | --- | --- | --- |',
      ...rows(schema),
      '',
    );
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

/** The doc with its generated part replaced. */
export function withReference(doc: string, reference: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${EVENTS_DOC} lacks the markers ${BEGIN} … ${END}`);
  return `${doc.slice(0, start + BEGIN.length)}\n\n${reference}\n${doc.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(EVENTS_DOC, withReference(readFileSync(EVENTS_DOC, 'utf8'), renderEventsReference()));
}
