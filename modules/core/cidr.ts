/**
 * IPv4 CIDR arithmetic for planning VPC and subnet ranges.
 * Pure functions: the same inputs always give the same ranges, so plans are repeatable.
 */

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit integer. */
  readonly network: number;
  /** The prefix length, 0 to 32. */
  readonly prefixLength: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; throws when it is not a CIDR block or has host bits set. */
export function parseCidr(text: string): Ipv4Cidr {
  const problem = cidrProblem(text);
  if (problem) throw new Error(`${JSON.stringify(text)} ${problem}`);
  const [, a, b, c, d, n] = CIDR_PATTERN.exec(text)!.map(Number);
  return { network: (((a << 24) | (b << 16) | (c << 8) | d) >>> 0), prefixLength: n };
}

/** Why `text` is not a usable CIDR block, or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return 'is not an IPv4 CIDR block (a.b.c.d/n)';
  const [a, b, c, d, n] = match.slice(1).map(Number);
  if ([a, b, c, d].some((octet) => octet > 255) || n > 32) return 'is not an IPv4 CIDR block (a.b.c.d/n)';
  const network = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  if ((network & hostMask(n)) !== 0) {
    return `has host bits set: the network address for /${n} is ${formatCidr({ network: (network & ~hostMask(n)) >>> 0, prefixLength: n })}`;
  }
  return undefined;
}

export function formatCidr(cidr: Ipv4Cidr): string {
  const n = cidr.network;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${cidr.prefixLength}`;
}

/** True when the two blocks share at least one address. */
export function cidrsOverlap(left: string, right: string): boolean {
  const a = parseCidr(left);
  const b = parseCidr(right);
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  const mask = ~hostMask(shorter) >>> 0;
  return ((a.network & mask) >>> 0) === ((b.network & mask) >>> 0);
}

/**
 * The `index`-th block of `prefixLength` inside `parent`, like Terraform's `cidrsubnet`.
 * Throws when the parent has no such block.
 */
export function subdivideCidr(parent: string, prefixLength: number, index: number): string {
  const block = parseCidr(parent);
  if (prefixLength < block.prefixLength || prefixLength > 32) {
    throw new Error(`cannot cut a /${prefixLength} out of ${parent}`);
  }
  const available = 2 ** (prefixLength - block.prefixLength);
  if (!Number.isInteger(index) || index < 0 || index >= available) {
    throw new Error(`${parent} holds ${available} blocks of /${prefixLength}; block ${index} does not exist`);
  }
  return formatCidr({ network: (block.network + index * 2 ** (32 - prefixLength)) >>> 0, prefixLength });
}

/** Pairs of blocks in `cidrs` that overlap, each pair once, in input order. */
export function overlappingPairs<T extends { cidr: string }>(items: readonly T[]): Array<[T, T]> {
  const pairs: Array<[T, T]> = [];
  items.forEach((left, i) => {
    for (const right of items.slice(i + 1)) {
      if (cidrsOverlap(left.cidr, right.cidr)) pairs.push([left, right]);
    }
  });
  return pairs;
}

function hostMask(prefixLength: number): number {
  return prefixLength === 0 ? 0xffffffff : (2 ** (32 - prefixLength) - 1) >>> 0;
}
