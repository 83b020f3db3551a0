import type { Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { log } from '../util/log.js';
import { registerSecret } from '../util/secrets.js';
import type { HostAlgorithms } from './algorithms.js';
import { loadSshConfig } from './config-file.js';
import { SshError } from './errors.js';
import { type HostKeyOptions, normalizeFingerprint } from './known-hosts.js';
import { defaultSshPaths, expandTilde, localUsername, type SshPaths } from './paths.js';

/**
 * Settings the caller keeps for a name (its own inventory, or its defaults), each field optional. The ssh
 * layer does not know where they come from.
 */
export interface HostEntry {
  /** Address or DNS name to connect to; replaces ssh-config's HostName. */
  hostName?: string;
  user?: string;
  port?: number;
  /** A private key file (`~` expanded): the hop then logs in with it only, like IdentitiesOnly. */
  identityFile?: string;
  /** Like ProxyJump: `name` or `[user@]host[:port]`, comma-separated for several hops; `none` for direct. */
  proxyJump?: string;
  /** ssh2's `algorithms`, per category an exact list or `{ remove, prepend, append }`. */
  algorithms?: HostAlgorithms;
  hostKey?: HostKeyOptions;
}

/**
 * What a caller asks for. Per field, for the target and for each ProxyJump hop (each looked up by its own
 * name): explicit fields here (target only) > lookup(name) > ~/.ssh/config for that name > defaults >
 * built-ins (local user, port 22, the default identity files, ssh2's algorithms, the connect options'
 * host key policy).
 */
export interface TargetRequest {
  /** ssh-config alias or host name / IP (`user@host:port` is understood too). */
  host: string;
  username?: string;
  port?: number;
  password?: string;
  keyFilename?: string;
  keyPassphrase?: string;
  /** The caller's settings for a name (the target's or a hop's), if it has any. */
  lookup?: (name: string) => HostEntry | undefined;
  /**
   * What fills the fields that neither lookup(name) nor ~/.ssh/config set, for every name alike (so a
   * hostName here would send every name to one machine). Its proxyJump is not applied to the hops it names.
   */
  defaults?: HostEntry;
}

/** One machine to log in to: the target itself or a ProxyJump hop. */
export interface Hop {
  /** The name it was resolved from: the target's host without user and port, or the ProxyJump entry's. */
  name: string;
  /** The resolved HostName. */
  host: string;
  port: number;
  username: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  /** How its host key is checked; unset fields fall back to the connect options. */
  hostKey?: HostKeyOptions;
  /** ssh2 algorithm settings for it; ssh2's defaults when unset. */
  algorithms?: HostAlgorithms;
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

/** Where a hop's settings come from besides its spec. */
interface Sources {
  paths: SshPaths;
  lookup: ((name: string) => HostEntry | undefined) | undefined;
  defaults: HostEntry;
}

export async function resolveTarget(
  req: TargetRequest,
  paths: SshPaths = defaultSshPaths(),
): Promise<ResolvedTarget> {
  registerSecret(req.password, 'password');
  registerSecret(req.keyPassphrase, 'key_passphrase');
  const spec = parseHopSpec(req.host.trim(), 'host');
  const explicit: HopSpec = {
    host: spec.host,
    username: req.username ?? spec.username,
    port: req.port ?? spec.port,
  };
  if (explicit.port !== undefined) checkPort(explicit.port, 'port');
  const sources: Sources = { paths, lookup: req.lookup, defaults: req.defaults ?? {} };
  const { hop, jumps } = await resolveChain(explicit, sources, 0);
  if (req.keyFilename) {
    // An explicit key replaces whatever the config says, and must exist: a typo should not silently
    // fall back to other methods.
    const key = expandTilde(req.keyFilename, paths.home);
    const problem = await keyFileProblem(key);
    if (problem) {
      throw new SshError(
        'config',
        `key_filename ${shownPath(req.keyFilename)} ${problem}`,
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
  sources: Sources,
  depth: number,
): Promise<{ hop: Hop; jumps: Hop[] }> {
  const { hop, proxyJump } = await resolveHop(spec, sources);
  if (!proxyJump || proxyJump.toLowerCase() === 'none') return { hop, jumps: [] };
  if (depth >= MAX_JUMP_DEPTH) {
    throw new SshError(
      'config',
      `ProxyJump chain for ${spec.host} is deeper than ${MAX_JUMP_DEPTH} hops; do ProxyJump settings form a loop?`,
      `Check the jump (ProxyJump) settings of the hosts involved, here and in ${sources.paths.sshConfig}.`,
    );
  }
  const specs = splitJumps(proxyJump);
  const [first, ...rest] = specs;
  if (!first) return { hop, jumps: [] };
  const head = await resolveChain(first, sources, depth + 1);
  const others = await Promise.all(rest.map(async (s) => (await resolveHop(s, sources)).hop));
  return { hop, jumps: [...head.jumps, head.hop, ...others] };
}

function splitJumps(proxyJump: string): HopSpec[] {
  return proxyJump.split(',').map((s) => parseHopSpec(s.trim(), 'ProxyJump'));
}

/**
 * One host, per field: its spec (explicit user and port) > the caller's entry for its name > ~/.ssh/config
 * > the caller's defaults > built-ins.
 */
async function resolveHop(
  spec: HopSpec,
  { paths, lookup, defaults }: Sources,
): Promise<{ hop: Hop; proxyJump?: string }> {
  const name = spec.host;
  const entry = lookup?.(name) ?? {};
  const chosenUser = spec.username ?? entry.user;
  const config = await loadSshConfig(paths, name);
  // matchExec off: `Match exec` commands would run with their %-tokens unexpanded.
  const computed = config.compute(chosenUser ? { Host: name, User: chosenUser } : { Host: name }, {
    ignoreCase: true,
    matchExec: false,
  });
  const one = (key: string): string | undefined => {
    const v = computed[key];
    return Array.isArray(v) ? v.join(' ') : v;
  };
  const configuredHost = one('hostname');
  const host =
    entry.hostName ??
    (configuredHost === undefined ? undefined : expandTokens(configuredHost, { h: name })) ??
    defaults.hostName ??
    name;
  const username = chosenUser ?? one('user') ?? defaults.user ?? localUsername();
  const portText = one('port');
  const port =
    spec.port ??
    checkedPort(entry.port, name) ??
    (portText === undefined ? undefined : parsePort(portText, name, paths)) ??
    checkedPort(defaults.port, name) ??
    22;
  const tokens = { h: host, r: username, p: String(port), n: name, u: localUsername(), d: paths.home };
  const configured = [computed.identityfile ?? []]
    .flat()
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandTilde(expandTokens(f, tokens), paths.home));
  // A key the caller names is, like key_filename, the one to log in with: no agent keys before it.
  const ownKey = entry.identityFile ?? (configured.length === 0 ? defaults.identityFile : undefined);
  const identityFiles =
    ownKey !== undefined
      ? [await existingKey(ownKey, name, paths)]
      : configured.length > 0
        ? configured
        : await defaultIdentities(paths);
  const identitiesOnly = ownKey !== undefined || one('identitiesonly')?.toLowerCase() === 'yes';

  const configuredJump = one('proxyjump');
  const proxyCommand = one('proxycommand');
  const hasProxyCommand = !!proxyCommand && proxyCommand.toLowerCase() !== 'none';
  let proxyJump = entry.proxyJump ?? configuredJump;
  if (proxyJump === undefined && hasProxyCommand) {
    log.warn(`ProxyCommand for ${name} is not supported; connecting directly`);
  } else if (proxyJump === undefined && defaults.proxyJump !== undefined) {
    // A default jump host applies to every host but itself (the hops it lists would otherwise reach
    // themselves through themselves).
    const self = name.toLowerCase();
    if (!splitJumps(defaults.proxyJump).some((s) => s.host.toLowerCase() === self)) {
      proxyJump = defaults.proxyJump;
    }
  }

  const hostKey = hostKeyOptions(mergeDefined(defaults.hostKey, entry.hostKey), { name, host, port }, paths);
  const algorithms = mergeDefined(defaults.algorithms, entry.algorithms);
  return {
    hop: {
      name,
      host,
      port,
      username,
      identityFiles,
      identitiesOnly,
      ...(hostKey && { hostKey }),
      ...(algorithms && { algorithms }),
    },
    ...(proxyJump !== undefined && { proxyJump }),
  };
}

/** `higher`'s defined fields over `lower`'s; undefined when neither has any. */
function mergeDefined<T extends object>(lower: T | undefined, higher: T | undefined): T | undefined {
  const out: Record<string, unknown> = {};
  for (const source of [lower, higher]) {
    for (const [k, v] of Object.entries(source ?? {})) if (v !== undefined) out[k] = v;
  }
  return Object.keys(out).length > 0 ? (out as T) : undefined;
}

/** Checked and normalised: fingerprints in fingerprint()'s form, `~` expanded in the file name. */
function hostKeyOptions(
  options: HostKeyOptions | undefined,
  { name, host, port }: { name: string; host: string; port: number },
  paths: SshPaths,
): HostKeyOptions | undefined {
  if (!options) return undefined;
  const out: HostKeyOptions = { ...options };
  if (options.knownHostsFile !== undefined)
    out.knownHostsFile = expandTilde(options.knownHostsFile, paths.home);
  if (options.fingerprints !== undefined) {
    out.fingerprints = options.fingerprints.map((text) => {
      const normal = normalizeFingerprint(text);
      if (normal) return normal;
      throw new SshError(
        'config',
        `Invalid host key fingerprint '${text}' pinned for ${name}`,
        'Write it as `ssh-keygen -lf` prints it: SHA256: and 43 base64 characters, e.g. ' +
          `SHA256:${'A'.repeat(43)}; \`ssh-keyscan -p ${port} ${host} | ssh-keygen -lf -\` shows the host's keys.`,
      );
    });
  }
  return out;
}

/** A key file the caller named must exist: a typo should not silently fall back to other methods. */
async function existingKey(file: string, name: string, paths: SshPaths): Promise<string> {
  const path = expandTilde(file, paths.home);
  if (await exists(path)) return path;
  throw new SshError(
    'config',
    `The key file ${file} set for ${name} does not exist`,
    `Set the key of ${name} to the path of a private key file.`,
  );
}

function checkedPort(port: number | undefined, name: string): number | undefined {
  if (port !== undefined) checkPort(port, `the settings of ${name}`);
  return port;
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

/** Far more than any private key (an RSA 16384 key is 13 KiB): key_filename is the caller's to choose. */
export const MAX_KEY_BYTES = 64 * 1024;

/**
 * Why a key file the caller named cannot be a private key: missing, not a regular file (a FIFO would hang
 * the read, /dev/zero never end it), or larger than any key. Undefined when it may be one.
 */
async function keyFileProblem(path: string): Promise<string | undefined> {
  if (path.includes('\0')) return 'is not a path (it contains a NUL byte)';
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code})`;
  }
  if (!info.isFile())
    return `is not a regular file (${info.isDirectory() ? 'a folder' : 'a device, FIFO or socket'})`;
  if (info.size > MAX_KEY_BYTES)
    return `is ${info.size} bytes, more than a private key (at most ${MAX_KEY_BYTES / 1024} KiB)`;
  return undefined;
}

/** A caller's path as a message shows it: not all of a 100 KB one. */
function shownPath(path: string): string {
  return path.length > 200 ? `${path.slice(0, 100)}…(${path.length} characters)` : path;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
