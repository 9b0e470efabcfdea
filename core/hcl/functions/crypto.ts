/**
 * Hash, UUID, bcrypt and RSA functions. bcrypt comes from bcryptjs (node:crypto has no Blowfish); its work is
 * charged to the evaluation-step budget before it starts, because a synchronous hash at cost 31 would run for days
 * and no clock check can interrupt it.
 */
import { constants, createHash, createPrivateKey, type KeyObject, privateDecrypt, randomUUID } from 'node:crypto';
import bcryptjs from 'bcryptjs';
import { currentBudget, LimitExceeded } from '../../template/limits.ts';
import type { CallInfo } from '../eval/context.ts';
import { fail } from '../eval/values.ts';
import { argError, type FunctionTable, fixed, int, str } from './helpers.ts';

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

/** A failure that is not one argument's fault, worded as HCL words function errors. */
export function callFailed(call: CallInfo, name: string, message: string): never {
  return fail('Error in function call', `Call to function "${name}" failed: ${message}.`, call.range);
}

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * rsadecrypt(ciphertext, privatekey) as Terraform/Packer: standard base64 in, RSAES-PKCS1-v1_5 (Go's
 * rsa.DecryptPKCS1v15). The padding is checked here on the raw RSA result, so a bad ciphertext is an error as in
 * Go, and not the random bytes OpenSSL's implicit rejection returns for PKCS#1 v1.5.
 */
function rsaDecrypt(ciphertext: string, pem: string, call: CallInfo): string {
  if (!STD_BASE64.test(ciphertext))
    argError(call, 0, `failed to decode input ${JSON.stringify(ciphertext)}: cipher text must be base64-encoded.`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    return argError(call, 1, `invalid private key: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (key.asymmetricKeyType !== 'rsa') argError(call, 1, `invalid private key type ${key.asymmetricKeyType}.`);
  const bytes = Buffer.from(ciphertext, 'base64');
  const size = Math.ceil(((key.asymmetricKeyDetails?.modulusLength ?? 0) as number) / 8);
  let em: Buffer;
  try {
    if (bytes.length !== size) throw new Error('length');
    em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, bytes);
  } catch {
    return callFailed(call, 'rsadecrypt', 'failed to decrypt: crypto/rsa: decryption error');
  }
  // EM = 0x00 || 0x02 || PS (at least 8 non-zero bytes) || 0x00 || M
  const sep = em.indexOf(0, 2);
  if (em[0] !== 0 || em[1] !== 2 || sep < 10)
    callFailed(call, 'rsadecrypt', 'failed to decrypt: crypto/rsa: decryption error');
  return em.subarray(sep + 1).toString('utf8');
}

export const cryptoFunctions: FunctionTable = {
  rsadecrypt: fixed(2, (a, c) => rsaDecrypt(str(a, 0, c), str(a, 1, c), c)),
  bcrypt: {
    min: 1,
    max: 2,
    impl: (a, c) => {
      str(a, 0, c);
      // Go's bcrypt accepts costs 4 to 31; Terraform and Packer default to 10.
      const cost = a.length > 1 ? int(a, 1, c) : 10;
      if (cost < 4 || cost > 31) argError(c, 1, `crypto/bcrypt: cost ${cost} is outside allowed range (4,31).`);
      const input = str(a, 0, c);
      // Go's bcrypt refuses more than 72 bytes; Terraform's function passes that error on.
      if (Buffer.byteLength(input, 'utf8') > 72)
        callFailed(c, 'bcrypt', 'error occured generating password bcrypt: password length exceeds 72 bytes');
      // 2^cost key expansions of 64 steps each: cost 10 is 65,536 steps, cost 15 alone exceeds the default budget.
      const work = 2 ** cost * 64;
      const budget = currentBudget();
      // Checked even by the non-counting budget (direct evaluator calls): one call alone must fit.
      if (work > budget.limits.maxEvalSteps) {
        throw new LimitExceeded(
          'maxEvalSteps',
          budget.limits.maxEvalSteps,
          `bcrypt at cost ${cost} takes ${work} steps, more than the template's whole budget`,
          c.range,
        );
      }
      budget.step(work, c.range);
      // Go writes the `$2a$` prefix; the hash is the same algorithm for inputs up to 72 bytes.
      return bcryptjs.hashSync(input, bcryptjs.genSaltSync(cost)).replace(/^\$2b\$/, '$2a$');
    },
  },
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
