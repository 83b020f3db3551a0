import { createRequire } from 'node:module';
import type { Algorithms, ServerHostKeyAlgorithm } from 'ssh2';
import { SshError } from './errors.js';

/** The keys of ssh2's `algorithms` option. */
export type AlgorithmCategory = keyof Algorithms;

/**
 * One category's setting: an exact list (most preferred first), or edits of ssh2's default list. Names are
 * plain strings (ssh2 rejects unknown ones when connecting; supportedAlgorithms() lists the valid ones).
 * @types/ssh2 types the edit object with all three keys required, hence this looser type of our own.
 */
export type AlgorithmSetting = string[] | { append?: string[]; prepend?: string[]; remove?: string[] };

/** ssh2's `algorithms` option as the ssh layer takes it: any category may be left out. */
export type HostAlgorithms = Partial<Record<AlgorithmCategory, AlgorithmSetting>>;
const CATEGORIES: AlgorithmCategory[] = ['kex', 'serverHostKey', 'cipher', 'hmac', 'compress'];

/** How the config file spells each category (it is written in snake_case), for the fixes we suggest. */
const CONFIG_KEY: Record<AlgorithmCategory, string> = {
  kex: 'kex',
  serverHostKey: 'server_host_key',
  cipher: 'cipher',
  hmac: 'hmac',
  compress: 'compress',
};

const DESCRIPTION: Record<AlgorithmCategory, string> = {
  kex: 'key exchange algorithm',
  serverHostKey: 'host key algorithm',
  cipher: 'cipher',
  hmac: 'MAC algorithm',
  compress: 'compression method',
};

/**
 * ssh2's ConnectConfig.algorithms for one hop: the hop's own settings, with the host key algorithms of
 * key types already known for it put first. An `{ append, prepend, remove }` object is applied in the order
 * remove, prepend, append whatever order it was written in (ssh2 itself follows the object's key order,
 * which a YAML or JSON file does not promise to keep).
 */
export function connectAlgorithms(
  configured: HostAlgorithms | undefined,
  knownKeyTypes: string[],
): Algorithms {
  const out: Record<string, AlgorithmSetting> = {};
  for (const category of CATEGORIES) {
    const setting = configured?.[category];
    if (setting === undefined) continue;
    out[category] = Array.isArray(setting)
      ? setting
      : {
          ...(setting.remove !== undefined && { remove: setting.remove }),
          ...(setting.prepend !== undefined && { prepend: setting.prepend }),
          ...(setting.append !== undefined && { append: setting.append }),
        };
  }
  out.serverHostKey = hostKeyAlgorithms(knownKeyTypes, configured?.serverHostKey);
  // Only the name types are narrower in @types/ssh2; ssh2 checks the names itself.
  return out as Algorithms;
}

/**
 * Host key algorithms, those matching key types already recorded for the host first (like OpenSSH), so a
 * host known by its ed25519 key is not treated as new because it prefers rsa. The set is ssh2's default
 * one, or the one `configured` (the host's algorithms.serverHostKey) asks for: an exact list decides the
 * set alone; a `{ remove, prepend, append }` object edits ssh2's defaults, and the preferred algorithms it
 * removes stay removed.
 */
export function hostKeyAlgorithms(knownKeyTypes: string[], configured?: AlgorithmSetting): AlgorithmSetting {
  const preferred: string[] = [...new Set(knownKeyTypes.flatMap((t) => ALGORITHMS_BY_KEY_TYPE[t] ?? []))];
  if (Array.isArray(configured) && configured.length > 0) {
    // A stable partition: the known ones first, each part in the order the user wrote.
    return [
      ...configured.filter((a) => preferred.includes(a)),
      ...configured.filter((a) => !preferred.includes(a)),
    ];
  }
  const edits = configured && !Array.isArray(configured) ? configured : {};
  const removed = edits.remove ?? [];
  const kept = preferred.filter((a) => !removed.some((r) => matchesAlgorithm(r, a)));
  // ssh2 applies the keys in insertion order: remove (theirs, and ours so they can move), then put ours in
  // front of their prepends, then their appends (skipped by ssh2 when already present).
  return {
    remove: [...removed, ...kept],
    prepend: [...kept, ...(edits.prepend ?? []).filter((a) => !kept.includes(a))],
    append: edits.append ?? [],
  };
}

/** ssh2 takes RegExps in these lists too, though @types/ssh2 does not say so. */
function matchesAlgorithm(pattern: unknown, name: string): boolean {
  return pattern instanceof RegExp ? pattern.test(name) : pattern === name;
}

/** Key type (as in known_hosts) -> the host key algorithms that produce it. Others: ssh2 cannot use them. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

interface AlgorithmTable {
  defaults: string[];
  supported: string[];
}

let table: Record<AlgorithmCategory, AlgorithmTable> | null | undefined;

/**
 * The algorithms ssh2 enables by default and those it can use at all, per category (from ssh2's own
 * tables, so they follow its version), or undefined when its internals moved. For messages and for
 * validating configured names.
 */
export function supportedAlgorithms(): Record<AlgorithmCategory, AlgorithmTable> | undefined {
  if (table === undefined) {
    try {
      const c = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js');
      const pair = (d: unknown, s: unknown): AlgorithmTable => {
        if (!Array.isArray(d) || !Array.isArray(s)) throw new Error('unexpected ssh2 constants');
        return { defaults: [...d], supported: [...s] };
      };
      table = {
        kex: pair(c.DEFAULT_KEX, c.SUPPORTED_KEX),
        serverHostKey: pair(c.DEFAULT_SERVER_HOST_KEY, c.SUPPORTED_SERVER_HOST_KEY),
        cipher: pair(c.DEFAULT_CIPHER, c.SUPPORTED_CIPHER),
        hmac: pair(c.DEFAULT_MAC, c.SUPPORTED_MAC),
        compress: pair(c.DEFAULT_COMPRESSION, c.SUPPORTED_COMPRESSION),
      };
    } catch {
      table = null;
    }
  }
  return table ?? undefined;
}

/** ssh2's debug lines naming the lists each side proposed: `Handshake: (remote) KEX method: a,b`. */
const PROPOSAL =
  /^Handshake: \((remote|local)\) (KEX method|Host key format|[CS]->[CS] cipher|[CS]->[CS] MAC|[CS]->[CS] compression): (.*)$/;
/** ssh2's errors when a list has nothing in common: `Handshake failed: no matching C->S cipher`. */
const NO_MATCH =
  /Handshake failed: no matching (key exchange algorithm|host key format|[CS]->[CS] cipher|[CS]->[CS] MAC|[CS]->[CS] compression)/i;

/** Names in the kex list that announce extensions, not algorithms: not worth showing as offers. */
const MARKERS = /^(ext-info-[cs]|kex-strict-[cs]-v00@openssh\.com)$/;

function categoryOf(label: string): AlgorithmCategory {
  const l = label.toLowerCase();
  if (l.startsWith('kex') || l.startsWith('key exchange')) return 'kex';
  if (l.startsWith('host key')) return 'serverHostKey';
  if (l.endsWith('cipher')) return 'cipher';
  if (l.endsWith('mac')) return 'hmac';
  return 'compress';
}

/**
 * Remembers what the server proposed during the handshake, from ssh2's debug output (the only place ssh2
 * tells), so a failed negotiation can say what the server would have accepted. Pass `debug` as
 * ConnectConfig.debug; it stops looking once the first key exchange is settled.
 */
export class NegotiationLog {
  private readonly remote: Partial<Record<AlgorithmCategory, string[]>> = {};
  private settled = false;

  readonly debug = (message: string): void => {
    if (this.settled) return;
    const m = PROPOSAL.exec(message);
    if (m?.[1] === 'remote' && m[2] !== undefined) {
      this.remote[categoryOf(m[2])] = (m[3] ?? '').split(',').filter((a) => a && !MARKERS.test(a));
    } else if (message.startsWith('Handshake completed')) {
      this.settled = true;
    }
  };

  /** The server's proposal for a category, if seen. */
  offered(category: AlgorithmCategory): string[] | undefined {
    return this.remote[category];
  }
}

/**
 * The SshError for an ssh2 error that is a failed algorithm negotiation, else undefined: which list had
 * nothing in common, what the server offered, and the `algorithms` setting that would fix it.
 */
export function negotiationError(
  err: Error,
  /** `host:port`. */
  where: string,
  /** The name the host was asked for by (alias, config entry name), for the fix. */
  name: string,
  log: NegotiationLog,
): SshError | undefined {
  const m = NO_MATCH.exec(err.message);
  if (!m?.[1]) return undefined;
  const category = categoryOf(m[1]);
  const key = CONFIG_KEY[category];
  const what = `${DESCRIPTION[category]} (the ${key} list)`;
  const host = name === where ? where : `${name} (${where})`;
  const offered = log.offered(category);
  const known = supportedAlgorithms()?.[category];
  const usable = offered && known ? offered.filter((a) => known.supported.includes(a)) : undefined;
  const problem = `Cannot agree on a ${what} with ${host}`;
  const fix = (algorithm: string) =>
    `add to the config file, in the entry for ${name}: algorithms: { ${key}: { append: [${algorithm}] } }`;
  const caution =
    'Algorithms left out by default are weak; enable one only for the hosts that need it (an entry per host ' +
    'or a group), not in defaults.';
  if (offered && usable && usable.length === 0) {
    const ours = known ? ` ssh2 supports: ${known.supported.join(', ')}.` : '';
    return new SshError(
      'algorithm-mismatch',
      `${problem}: it offers only ${offered.join(', ')}, none of which ssh2 supports, so it cannot be reached ` +
        `with this tool.${ours}`,
      `Enable a ${DESCRIPTION[category]} that ssh2 supports on the host.`,
      { cause: err },
    );
  }
  if (offered && offered.length > 0) {
    const candidates = usable ?? offered;
    return new SshError(
      'algorithm-mismatch',
      `${problem}: it offers ${offered.join(', ')}, none of which is enabled here. To allow ` +
        `${candidates[0]} for this host, ${fix(candidates[0] as string)}`,
      caution,
      { cause: err },
    );
  }
  // ssh2 did not say what the server offered (it always does today; this is for a future version).
  return new SshError(
    'algorithm-mismatch',
    `${problem}: none of the server's is enabled here (\`ssh -vv ${name}\` shows what it offers). To allow ` +
      `one, ${fix(`<one the server offers>`)}`,
    caution,
    { cause: err },
  );
}
