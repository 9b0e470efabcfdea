// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are HCL source, where ${} is HCL interpolation.
/**
 * The functions issue 13 found missing: IPv6 in the cidr family (Terraform's definitions and documented examples),
 * rsadecrypt (PKCS#1 v1.5, as Go's rsa.DecryptPKCS1v15), bcrypt's argument checks, vault / consul_key offline.
 */
import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import bcryptjs from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { LimitExceeded } from '../../../../core/template/limits.ts';
import { UnknownValue } from '../../../../core/template/model.ts';
import { evalError, evalExpr, testContext } from './eval-helper.ts';

describe('cidr functions with IPv6', () => {
  it.each([
    // Terraform's documented examples.
    ['cidrhost("fd00:fd12:3456:7890::/56", 16)', 'fd00:fd12:3456:7800::10'],
    ['cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)', 'fd00:fd12:3456:7800:a200::/72'],
    [
      'cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)',
      [
        'fd00:fd12:3456:7800::/72',
        'fd00:fd12:3456:7800:100::/72',
        'fd00:fd12:3456:7800:200::/72',
        'fd00:fd12:3456:7800:300::/88',
      ],
    ],
    // Negative host numbers count back from the end of the prefix.
    ['cidrhost("2001:db8::/64", -1)', '2001:db8::ffff:ffff:ffff:ffff'],
    ['cidrhost("::/0", 1)', '::1'],
    ['cidrhost("2001:DB8:0:0:1::/128", 0)', '2001:db8:0:0:1::'],
    // RFC 5952: the first of two equally long zero runs is the one compressed; a single zero group is not.
    ['cidrhost("1:0:0:1:0:0:1:1/128", 0)', '1::1:0:0:1:1'],
    ['cidrhost("1:0:1:1:1:1:1:1/128", 0)', '1:0:1:1:1:1:1:1'],
    ['cidrsubnet("2001:db8::/32", 32, 4294967295)', '2001:db8:ffff:ffff::/64'],
    // IPv4 unchanged.
    ['cidrhost("10.0.0.0/16", -2)', '10.0.255.254'],
    ['cidrnetmask("10.0.0.0/0")', '0.0.0.0'],
    ['cidrnetmask("10.0.0.0/32")', '255.255.255.255'],
    ['cidrsubnets("10.0.0.0/8", 8, 4)', ['10.0.0.0/16', '10.16.0.0/12']],
  ])('%s', async (src, expected) => {
    expect(await evalExpr(src)).toEqual(expected);
  });

  // Hostile and malformed prefixes: each is an argument error with the argument's position, never a crash.
  it.each([
    ['cidrnetmask("2001:db8::/32")', 'IPv6 addresses cannot have a netmask'],
    ['cidrsubnet("2001:db8::/32", 33, 0)', 'may not extend prefix by more than 32 bits'],
    ['cidrsubnet("2001:db8::/120", 16, 0)', 'insufficient address space'],
    ['cidrsubnet("2001:db8::/64", 8, 256)', 'does not accommodate a subnet numbered 256'],
    ['cidrhost("2001:db8::/126", 4)', 'does not accommodate a host numbered 4'],
    ['cidrsubnets("2001:db8::/126", 4)', 'too long for an IPv6 address'],
    ['cidrsubnets("10.0.0.0/24", 0)', 'at least one bit'],
    ['cidrsubnets("fd00::/120", 1, 1, 1)', 'not enough remaining address space'],
    ['cidrhost("::/129", 0)', 'invalid CIDR address'],
    ['cidrhost("10.0.0.0/33", 0)', 'invalid CIDR address'],
    ['cidrhost("10.0.0.256/8", 0)', 'invalid CIDR address'],
    ['cidrhost("10.0.0.0", 0)', 'invalid CIDR address'],
    ['cidrhost("1:2:3:4:5:6:7:8:9/64", 0)', 'invalid CIDR address'],
    ['cidrhost("1::2::3/64", 0)', 'invalid CIDR address'],
    ['cidrhost(":::/64", 0)', 'invalid CIDR address'],
    ['cidrhost("fd00::g/64", 0)', 'invalid CIDR address'],
    ['cidrhost("1:2:3:4:5:6:7::8/64", 0)', 'invalid CIDR address'],
    ['cidrhost("::1.2.3/64", 0)', 'invalid CIDR address'],
    ['cidrhost("10.0.0.0/-1", 0)', 'invalid CIDR address'],
    ['cidrhost("", 0)', 'invalid CIDR address'],
    ['cidrhost("${join("", [for i in range(1000) : "1:"])}:/64", 0)', 'invalid CIDR address'],
  ])('%s', async (src, message) => {
    const e = await evalError(src);
    expect(e?.summary).toBe('Error in function call');
    expect(e?.detail).toContain(message);
    expect(e?.line).toBe(1);
  });
});

describe('rsadecrypt', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const encrypt = (text: string) =>
    publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(text)).toString('base64');

  it.each([
    ['a PKCS#1 key', pkcs1],
    ['a PKCS#8 key', pkcs8],
  ])('decrypts with %s', async (_name, pem) => {
    const ct = encrypt('s3cret, ünïcode');
    expect(await evalExpr('rsadecrypt(ct, key)', { ct, key: pem })).toBe('s3cret, ünïcode');
  });

  it.each([
    ['not base64', () => '!!!', () => pkcs1, 'Error in function call', 'cipher text must be base64-encoded'],
    ['url-safe base64', () => encrypt('x').replace(/\+/g, '-').replace(/\//g, '_'), () => pkcs1, '', ''],
    ['not a key', () => encrypt('x'), () => 'not a key', 'Error in function call', 'invalid private key'],
    [
      'an EC key',
      () => encrypt('x'),
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      'Error in function call',
      'invalid private key type ec',
    ],
    ['a short cipher text', () => 'AAAA', () => pkcs1, 'Error in function call', 'crypto/rsa: decryption error'],
    [
      'a cipher text for another key',
      () =>
        publicEncrypt(
          { key: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, padding: constants.RSA_PKCS1_PADDING },
          Buffer.from('x'),
        ).toString('base64'),
      () => pkcs1,
      'Error in function call',
      'crypto/rsa: decryption error',
    ],
  ])('%s is refused', async (_name, ct, key, summary, detail) => {
    const c = ct();
    // url-safe base64 holds - or _ only sometimes; a case without them would be a plain valid cipher text.
    if (summary === '') {
      const e = await evalError('rsadecrypt(ct, key)', { ct: c, key: key().toString() });
      if (/[-_]/.test(c)) expect(e?.detail).toContain('cipher text must be base64-encoded');
      else expect(e).toBeUndefined();
      return;
    }
    const e = await evalError('rsadecrypt(ct, key)', { ct: c, key: key().toString() });
    expect(e?.summary).toBe(summary);
    expect(e?.detail).toContain(detail);
  });
});

describe('bcrypt', () => {
  it.each([
    ['bcrypt("pw", 3)', 'Error in function call', 'cost 3 is outside allowed range (4,31)'],
    ['bcrypt("pw", 32)', 'Error in function call', 'cost 32 is outside allowed range'],
    ['bcrypt("pw", 4.5)', 'Error in function call', 'whole number'],
    ['bcrypt(null)', 'Error in function call', 'must not be null'],
    ['bcrypt("pw", 10, 1)', 'Invalid number of arguments', 'expects 1 to 2 argument(s), got 3'],
    [`bcrypt("${'x'.repeat(73)}")`, 'Error in function call', 'password length exceeds 72 bytes'],
  ])('%s', async (src, summary, detail) => {
    const e = await evalError(src);
    expect(e?.summary).toMatch(new RegExp(summary));
    expect(`${e?.summary} ${e?.detail}`).toContain(detail);
  });

  // A synchronous hash cannot be interrupted by the clock: its work is refused before it starts (cost 31 would
  // run for days). Loads turn LimitExceeded into one diagnostic naming `maxEvalSteps` (test/security/limits).
  it.each([15, 20, 31])('bcrypt at cost %i is refused at once by the step budget', async (cost) => {
    await expect(evalExpr(`bcrypt("pw", ${cost})`)).rejects.toSatisfy(
      (e: unknown) => e instanceof LimitExceeded && /bcrypt at cost \d+ takes \d+ steps/.test(e.message),
    );
  });

  it.each([
    ['bcrypt("pw")', 10],
    ['bcrypt("pw", 4)', 4],
    ['bcrypt("pässwörd", 5)', 5],
  ])('%s hashes as Go does ($2a$, the cost, a hash bcrypt accepts)', async (src, cost) => {
    const hash = await evalExpr(src);
    expect(hash).toMatch(new RegExp(`^\\$2a\\$${String(cost).padStart(2, '0')}\\$[./A-Za-z0-9]{53}$`));
    const input = /"([^"]+)"/.exec(src)?.[1] ?? '';
    expect(bcryptjs.compareSync(input, String(hash))).toBe(true);
    expect(bcryptjs.compareSync(`${input}x`, String(hash))).toBe(false);
  });
});

describe('vault and consul_key offline', () => {
  it.each([
    ['vault("secret/data/app", "password")', 'VAULT_ADDR', 'Vault'],
    ['consul_key("app/config")', 'CONSUL_HTTP_ADDR', 'Consul'],
  ])('%s without an address says which variable to set', async (src, variable, store) => {
    const e = await evalError(src);
    expect(e?.summary).toBe('Error in function call');
    expect(e?.detail).toContain(`needs a ${store} address (${variable})`);
    expect(e).toMatchObject({ line: 1, column: 5 });
  });

  it.each([
    ['vault("secret/data/app", "password")', 'VAULT_ADDR'],
    ['consul_key("app/config")', 'CONSUL_HTTP_ADDR'],
  ])('%s with an address is unknown until run time', async (src, variable) => {
    const base = testContext();
    const ctx = { ...base, environment: { ...base.environment, env: { [variable]: 'https://127.0.0.1:8200' } } };
    expect(await evalExpr(src, {}, ctx)).toBeInstanceOf(UnknownValue);
  });

  it('vault checks its argument count and types before the address', async () => {
    expect((await evalError('vault("a")'))?.summary).toBe('Invalid number of arguments');
    expect((await evalError('vault("a", ["b"])'))?.detail).not.toContain('VAULT_ADDR');
  });
});
