/** IPv4 CIDR functions (IPv6 is not implemented: Packer templates in the corpus use none). */
import type { CallInfo } from '../eval/context.ts';
import { argError, type FunctionTable, fixed, int, str, variadic } from './helpers.ts';

function parseCidr(s: string, call: CallInfo): { base: number; bits: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits > 32) argError(call, 0, `invalid CIDR address: ${s}.`);
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: addr - (addr % size), bits };
}

function ip(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function subnet(prefix: string, newbits: number, num: number, call: CallInfo): string {
  const { base, bits } = parseCidr(prefix, call);
  const nb = bits + newbits;
  if (nb > 32) argError(call, 1, `insufficient address space to extend prefix of ${bits} by ${newbits}.`);
  if (num < 0 || num >= 2 ** newbits)
    argError(call, 2, `prefix extension of ${newbits} does not accommodate a subnet numbered ${num}.`);
  return `${ip(base + num * 2 ** (32 - nb))}/${nb}`;
}

export const networkFunctions: FunctionTable = {
  cidrhost: fixed(2, (a, c) => {
    const { base, bits } = parseCidr(str(a, 0, c), c);
    const size = 2 ** (32 - bits);
    let n = int(a, 1, c);
    if (n < 0) n += size;
    if (n < 0 || n >= size) argError(c, 1, `prefix of ${bits} does not accommodate a host numbered ${int(a, 1, c)}.`);
    return ip(base + n);
  }),
  cidrnetmask: fixed(1, (a, c) => {
    const { bits } = parseCidr(str(a, 0, c), c);
    return ip(2 ** 32 - 2 ** (32 - bits));
  }),
  cidrsubnet: fixed(3, (a, c) => subnet(str(a, 0, c), int(a, 1, c), int(a, 2, c), c)),
  /**
   * Consecutive subnets inside the prefix, each aligned to its own size. As Terraform's cidrsubnets, a subnet
   * that would not fit in what is left of the prefix is an error, never an address outside it.
   */
  cidrsubnets: variadic(1, (a, c) => {
    const prefix = str(a, 0, c);
    const { base, bits } = parseCidr(prefix, c);
    const end = base + 2 ** (32 - bits);
    let next = base;
    let previous: string | undefined;
    return a.slice(1).map((_, i) => {
      const newbits = int(a, i + 1, c);
      const nb = bits + newbits;
      if (nb > 32) argError(c, i + 1, `would extend prefix to ${nb} bits, which is too long for an IPv4 address.`);
      const size = 2 ** (32 - nb);
      if (next % size !== 0) next += size - (next % size);
      if (next + size > end)
        argError(
          c,
          i + 1,
          `not enough remaining address space for a subnet with a prefix of ${nb} bits after ${previous ?? prefix}.`,
        );
      const out = `${ip(next)}/${nb}`;
      next += size;
      previous = out;
      return out;
    });
  }),
};
