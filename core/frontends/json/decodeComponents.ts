/**
 * Decoding of one provisioner and one post-processor chain of a legacy JSON template, with Packer's messages
 * (packer-plugin-sdk template/parse.go: decodeProvisioner, parsePostProcessor).
 */

import type { RawPostProcessor, RawProvisioner } from './decodeRoot.ts';
import { type Decoded, decodeBool, decodeDuration, decodeString, decodeStringList } from './decodeValues.ts';
import { getEntry, type JsonNode, type JsonObjectNode, type JsonSpan } from './jsonAst.ts';

/** Where decoding problems go. */
export interface Reporter {
  fail(summary: string, span: JsonSpan, detail?: string): void;
  take<T>(decoded: Decoded<T>, prefix?: string): T | undefined;
}

export function decodeProvisioner(rep: Reporter, n: JsonNode, i: number, prefix: string): RawProvisioner | undefined {
  if (n.kind !== 'object') {
    rep.fail(`${prefix}Error decoding provisioner: '' expected a map, got '${n.kind}'`, n);
    return undefined;
  }
  const field = (k: string) => getEntry(n, k)?.value;
  const dec = `${prefix}Error decoding provisioner: `;
  const typeNode = field('type');
  const type = typeNode ? rep.take(decodeString('type', typeNode, true), dec) : '';
  const only = field('only') ? rep.take(decodeStringList('only', field('only') as JsonNode, true), dec) : [];
  const except = field('except') ? rep.take(decodeStringList('except', field('except') as JsonNode, true), dec) : [];
  const overrideNode = field('override');
  let override: JsonObjectNode | undefined;
  if (overrideNode && overrideNode.kind === 'object') override = overrideNode;
  else if (overrideNode && overrideNode.kind !== 'null') {
    rep.fail(`${dec}'override' expected a map, got '${overrideNode.kind}'`, overrideNode);
  }
  const pauseBefore = field('pause_before')
    ? rep.take(decodeDuration('pause_before', field('pause_before') as JsonNode), dec)
    : undefined;
  const timeout = field('timeout') ? rep.take(decodeDuration('timeout', field('timeout') as JsonNode), dec) : undefined;
  const maxRetries = field('max_retries')
    ? rep.take(decodeString('max_retries', field('max_retries') as JsonNode, true), dec)
    : undefined;
  if (type === undefined || only === undefined || except === undefined) return undefined;
  if (type === '') {
    rep.fail(`${prefix}Provisioner missing 'type'`, n);
    return undefined;
  }
  return {
    index: i,
    type,
    node: n,
    only,
    except,
    ...(override ? { override } : {}),
    ...(pauseBefore ? { pauseBefore } : {}),
    ...(maxRetries ? { maxRetries } : {}),
    ...(timeout ? { timeout } : {}),
  };
}

export function decodePostProcessorChain(rep: Reporter, n: JsonNode, i: number): RawPostProcessor[][] {
  let members: JsonNode[];
  if (n.kind === 'string' || n.kind === 'object') members = [n];
  else if (n.kind === 'array') {
    members = [];
    let bad = false;
    n.items.forEach((item, j) => {
      if (item.kind === 'array') {
        rep.fail(`post-processor ${i + 1}.${j + 1}: sequence not allowed to be nested in a sequence`, item);
        bad = true;
      } else if (item.kind !== 'string' && item.kind !== 'object') {
        rep.fail(`post-processor ${i + 1}.${j + 1}: unknown format`, item);
        bad = true;
      } else members.push(item);
    });
    if (bad) return [];
  } else {
    rep.fail(`post-processor ${i + 1}: bad format`, n);
    return [];
  }
  const chain: RawPostProcessor[] = [];
  members.forEach((m, j) => {
    const prefix = `post-processor ${i + 1}.${j + 1}: `;
    if (m.kind === 'string') {
      if (m.value === '') rep.fail(`${prefix}type is required`, m);
      else chain.push({ chain: i, index: j, type: m.value, name: m.value, span: m, only: [], except: [] });
      return;
    }
    if (m.kind !== 'object') return;
    const field = (k: string) => getEntry(m, k)?.value;
    const type = field('type') ? rep.take(decodeString('type', field('type') as JsonNode, false), prefix) : '';
    const name = field('name') ? rep.take(decodeString('name', field('name') as JsonNode, false), prefix) : '';
    const only = field('only') ? rep.take(decodeStringList('only', field('only') as JsonNode, false), prefix) : [];
    const except = field('except')
      ? rep.take(decodeStringList('except', field('except') as JsonNode, false), prefix)
      : [];
    const kia = field('keep_input_artifact');
    const keep = kia ? rep.take(decodeBool('keep_input_artifact', kia), prefix) : undefined;
    if (type === undefined || name === undefined || only === undefined || except === undefined) return;
    if (kia && !decodeBool('keep_input_artifact', kia).ok) return;
    if (type === '') {
      rep.fail(`${prefix}type is required`, m);
      return;
    }
    chain.push({
      chain: i,
      index: j,
      type,
      name: name || type,
      node: m,
      span: m,
      only,
      except,
      ...(keep !== undefined ? { keepInputArtifact: keep } : {}),
    });
  });
  return [chain];
}
