/** Hash and UUID functions. bcrypt and rsadecrypt are not implemented (no library in the dependency set). */
import { createHash, randomUUID } from 'node:crypto';
import { argError, type FunctionTable, fixed, str } from './helpers.ts';

function hex(alg: string, s: string): string {
  return createHash(alg).update(s, 'utf8').digest('hex');
}

function b64(alg: string, s: string): string {
  return createHash(alg).update(s, 'utf8').digest('base64');
}

const NAMESPACES: Record<string, string> = {
  dns: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
  url: '6ba7b811-9dad-11d1-80b4-00c04fd430c8',
  oid: '6ba7b812-9dad-11d1-80b4-00c04fd430c8',
  x500: '6ba7b814-9dad-11d1-80b4-00c04fd430c8',
};

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1')
    .update(Buffer.concat([ns, Buffer.from(name, 'utf8')]))
    .digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const cryptoFunctions: FunctionTable = {
  md5: fixed(1, (a, c) => hex('md5', str(a, 0, c))),
  sha1: fixed(1, (a, c) => hex('sha1', str(a, 0, c))),
  sha256: fixed(1, (a, c) => hex('sha256', str(a, 0, c))),
  sha512: fixed(1, (a, c) => hex('sha512', str(a, 0, c))),
  base64sha256: fixed(1, (a, c) => b64('sha256', str(a, 0, c))),
  base64sha512: fixed(1, (a, c) => b64('sha512', str(a, 0, c))),
  uuidv4: fixed(0, () => randomUUID()),
  uuidv5: fixed(2, (a, c) => {
    const ns = str(a, 0, c);
    const known = NAMESPACES[ns];
    const id = known ?? (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ns) ? ns : undefined);
    if (!id) argError(c, 0, `uuidv5() doesn't support namespace prefix "${ns}".`);
    return uuidV5(id, str(a, 1, c));
  }),
};
