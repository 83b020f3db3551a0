import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';

/**
 * One host has many spellings: `127.0.0.1`, `127.1`, `127.000.000.001`, `0x7f.1`, `::ffff:127.0.0.1`,
 * `localhost`, an ssh-config alias. Host keys, secrets and command policy attach to the host, so names
 * are compared by the addresses they stand for.
 */

/**
 * An IPv4 literal as inet_aton reads it (as OpenSSH and the C library do): 1 to 4 parts, each decimal,
 * octal (leading 0) or hex (0x); the last part fills the remaining bytes. Undefined when not one.
 */
function ipv4(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]+$/i.test(part)) value = Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) value = Number.parseInt(part, 8);
    else if (/^[1-9][0-9]*$/.test(part)) value = Number.parseInt(part, 10);
    else return undefined;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return undefined;
  const bytes = [...values];
  for (let i = 4 - values.length - 1; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes.join('.');
}

/** An IPv6 literal in its shortest form (an IPv4-mapped one as the IPv4 address); undefined when not one. */
function ipv6(text: string): string | undefined {
  const bare = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!isIPv6(bare)) return undefined;
  const shortest = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(shortest);
  if (mapped) {
    const hi = Number.parseInt(mapped[1] as string, 16);
    const lo = Number.parseInt(mapped[2] as string, 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return shortest;
}

/** The canonical form of an address literal, or undefined for a name. */
export function addressLiteral(host: string): string | undefined {
  const text = host.trim().toLowerCase();
  return ipv4(text) ?? ipv6(text);
}

const cache = new Map<string, { addresses: string[]; until: number }>();
const CACHE_MS = 60_000;
const LOOKUP_MS = 3000;

/**
 * The addresses a host stands for: a literal's canonical form, or what the resolver says for a name
 * (lower-cased, without a trailing dot, when it cannot be resolved here, e.g. behind a jump host).
 */
export async function hostAddresses(host: string): Promise<string[]> {
  const literal = addressLiteral(host);
  if (literal) return [literal];
  const name = host.trim().toLowerCase().replace(/\.$/, '');
  const hit = cache.get(name);
  if (hit && hit.until > Date.now()) return hit.addresses;
  let addresses: string[];
  try {
    const timer = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('timeout')), LOOKUP_MS).unref(),
    );
    const found = await Promise.race([lookup(name, { all: true }), timer]);
    addresses = [...new Set(found.map((a) => addressLiteral(a.address) ?? a.address))];
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) addresses = [`name:${name}`];
  cache.set(name, { addresses, until: Date.now() + CACHE_MS });
  return addresses;
}

/** Whether two hosts share an address. */
export async function sameHost(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([hostAddresses(a), hostAddresses(b)]);
  return x.some((address) => y.includes(address));
}

/** This machine's usual names as a URL writes its host (IPv6 in brackets). */
export const LOOPBACK_URL_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** A loopback address or `localhost`; a name such as `127.example.net` is not (it resolves anywhere). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}
