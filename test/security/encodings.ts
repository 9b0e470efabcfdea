/**
 * The encodings of a secret a leak test searches for, computed independently of core/template/sensitive.ts (a test
 * that reused the module under test to find leaks would miss whatever that module misses).
 */
export function encodings(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret, 'utf8');
  const b64 = bytes.toString('base64');
  const url64 = b64.replace(/\+/g, '-').replace(/\//g, '_');
  // Embedded behind 1 and 2 bytes: the part of the encoding that depends on the secret alone.
  const behind = (k: number, url: boolean) => {
    const enc = Buffer.concat([Buffer.from('ABC'.slice(0, k)), bytes]).toString('base64');
    const mid = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    return url ? mid.replace(/\+/g, '-').replace(/\//g, '_') : mid;
  };
  const json = JSON.stringify(secret).slice(1, -1);
  return {
    raw: secret,
    base64: b64,
    'base64 unpadded': b64.replace(/=+$/, ''),
    'base64 url-safe': url64,
    'base64 embedded +1 byte': behind(1, false),
    'base64 embedded +2 bytes': behind(2, false),
    'base64 url-safe embedded +1 byte': behind(1, true),
    'base64 url-safe embedded +2 bytes': behind(2, true),
    'hex lower': bytes.toString('hex'),
    'hex upper': bytes.toString('hex').toUpperCase(),
    'url encoding': encodeURIComponent(secret),
    'url form encoding': encodeURIComponent(secret).replace(/%20/g, '+'),
    'json string': json,
    'json go-style (\\u0026)': json.replace(/&/g, '\\u0026'),
    'json in json': JSON.stringify(json).slice(1, -1),
  };
}

/** Names of the encodings of any of `secrets` found in `text` (empty: nothing leaked). */
export function leaksOf(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (const [name, form] of Object.entries(encodings(secret)))
      if (text.includes(form)) found.push(`${secret}: ${name}`);
  }
  return found;
}
