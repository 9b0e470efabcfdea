/**
 * CIDR functions for IPv4 and IPv6, as Terraform and Packer define them (go-cty-funcs `cidr`): addresses are
 * big integers so one code path serves both families; `cidrnetmask` is IPv4-only, as there.
 */
import type { CallInfo } from '../eval/context.ts';
import { argError, type FunctionTable, fixed, int, str, variadic } from './helpers.ts';

interface Prefix {
  /** 32 for IPv4, 128 for IPv6. */
  readonly width: number;
  /** The network address (host bits cleared). */
  readonly base: bigint;
  readonly bits: number;
}

function parseIPv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
}

/** RFC 4291 text: eight groups, one `::` for a run of zero groups, an optional dotted IPv4 tail. */
function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i] as string;
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(Number.parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(Math.max(missing, 0)).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parseCidr(s: string, call: CallInfo): Prefix {
  const slash = s.lastIndexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const bitsText = slash < 0 ? '' : s.slice(slash + 1);
  const v4 = parseIPv4(addrText);
  const addr = v4 ?? parseIPv6(addrText);
  const width = v4 !== undefined ? 32 : 128;
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  if (addr === undefined || bits < 0 || bits > width) argError(call, 0, `invalid CIDR address: ${s}.`);
  const hostBits = BigInt(width - bits);
  return { width, base: (addr >> hostBits) << hostBits, bits };
}

function formatIPv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
}

/** RFC 5952 text as Go prints it: lower case, no leading zeros, the first longest run of 2+ zero groups as `::`. */
function formatIPv6(n: bigint): string {
  // Go prints an IPv4-mapped address (::ffff:a.b.c.d) as the IPv4 address.
  if (n >> 32n === 0xffffn) return formatIPv4(n & 0xffffffffn);
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function format(p: Pick<Prefix, 'width'>, n: bigint): string {
  return p.width === 32 ? formatIPv4(n) : formatIPv6(n);
}

function subnet(prefix: string, newbits: number, num: number, call: CallInfo): string {
  const p = parseCidr(prefix, call);
  // Terraform caps one extension at 32 bits (its subnet number is a 32-bit int on every platform).
  if (newbits > 32) argError(call, 1, 'may not extend prefix by more than 32 bits.');
  const nb = p.bits + newbits;
  if (newbits < 0 || nb > p.width)
    argError(call, 1, `insufficient address space to extend prefix of ${p.bits} by ${newbits}.`);
  if (num < 0 || num >= 2 ** newbits)
    argError(call, 2, `prefix extension of ${newbits} does not accommodate a subnet numbered ${num}.`);
  return `${format(p, p.base + (BigInt(num) << BigInt(p.width - nb)))}/${nb}`;
}

export const networkFunctions: FunctionTable = {
  cidrhost: fixed(2, (a, c) => {
    const p = parseCidr(str(a, 0, c), c);
    const size = 1n << BigInt(p.width - p.bits);
    const asked = int(a, 1, c);
    let n = BigInt(asked);
    if (n < 0n) n += size;
    if (n < 0n || n >= size) argError(c, 1, `prefix of ${p.bits} does not accommodate a host numbered ${asked}.`);
    return format(p, p.base + n);
  }),
  cidrnetmask: fixed(1, (a, c) => {
    const text = str(a, 0, c);
    const p = parseCidr(text, c);
    if (p.width !== 32) argError(c, 0, `IPv6 addresses cannot have a netmask: ${text}.`);
    return formatIPv4(((1n << 32n) - 1n) ^ ((1n << BigInt(32 - p.bits)) - 1n));
  }),
  cidrsubnet: fixed(3, (a, c) => subnet(str(a, 0, c), int(a, 1, c), int(a, 2, c), c)),
  /**
   * Consecutive subnets inside the prefix, each aligned to its own size. As Terraform's cidrsubnets, a subnet
   * that would not fit in what is left of the prefix is an error, never an address outside it.
   */
  cidrsubnets: variadic(1, (a, c) => {
    const prefix = str(a, 0, c);
    const p = parseCidr(prefix, c);
    const family = p.width === 32 ? 'IPv4' : 'IPv6';
    const end = p.base + (1n << BigInt(p.width - p.bits));
    let next = p.base;
    let previous: string | undefined;
    return a.slice(1).map((_, i) => {
      const newbits = int(a, i + 1, c);
      const nb = p.bits + newbits;
      if (newbits < 1) argError(c, i + 1, 'must extend prefix by at least one bit.');
      if (nb > p.width)
        argError(c, i + 1, `would extend prefix to ${nb} bits, which is too long for an ${family} address.`);
      const size = 1n << BigInt(p.width - nb);
      if (next % size !== 0n) next += size - (next % size);
      if (next + size > end)
        argError(
          c,
          i + 1,
          `not enough remaining address space for a subnet with a prefix of ${nb} bits after ${previous ?? prefix}.`,
        );
      const out = `${format(p, next)}/${nb}`;
      next += size;
      previous = out;
      return out;
    });
  }),
};
