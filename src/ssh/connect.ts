import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig, type HostVerifier } from 'ssh2';
import { log } from '../util/log.js';
import { addressLiteral, hostAddresses } from './addresses.js';
import { connectAlgorithms, NegotiationLog, negotiationError } from './algorithms.js';
import { type AuthPlan, type AuthSecrets, loadIdentities, planAuth } from './auth.js';
import { SshError } from './errors.js';
import { type HostKeyPolicy, knownHostName, lookupHost, verifyHostKey } from './known-hosts.js';
import { defaultSshPaths, type SshPaths } from './paths.js';
import type { Hop, ResolvedTarget } from './ssh-config.js';

export interface ConnectOptions {
  /** One budget for TCP connect, handshake and authentication, across all jump hops. */
  timeoutMs: number;
  paths?: SshPaths;
  /** Default 15000; the connection is dropped after 3 unanswered keepalives. */
  keepaliveIntervalMs?: number;
  /**
   * For hops whose hostKey does not set a policy. Default 'accept-new', like OpenSSH's
   * StrictHostKeyChecking=accept-new.
   */
  hostKeyPolicy?: HostKeyPolicy;
}

const KEEPALIVE_COUNT_MAX = 3;

/** One hop on the way: where to, what to call it in messages, and its credentials (target only). */
interface Step {
  hop: Hop;
  /** What the caller called it: the alias for the target, the name in the ProxyJump setting for jumps. */
  name: string;
  secrets: AuthSecrets;
  jump: boolean;
  /** Reached from here, not through a jump host: its name resolves here as it does for the connection. */
  direct: boolean;
}

/**
 * Opens an authenticated SSH connection to the target, through its ProxyJump hops, and resolves with the
 * final Client once it is 'ready'. Ending that client closes the hops too.
 */
export async function connect(target: ResolvedTarget, options: ConnectOptions): Promise<Client> {
  const paths = options.paths ?? defaultSshPaths();
  // A secret this short cannot be masked in output (it would wreck it): it is not used at all.
  for (const [what, value] of [
    ['password', target.password],
    ['key passphrase', target.keyPassphrase],
  ] as const) {
    if (value !== undefined && value.length < 3) {
      throw new SshError(
        'config',
        `the ${what} for ${target.alias} is shorter than 3 characters: it could not be masked in output, so it is refused`,
        'Use a longer one (or log in with a key).',
      );
    }
  }
  const steps: Step[] = [
    ...target.jumps.map((hop, i) => ({ hop, name: hop.name, secrets: {}, jump: true, direct: i === 0 })),
    {
      hop: target,
      name: target.alias,
      secrets: { password: target.password, keyPassphrase: target.keyPassphrase },
      jump: false,
      direct: target.jumps.length === 0,
    },
  ];
  const clients: Client[] = [];
  const sockets: Duplex[] = [];
  let current = steps[0] as Step;
  let cancelled = false;
  const destroyAll = () => {
    cancelled = true;
    for (const c of clients) c.destroy();
    for (const s of sockets) s.destroy();
  };

  const establish = async (): Promise<Client> => {
    let previous: Client | undefined;
    for (const step of steps) {
      current = step;
      const prepared = await prepare(step, paths, options);
      const sock = previous ? await forward(previous, step, paths) : await openSocket(step, paths, sockets);
      if (cancelled) throw new Error('cancelled'); // the timer already rejected and destroyed everything
      const client = new Client();
      clients.push(client);
      // From the start and for good: an 'error' without a listener would crash the process, e.g. a
      // keepalive failure on a ready hop while a later hop is still connecting.
      client.on('error', (err) => log.debug(`ssh ${step.hop.host}:${step.hop.port}: ${err.message}`));
      await handshake(client, sock, step, prepared);
      previous = client;
    }
    return previous as Client;
  };

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      destroyAll();
      const { host, port } = current.hop;
      const via = current.hop === target ? '' : ` (jump host on the way to ${target.id})`;
      reject(
        new SshError(
          'timeout',
          `Timed out after ${options.timeoutMs} ms connecting to ${host}:${port}${via}`,
          'Check that the host is up and reachable and that the port speaks SSH, or allow a longer timeout.',
        ),
      );
    }, options.timeoutMs);
  });

  try {
    const client = await Promise.race([establish(), timedOut]);
    closeHopsWith(client, clients.slice(0, -1));
    return client;
  } catch (err) {
    destroyAll();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes the jump hops with the final connection. The other direction needs nothing: a hop that dies
 * takes the forwarded stream, and so the final client, with it.
 */
function closeHopsWith(client: Client, hops: Client[]): void {
  if (hops.length === 0) return;
  client.once('close', () => {
    for (const hop of [...hops].reverse()) hop.end();
  });
}

/** Our own TCP socket: ssh2 leaves Nagle on, which costs ~40 ms per round trip. */
function openSocket(step: Step, paths: SshPaths, sockets: Duplex[]): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const { host, port } = step.hop;
    const sock = tcpConnect({ host, port });
    sockets.push(sock);
    sock.setNoDelay(true);
    // Stays attached: ssh2 adds its own handler, and a settled promise ignores later rejections.
    sock.on('error', (err: NodeJS.ErrnoException) => reject(socketError(err, step, paths)));
    sock.once('connect', () => resolve(sock));
  });
}

function socketError(err: NodeJS.ErrnoException, step: Step, paths: SshPaths): SshError {
  const { host, port } = step.hop;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new SshError(
        'refused',
        `Connection refused by ${host}:${port}; is sshd running there, and is ${port} the right port?`,
        'Check the host and port (the port parameter or Port in the ssh config).',
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return unknownHost(step, paths, err);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new SshError(
        'refused',
        `${host}:${port} is unreachable (${err.code})`,
        'Check the network path.',
        {
          cause: err,
        },
      );
    case 'ETIMEDOUT':
      return new SshError(
        'timeout',
        `TCP connect to ${host}:${port} timed out`,
        'Check that the host is up.',
        {
          cause: err,
        },
      );
    default:
      return new SshError('disconnected', `Cannot connect to ${host}:${port}: ${err.message}`, '', {
        cause: err,
      });
  }
}

function unknownHost(step: Step, paths: SshPaths, cause: unknown): SshError {
  const { host } = step.hop;
  const { name } = step.hop;
  if (name === host) {
    return new SshError(
      'unknown-host',
      `'${host}' is neither an alias in ${paths.sshConfig} nor a resolvable host name`,
      'Check the spelling, or add a Host entry to the ssh config.',
      { cause },
    );
  }
  return new SshError(
    'unknown-host',
    `Cannot resolve '${host}', the host name set for '${name}'`,
    `Check the spelling of ${name}'s host name (HostName in ${paths.sshConfig}, or its entry in the config file).`,
    { cause },
  );
}

/** The next hop's transport: a direct-tcpip channel through the previous hop. */
function forward(via: Client, step: Step, paths: SshPaths): Promise<Duplex> {
  const { host, port } = step.hop;
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (!err) return resolve(stream);
      const reason = (err as Error & { reason?: number }).reason;
      // sshd passes on getaddrinfo's or connect's error text, e.g. "Name or service not known".
      if (/name|not known|resolution|nodename/i.test(err.message)) {
        return reject(unknownHost(step, paths, err));
      }
      const prohibited = reason === 1; // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED
      reject(
        new SshError(
          'refused',
          `The jump host could not open a connection to ${host}:${port}: ${err.message}`,
          prohibited
            ? 'The jump host forbids TCP forwarding (AllowTcpForwarding in its sshd_config).'
            : 'Check that the host and port are right and reachable from the jump host.',
          { cause: err },
        ),
      );
    });
  });
}

/** What a hop's handshake needs from disk: recorded key types, parsed keys, the auth plan. */
interface Prepared {
  connectConfig: Omit<ConnectConfig, 'sock'>;
  auth: AuthPlan;
  hostKeyError: () => SshError | undefined;
  negotiation: NegotiationLog;
}

async function prepare(step: Step, paths: SshPaths, options: ConnectOptions): Promise<Prepared> {
  const { hop, secrets } = step;
  const policy = hop.hostKey?.policy ?? options.hostKeyPolicy ?? 'accept-new';
  const fingerprints = hop.hostKey?.fingerprints ?? [];
  const file = hop.hostKey?.knownHostsFile ?? paths.knownHosts;
  const pinned = fingerprints.length > 0;
  if (policy === 'off' && !pinned) {
    // Every time, not once: the agent or user reading stderr should not forget it is on.
    log.warn(
      `Host key checking is off for ${step.name} (${knownHostName(hop.host, hop.port)}): its identity is ` +
        'not verified, so the connection could be intercepted. Pin its fingerprint or use accept-new.',
    );
  }
  // Pinned hosts do not consult known_hosts at all, not even for the algorithm order. A hop reached
  // through another has names only that hop can resolve: only its address literal is normalised.
  const literal = addressLiteral(hop.host);
  const aliases = step.direct ? await hostAddresses(hop.host) : literal ? [literal] : [];
  const known = policy === 'off' || pinned ? [] : await lookupHost(file, hop.host, hop.port);
  const identities = await loadIdentities(hop.identityFiles, secrets, paths.home);
  const auth = planAuth(hop, identities, secrets, process.env.SSH_AUTH_SOCK, step.jump);
  const negotiation = new NegotiationLog();

  // ssh2 only learns "denied"; the reason is kept here for the error.
  let hostKeyError: SshError | undefined;
  const hostVerifier: HostVerifier = (key, verify) => {
    verifyHostKey({ file, host: hop.host, port: hop.port, aliases, key, policy, fingerprints }).then(
      () => verify(true),
      (err: unknown) => {
        hostKeyError =
          err instanceof SshError ? err : new SshError('config', `Host key check failed: ${String(err)}`);
        verify(false);
      },
    );
  };
  return {
    auth,
    hostKeyError: () => hostKeyError,
    negotiation,
    connectConfig: {
      username: hop.username,
      hostVerifier,
      algorithms: connectAlgorithms(
        hop.algorithms,
        known.map((e) => e.keyType),
      ),
      // The only way ssh2 tells what the server proposed, for a failed negotiation's message.
      debug: negotiation.debug,
      authHandler: auth.handler,
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      readyTimeout: 0, // connect() has one timer for everything
    },
  };
}

/** SSH handshake and authentication for one hop, over an already connected transport. */
function handshake(client: Client, sock: Duplex, step: Step, prepared: Prepared): Promise<void> {
  const where = `${step.hop.host}:${step.hop.port}`;
  const { auth, hostKeyError, negotiation } = prepared;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: SshError) => {
      if (settled) return;
      settled = true;
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onError = (err: Error & { level?: string }) => {
      // ssh2 reports these and carries on with the next method or key.
      if (err.level === 'agent' || (err.level === 'client-authentication' && !auth.exhausted())) {
        log.debug(`ssh ${where}: ${err.message}`);
        return;
      }
      settle(
        hostKeyError() ??
          negotiationError(err, where, step.hop.name, negotiation) ??
          (auth.exhausted() ? auth.failure() : handshakeError(err, where)),
      );
    };
    const onClose = () =>
      settle(
        hostKeyError() ??
          (auth.exhausted()
            ? auth.failure()
            : new SshError(
                'disconnected',
                `${where} closed the connection during the SSH handshake`,
                'Is it an SSH server? It may also limit connections (MaxStartups) or block this client.',
              )),
      );
    client.on('error', onError);
    client.on('close', onClose);
    client.once('ready', () => settle());
    try {
      client.connect({ ...prepared.connectConfig, sock });
    } catch (err) {
      // ssh2 checks the algorithm names here: "Unsupported algorithm: x".
      const unsupported = /unsupported algorithm/i.test((err as Error).message);
      settle(
        new SshError(
          'config',
          `Cannot start SSH to ${step.name} (${where}): ${(err as Error).message}`,
          unsupported
            ? `Fix the algorithms setting of ${step.hop.name}: use names from ssh2's list (see its README).`
            : '',
          { cause: err },
        ),
      );
    }
  });
}

function handshakeError(err: Error, where: string): SshError {
  if (/lost before handshake/i.test(err.message)) {
    return new SshError(
      'disconnected',
      `${where} closed the connection before the SSH handshake`,
      'Is it an SSH server? It may also limit connections (MaxStartups) or block this client.',
      { cause: err },
    );
  }
  return new SshError('disconnected', `SSH handshake with ${where} failed: ${err.message}`, '', {
    cause: err,
  });
}
