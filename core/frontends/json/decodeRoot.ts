/**
 * Turns the JSON tree of a legacy template into raw template parts, with Packer's parse-time checks
 * (packer-plugin-sdk template/parse.go): root keys, variable defaults, builder/provisioner/post-processor
 * shapes. Collects every problem; nothing here interpolates.
 */
import { type Diagnostic, error } from '../../template/diagnostics.ts';
import { suggest } from '../../template/suggest.ts';
import { decodePostProcessorChain, decodeProvisioner, type Reporter } from './decodeComponents.ts';
import { type Decoded, decodeArray, decodeString, decodeStringList, unconvertible } from './decodeValues.ts';
import { getEntry, type JsonNode, type JsonObjectNode, type JsonSpan } from './jsonAst.ts';
import type { SourceMap } from './sourceMap.ts';

export interface RawVariable {
  readonly name: string;
  readonly keySpan: JsonSpan;
  readonly valueNode: JsonNode;
  readonly required: boolean;
  readonly default?: string;
}

export interface RawBuilder {
  readonly index: number;
  readonly type: string;
  /** As written (may contain `{{ }}`); defaults to the type. */
  readonly name: string;
  readonly node: JsonObjectNode;
}

export interface RawProvisioner {
  readonly index: number;
  readonly type: string;
  readonly node: JsonObjectNode;
  readonly only: readonly string[];
  readonly except: readonly string[];
  readonly override?: JsonObjectNode;
  readonly pauseBefore?: string;
  readonly maxRetries?: string;
  readonly timeout?: string;
}

export interface RawPostProcessor {
  readonly chain: number;
  readonly index: number;
  readonly type: string;
  readonly name: string;
  /** Absent for the bare-string form. */
  readonly node?: JsonObjectNode;
  readonly span: JsonSpan;
  readonly only: readonly string[];
  readonly except: readonly string[];
  readonly keepInputArtifact?: boolean;
}

export interface RawTemplate {
  readonly description?: string;
  readonly minVersion?: { readonly value: string; readonly span: JsonSpan };
  readonly variables: readonly RawVariable[];
  readonly sensitiveVariables: readonly string[];
  readonly builders: readonly RawBuilder[];
  readonly buildersSpan?: JsonSpan;
  readonly provisioners: readonly RawProvisioner[];
  readonly cleanupProvisioner?: RawProvisioner;
  readonly postProcessors: readonly (readonly RawPostProcessor[])[];
}

/** Root keys Packer's rawTemplate decodes (`push` and `comments` are legacy and ignored). */
export const ROOT_KEYS = [
  'builders',
  'description',
  'error-cleanup-provisioner',
  'min_packer_version',
  'post-processors',
  'provisioners',
  'sensitive-variables',
  'variables',
  'push',
  'comments',
] as const;

/** Keys Packer strips from a provisioner before handing the rest to the plugin. */
const PROVISIONER_META = ['except', 'only', 'override', 'pause_before', 'max_retries', 'type', 'timeout'];
const POST_PROCESSOR_META = ['except', 'only', 'keep_input_artifact', 'type', 'name'];
const BUILDER_META = ['name', 'type'];

export function metaKeysOf(kind: 'builder' | 'provisioner' | 'post-processor'): readonly string[] {
  return kind === 'builder' ? BUILDER_META : kind === 'provisioner' ? PROVISIONER_META : POST_PROCESSOR_META;
}

class RootDecoder implements Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(private readonly map: SourceMap) {}

  fail(summary: string, span: JsonSpan, detail?: string): void {
    this.diagnostics.push(error(summary, detail, this.map.range(span)));
  }

  take<T>(decoded: Decoded<T>, prefix = ''): T | undefined {
    if (decoded.ok) return decoded.value;
    this.fail(prefix + decoded.error, decoded.node);
    return undefined;
  }

  root(node: JsonNode): RawTemplate | undefined {
    if (node.kind !== 'object') {
      this.fail(`'' expected a map, got '${node.kind === 'array' ? 'slice' : node.kind}'`, node);
      return undefined;
    }
    const known = new Set<string>(ROOT_KEYS);
    const unknown = node.entries.filter((e) => !known.has(e.key)).sort((a, b) => (a.key < b.key ? -1 : 1));
    for (const e of unknown) {
      if (e.key.startsWith('_')) {
        // Root keys starting with `_` are comments, but Packer insists they be strings.
        if (e.value.kind !== 'string') {
          this.fail(`Failed to cast root level comment value in comment "${e.key}" to string.`, e.value);
        }
        continue;
      }
      const hint = suggest(e.key, ROOT_KEYS.slice(0, 8));
      this.fail(
        `Unknown root level key in template: '${e.key}'`,
        e.keySpan,
        hint ? `Did you mean "${hint}"?` : undefined,
      );
    }
    const get = (k: string) => getEntry(node, k)?.value;
    const description = this.optionalString('description', get('description'));
    const minNode = get('min_packer_version');
    const minVersion = this.optionalString('min_packer_version', minNode);
    const sensitiveNode = get('sensitive-variables');
    const sensitiveVariables = sensitiveNode
      ? (this.take(decodeStringList('sensitive-variables', sensitiveNode, false)) ?? [])
      : [];
    const variables = this.variables(get('variables'));
    const builderNodes = this.list('builders', get('builders'));
    const ppNodes = this.list('post-processors', get('post-processors'));
    const provNodes = this.list('provisioners', get('provisioners'));
    const builders = this.builders(builderNodes);
    const postProcessors = ppNodes.flatMap((n, i) => decodePostProcessorChain(this, n, i));
    const provisioners = provNodes.flatMap((n, i) => {
      const p = decodeProvisioner(this, n, i, `provisioner ${i + 1}: `);
      return p ? [p] : [];
    });
    const cleanupNode = get('error-cleanup-provisioner');
    const cleanupProvisioner =
      cleanupNode && cleanupNode.kind !== 'null'
        ? decodeProvisioner(this, cleanupNode, 0, 'On Error Cleanup Provisioner error: ')
        : undefined;
    const buildersSpan = getEntry(node, 'builders')?.keySpan;
    return {
      ...(description !== undefined ? { description } : {}),
      ...(minVersion && minNode ? { minVersion: { value: minVersion, span: minNode } } : {}),
      variables,
      sensitiveVariables,
      builders,
      ...(buildersSpan ? { buildersSpan } : {}),
      provisioners,
      ...(cleanupProvisioner ? { cleanupProvisioner } : {}),
      postProcessors,
    };
  }

  private optionalString(name: string, n: JsonNode | undefined): string | undefined {
    if (!n) return undefined;
    const s = this.take(decodeString(name, n, false));
    return s === '' ? undefined : s;
  }

  private list(name: string, n: JsonNode | undefined): readonly JsonNode[] {
    return n ? (this.take(decodeArray(name, n)) ?? []) : [];
  }

  private variables(n: JsonNode | undefined): RawVariable[] {
    if (!n || n.kind === 'null') return [];
    if (n.kind !== 'object') {
      this.fail(`'variables' expected a map, got '${n.kind === 'array' ? 'slice' : n.kind}'`, n);
      return [];
    }
    const out: RawVariable[] = [];
    for (const e of n.entries) {
      if (e.value.kind === 'null') {
        out.push({ name: e.key, keySpan: e.keySpan, valueNode: e.value, required: true });
        continue;
      }
      if (e.value.kind !== 'string') {
        this.fail(`variable ${e.key}: ${unconvertible('', 'string', e.value)}`, e.value);
        continue;
      }
      out.push({ name: e.key, keySpan: e.keySpan, valueNode: e.value, required: false, default: e.value.value });
    }
    return out;
  }

  private builders(nodes: readonly JsonNode[]): RawBuilder[] {
    const out: RawBuilder[] = [];
    const names = new Set<string>();
    nodes.forEach((n, i) => {
      const prefix = `builder ${i + 1}: `;
      if (n.kind !== 'object') {
        this.fail(`${prefix}'' expected a map, got '${n.kind === 'array' ? 'slice' : n.kind}'`, n);
        return;
      }
      const typeNode = getEntry(n, 'type')?.value;
      const nameNode = getEntry(n, 'name')?.value;
      const type = typeNode ? this.take(decodeString('type', typeNode, true), prefix) : '';
      const name = nameNode ? this.take(decodeString('name', nameNode, true), prefix) : '';
      if (type === undefined || name === undefined) return;
      if (type === '') {
        this.fail(`${prefix}missing 'type'`, n);
        return;
      }
      const finalName = name || type;
      if (names.has(finalName)) {
        const where = nameNode ?? typeNode ?? n;
        this.fail(`${prefix}builder with name '${finalName}' already exists`, where);
        return;
      }
      names.add(finalName);
      out.push({ index: i, type, name: finalName, node: n });
    });
    return out;
  }
}

export function decodeRoot(root: JsonNode, map: SourceMap): { raw?: RawTemplate; diagnostics: Diagnostic[] } {
  const d = new RootDecoder(map);
  const raw = d.root(root);
  return raw ? { raw, diagnostics: d.diagnostics } : { diagnostics: d.diagnostics };
}
