import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { log } from '../util/log.js';
import { SshError } from './errors.js';
import { matchPatternList } from './patterns.js';

/** OpenSSH's StrictHostKeyChecking: accept-new (default), yes (= strict) and no (= off: no checks at all). */
export type HostKeyPolicy = 'accept-new' | 'strict' | 'off';

/** How one host's key is checked; every field optional, unset ones fall back to the connect options. */
export interface HostKeyOptions {
  policy?: HostKeyPolicy;
  /**
   * Pinned keys, `SHA256:<base64>` as `ssh-keygen -lf` prints them (the `SHA256:` prefix and `=` padding
   * are optional). When non-empty, exactly these keys are accepted, whatever the policy says, and
   * known_hosts is neither read nor written. An empty list pins nothing.
   */
  fingerprints?: string[];
  /** A known_hosts file of the host's own, instead of ~/.ssh/known_hosts. */
  knownHostsFile?: string;
}

export interface KnownHostEntry {
  /** 1-based line number in the file, for messages. */
  line: number;
  marker?: 'revoked';
  /** The host field: a pattern list or one hashed `|1|salt|hmac` entry. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** 'SHA256:<base64 without padding>' of a public key blob, exactly as `ssh-keygen -l` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * A pinned fingerprint in the form fingerprint() prints, or undefined when `text` is not a SHA256
 * fingerprint (MD5 ones, `aa:bb:...`, are not accepted: OpenSSH has printed SHA256 since 6.8).
 */
export function normalizeFingerprint(text: string): string | undefined {
  const m = /^(?:sha256:)?([A-Za-z0-9+/]{43})=?$/i.exec(text.trim());
  // The prefix is matched case-insensitively, the base64 (group 1) is kept as written.
  return m?.[1] ? `SHA256:${m[1]}` : undefined;
}

/** The name a host is recorded under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type inside an SSH wire-format public key blob (its first string). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked') {
      marker = 'revoked';
      fields.shift();
    } else if (fields[0].startsWith('@')) {
      return; // @cert-authority (no certificate support here) or an unknown marker: skip the line
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64) return;
    entries.push({
      line: i + 1,
      ...(marker && { marker }),
      hosts,
      keyType,
      key: Buffer.from(base64, 'base64'),
    });
  });
  return entries;
}

/** Whether an entry's host field covers `name` (a knownHostName()): hashed, or a pattern list. */
export function hostFieldMatches(hosts: string, name: string): boolean {
  const lower = name.toLowerCase();
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(lower).digest('base64') === hash;
  }
  return matchPatternList(hosts.split(','), lower, true);
}

/** The entries recorded for host:port, markers included, in file order. */
export async function lookupHost(file: string, host: string, port: number): Promise<KnownHostEntry[]> {
  const name = knownHostName(host, port);
  return parseKnownHosts(await readText(file)).filter((e) => hostFieldMatches(e.hosts, name));
}

export interface VerifyHostKeyOptions {
  file: string;
  host: string;
  port: number;
  /**
   * Other spellings of the host (its addresses, from ssh/addresses.ts): a key recorded under any of them
   * counts, and a new key is recorded under them too, so `127.1` cannot pass for a new host when
   * `localhost` is known with another key.
   */
  aliases?: string[];
  key: Buffer;
  policy?: HostKeyPolicy;
  /** Pinned fingerprints (see HostKeyOptions): when non-empty, the only check, and `file` is not used. */
  fingerprints?: string[];
}

/**
 * Checks the key a server offered against its pinned fingerprints, or else known_hosts by the policy;
 * resolves to accept, throws SshError to refuse. accept-new records an unknown host; a known host with a
 * different key of the same type is refused, as is a revoked key.
 */
export async function verifyHostKey(o: VerifyHostKeyOptions): Promise<void> {
  const name = knownHostName(o.host, o.port);
  const offeredType = keyTypeOf(o.key);
  const offered = `${offeredType} key ${fingerprint(o.key)}`;
  // Pinning is checked before the policy on purpose: pinned fingerprints with policy off still pin (a
  // pin is the more specific statement, and the safer reading of a contradictory setting).
  if (o.fingerprints && o.fingerprints.length > 0) return checkPinned(o, name, offered);
  const policy = o.policy ?? 'accept-new';
  if (policy === 'off') return;
  const names = [...new Set([o.host, ...(o.aliases ?? []).filter((a) => !a.startsWith('name:'))])];
  const entries = (await Promise.all(names.map((n) => lookupHost(o.file, n, o.port)))).flat();
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(o.key));
  if (revoked) {
    throw new SshError(
      'host-key-changed',
      `The ${offered} offered by ${name} is marked @revoked in ${o.file}:${revoked.line}; refusing to connect.`,
      'A revoked key must never be accepted: ask the administrator of the host which key it should have.',
    );
  }
  const plain = entries.filter((e) => e.marker === undefined);
  if (plain.some((e) => e.key.equals(o.key))) return;
  const sameType = plain.filter((e) => e.keyType === offeredType);
  if (sameType.length > 0) {
    const recorded = sameType.map((e) => `${fingerprint(e.key)} (${o.file}:${e.line})`).join(', ');
    const fix = `ssh-keygen -R "${name}" -f ${o.file}`;
    throw new SshError(
      'host-key-changed',
      `HOST KEY CHANGED for ${name}: it offered ${offered}, but known_hosts records ${recorded}. ` +
        'Someone could be intercepting the connection (man-in-the-middle), or the host was reinstalled. ' +
        `If the change is expected, remove the old key with: ${fix}`,
      `Verify the new fingerprint with the host's administrator; if the change is expected, run: ${fix}`,
    );
  }
  if (policy === 'strict') {
    throw new SshError(
      'host-key-unknown',
      `${name} is not in ${o.file} (it offered ${offered}) and host key checking is strict.`,
      `Verify the fingerprint, then add the key, e.g.: ssh-keyscan -p ${o.port} ${o.host} >> ${o.file}`,
    );
  }
  if (plain.length > 0) {
    const types = [...new Set(plain.map((e) => e.keyType))].join(', ');
    log.warn(
      `${name} offered a key of type ${offeredType}; known_hosts only has ${types} for it. Adding it.`,
    );
  }
  for (const n of names) await appendKnownHost(o.file, n, o.port, o.key);
  log.info(
    `Permanently added ${names.map((n) => knownHostName(n, o.port)).join(', ')} (${offered}) to ${o.file}`,
  );
}

/** Accepts a key whose fingerprint is pinned; refuses any other naming both. known_hosts is not used. */
function checkPinned(o: VerifyHostKeyOptions, name: string, offered: string): void {
  const pinned = (o.fingerprints ?? []).map((f) => normalizeFingerprint(f) ?? f);
  if (pinned.includes(fingerprint(o.key))) return;
  throw new SshError(
    'host-key-changed',
    `HOST KEY MISMATCH for ${name}: it offered ${offered}, which is not among the fingerprints pinned for it: ` +
      `${pinned.join(', ')}. Someone could be intercepting the connection (man-in-the-middle), or the host ` +
      'was reinstalled.',
    `Verify the offered fingerprint with the host's administrator; if it is right, pin it instead (host_key ` +
      `fingerprints in the config file). If a pinned key is of another type than ${keyTypeOf(o.key)}, list ` +
      "that type first in the host's algorithms server_host_key so the server is asked for it.",
  );
}

/** Appends `name keytype base64`, creating the directory (0700) and the file (0600) when missing. */
export async function appendKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const existing = await readText(file);
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  const line = `${knownHostName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
  // One write with O_APPEND: concurrent connects each add a whole line.
  await appendFile(file, sep + line, { mode: 0o600 });
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new SshError('config', `Cannot read ${file}: ${(err as Error).message}`, 'Check its permissions.');
  }
}
