import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { log } from '../util/log.js';
import { registerSecret } from '../util/secrets.js';
import { loadSshConfig } from './config-file.js';
import { SshError } from './errors.js';
import { defaultSshPaths, expandTilde, localUsername, type SshPaths } from './paths.js';

/** What a caller asks for; explicit fields win over ~/.ssh/config. */
export interface TargetRequest {
  /** ssh-config alias or host name / IP (`user@host:port` is understood too). */
  host: string;
  username?: string;
  port?: number;
  password?: string;
  keyFilename?: string;
  keyPassphrase?: string;
}

/** One machine to log in to: the target itself or a ProxyJump hop. */
export interface Hop {
  /** The resolved HostName. */
  host: string;
  port: number;
  username: string;
  identityFiles: string[];
  identitiesOnly: boolean;
}

export interface ResolvedTarget extends Hop {
  /** The host string the caller passed. */
  alias: string;
  /** ProxyJump hops in connection order, first hop first. */
  jumps: Hop[];
  password?: string;
  keyPassphrase?: string;
  /** `${username}@${host}:${port}`. */
  id: string;
}

/** Like OpenSSH, used only when no IdentityFile is configured, and only those that exist. */
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/** Guards against ProxyJump loops (a -> b -> a). */
const MAX_JUMP_DEPTH = 16;

interface HopSpec {
  host: string;
  username?: string;
  port?: number;
}

export async function resolveTarget(
  req: TargetRequest,
  paths: SshPaths = defaultSshPaths(),
): Promise<ResolvedTarget> {
  registerSecret(req.password);
  registerSecret(req.keyPassphrase);
  const spec = parseHopSpec(req.host.trim(), 'host');
  const explicit: HopSpec = {
    host: spec.host,
    username: req.username ?? spec.username,
    port: req.port ?? spec.port,
  };
  if (explicit.port !== undefined) checkPort(explicit.port, 'port');
  const { hop, jumps } = await resolveChain(explicit, paths, 0);
  if (req.keyFilename) {
    // An explicit key replaces whatever the config says, and must exist: a typo should not silently
    // fall back to other methods.
    const key = expandTilde(req.keyFilename, paths.home);
    if (!(await exists(key))) {
      throw new SshError(
        'config',
        `key_filename ${req.keyFilename} does not exist`,
        'Pass the path of a private key file.',
      );
    }
    hop.identityFiles = [key];
    hop.identitiesOnly = true;
  }
  return {
    ...hop,
    alias: req.host,
    jumps,
    ...(req.password !== undefined && { password: req.password }),
    ...(req.keyPassphrase !== undefined && { keyPassphrase: req.keyPassphrase }),
    id: `${hop.username}@${hop.host}:${hop.port}`,
  };
}

/**
 * A hop and the hops needed to reach it. Like `ssh -J a,b`: only the first hop's own ProxyJump is
 * followed (prepended); b is reached through a, whatever b's config says, as OpenSSH does.
 */
async function resolveChain(
  spec: HopSpec,
  paths: SshPaths,
  depth: number,
): Promise<{ hop: Hop; jumps: Hop[] }> {
  const { hop, proxyJump } = await resolveHop(spec, paths);
  if (!proxyJump || proxyJump.toLowerCase() === 'none') return { hop, jumps: [] };
  if (depth >= MAX_JUMP_DEPTH) {
    throw new SshError(
      'config',
      `ProxyJump chain for ${spec.host} is deeper than ${MAX_JUMP_DEPTH} hops; do ProxyJump settings form a loop?`,
      `Check the ProxyJump settings in ${paths.sshConfig}.`,
    );
  }
  const specs = proxyJump.split(',').map((s) => parseHopSpec(s.trim(), 'ProxyJump'));
  const [first, ...rest] = specs;
  if (!first) return { hop, jumps: [] };
  const head = await resolveChain(first, paths, depth + 1);
  const others = await Promise.all(rest.map(async (s) => (await resolveHop(s, paths)).hop));
  return { hop, jumps: [...head.jumps, head.hop, ...others] };
}

/** One host through ~/.ssh/config; explicit user and port win. */
async function resolveHop(spec: HopSpec, paths: SshPaths): Promise<{ hop: Hop; proxyJump?: string }> {
  const config = await loadSshConfig(paths, spec.host);
  // matchExec off: `Match exec` commands would run with their %-tokens unexpanded.
  const computed = config.compute(
    spec.username ? { Host: spec.host, User: spec.username } : { Host: spec.host },
    { ignoreCase: true, matchExec: false },
  );
  const one = (key: string): string | undefined => {
    const v = computed[key];
    return Array.isArray(v) ? v.join(' ') : v;
  };
  const host = expandTokens(one('hostname') ?? spec.host, { h: spec.host });
  const username = spec.username ?? one('user') ?? localUsername();
  const portText = one('port');
  const port = spec.port ?? (portText === undefined ? 22 : parsePort(portText, spec.host, paths));
  const tokens = { h: host, r: username, p: String(port), n: spec.host, u: localUsername(), d: paths.home };
  const configured = [computed.identityfile ?? []]
    .flat()
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandTilde(expandTokens(f, tokens), paths.home));
  const identityFiles = configured.length > 0 ? configured : await defaultIdentities(paths);
  const proxyCommand = one('proxycommand');
  if (proxyCommand && proxyCommand.toLowerCase() !== 'none' && !one('proxyjump')) {
    log.warn(`ProxyCommand for ${spec.host} is not supported; connecting directly`);
  }
  return {
    hop: {
      host,
      port,
      username,
      identityFiles,
      identitiesOnly: one('identitiesonly')?.toLowerCase() === 'yes',
    },
    proxyJump: one('proxyjump'),
  };
}

/** `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]`. */
function parseHopSpec(text: string, what: string): HopSpec {
  let rest = text.replace(/^ssh:\/\//, '');
  let username: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    username = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let host = rest;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  const hostPort = /^([^:]+):(\d+)$/.exec(rest); // one colon only: a bare IPv6 address has several
  if (bracketed?.[1]) {
    host = bracketed[1];
    port = bracketed[2] ? Number(bracketed[2]) : undefined;
  } else if (hostPort?.[1]) {
    host = hostPort[1];
    port = Number(hostPort[2]);
  }
  if (!host || username === '') {
    throw new SshError('config', `Invalid ${what} '${text}'`, 'Use [user@]host[:port] or an alias.');
  }
  if (port !== undefined) checkPort(port, what);
  return { host, ...(username && { username }), ...(port !== undefined && { port }) };
}

function parsePort(text: string, host: string, paths: SshPaths): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new SshError(
      'config',
      `Invalid Port '${text}' for ${host}`,
      `Fix the Port setting in ${paths.sshConfig}.`,
    );
  }
  return port;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SshError('config', `Invalid port ${port} in ${what}`, 'A port is an integer from 1 to 65535.');
  }
}

/** ssh_config TOKENS (the easy ones) and ${ENV} references. Unknown tokens are left alone. */
function expandTokens(text: string, values: Record<string, string>): string {
  const all: Record<string, string> = {
    '%': '%',
    l: hostname(),
    L: hostname().split('.')[0] ?? '',
    ...values,
  };
  return text
    .replace(/%(.)/g, (whole, t: string) => all[t] ?? whole)
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => process.env[name] ?? whole);
}

async function defaultIdentities(paths: SshPaths): Promise<string[]> {
  const candidates = DEFAULT_IDENTITIES.map((name) => join(paths.home, '.ssh', name));
  const present = await Promise.all(candidates.map(exists));
  return candidates.filter((_, i) => present[i]);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
