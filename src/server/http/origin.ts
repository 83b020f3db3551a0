import { hostname as machineName, networkInterfaces } from 'node:os';
import { isLoopback, LOOPBACK_URL_HOSTS } from '../../ssh/addresses.js';

/** `example.net:8080` or `[::1]:80` to the host name as URL writes it (lower case, IPv6 in brackets). */
export function hostnameOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    return new URL(`http://${header}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * The host name in a request's Host header, only when the header is written as URL writes it (case and
 * port aside). `127.1`, `2130706433`, `[0:0::1]`, a user or path part, percent-escapes: spellings parsers
 * disagree about (the SDK's transport refuses them with an empty 400 after this check let them through),
 * so they name no host of this server.
 */
export function requestHostname(header: string | undefined): string | undefined {
  const hostname = hostnameOf(header);
  if (hostname === undefined || header === undefined) return undefined;
  return header.replace(/:\d+$/, '').toLowerCase() === hostname ? hostname : undefined;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * The names a Host header may carry (DNS rebinding: a page on another name must not reach this server
 * through the browser). A loopback bind answers to the loopback names; a wildcard bind to this machine's
 * name and addresses; both to the public URL's host and `http.allowed_hosts`.
 */
export function allowedHostnames(bindHost: string, resourceUrl: URL, extra: readonly string[]): Set<string> {
  const names = new Set<string>([
    resourceUrl.hostname,
    ...extra.map((h) => hostnameOf(h) ?? h.toLowerCase()),
  ]);
  const add = (host: string) => names.add(hostnameOf(host.includes(':') ? `[${host}]` : host) ?? host);
  if (isLoopback(bindHost)) for (const name of LOOPBACK_URL_HOSTS) names.add(name);
  if (isWildcard(bindHost)) {
    for (const name of LOOPBACK_URL_HOSTS) names.add(name);
    names.add(machineName().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) add(address.address);
    }
  } else {
    add(bindHost);
  }
  return names;
}

/**
 * Why a browser's Origin is refused, or undefined when it is fine. Agents send no Origin; a browser always
 * does, and a page may only reach this server from one of its own names or an origin the config allows.
 */
export function checkOrigin(
  origin: string | undefined,
  hostnames: ReadonlySet<string>,
  allowedOrigins: readonly string[],
): string | undefined {
  if (origin === undefined) return undefined;
  if (allowedOrigins.includes(origin)) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).hostname;
  } catch {
    host = undefined;
  }
  if (host !== undefined && hostnames.has(host)) return undefined;
  return `Origin "${origin.slice(0, 100)}" may not use this server; an administrator adds it under http.allowed_origins`;
}
