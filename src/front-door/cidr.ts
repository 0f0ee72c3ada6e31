/**
 * Strict CIDR parsing for what ends up in an nginx `allow` line: only dotted-quad IPv4 or RFC 4291 IPv6
 * (no zone index, no leading zeros, no whitespace), a prefix length in range, and no host bits set.
 * Anything else is refused, so that no text from an answer can become a directive.
 */

export interface Cidr {
  family: 4 | 6;
  /** The address as 4 or 16 bytes. */
  bytes: number[];
  prefix: number;
  /** The canonical form written to the file: `140.82.112.0/20`, `2a0a:a440::/29`. */
  text: string;
}

const DECIMAL = /^(0|[1-9]\d{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => DECIMAL.test(part))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

function parseHextets(text: string): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const bytes: number[] = [];
  for (const [index, group] of groups.entries()) {
    if (index === groups.length - 1 && group.includes('.')) {
      const ipv4 = parseIPv4(group);
      if (!ipv4) return undefined;
      bytes.push(...ipv4);
    } else if (HEXTET.test(group)) {
      const value = parseInt(group, 16);
      bytes.push(value >> 8, value & 0xff);
    } else {
      return undefined;
    }
  }
  return bytes;
}

function parseIPv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseHextets(halves[0]!);
  const tail = halves.length === 2 ? parseHextets(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 16 - head.length - tail.length;
  if (halves.length === 1) return missing === 0 ? head : undefined;
  return missing >= 2 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

function formatIPv6(bytes: number[]): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // RFC 5952: the longest run of two or more zero groups (the first one on a tie) becomes "::".
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > best.length) best = { start, length };
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

function hostBitsSet(bytes: number[], prefix: number): boolean {
  return bytes.some((byte, index) => {
    const networkBits = Math.min(8, Math.max(0, prefix - index * 8));
    return (byte & (0xff >> networkBits)) !== 0;
  });
}

/** Parses `address/prefix`; throws an Error saying what is wrong (the input is quoted as JSON). */
export function parseCidr(input: string): Cidr {
  const refuse = (why: string): never => {
    throw new Error(`${JSON.stringify(input)} is not a network range: ${why}`);
  };
  const match = /^([0-9a-fA-F:.]+)\/(0|[1-9]\d{0,2})$/.exec(input);
  if (!match) return refuse('expected ADDRESS/PREFIX');
  const [, address, prefixText] = match;
  const family = address!.includes(':') ? 6 : 4;
  const bytes = family === 4 ? parseIPv4(address!) : parseIPv6(address!);
  if (!bytes) return refuse(`bad IPv${family} address`);
  const prefix = Number(prefixText);
  if (prefix > bytes.length * 8) return refuse(`prefix longer than ${bytes.length * 8}`);
  if (hostBitsSet(bytes, prefix)) return refuse('bits set after the prefix');
  const text = `${family === 4 ? bytes.join('.') : formatIPv6(bytes)}/${prefix}`;
  return { family, bytes, prefix, text };
}
