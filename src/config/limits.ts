import { DEFAULT_RETENTION } from '../session/registry.js';

/** Tunables of the server: defaults, then the config file's `limits`, then the CLI's flags and environment. */
export interface ServerLimits {
  /**
   * Output kept in memory per command (head and tail); past it the middle goes to a temporary file. A
   * result shows at most maxResultBytes of it, so more in memory only costs the server.
   */
  maxOutputBytes: number;
  /** Most bytes of one command's middle kept in its temporary file; past it they are dropped, with a note. */
  maxSpillBytes: number;
  /**
   * The budget of one tool result: its text block and its structuredContent each take at most this many
   * bytes JSON-encoded (so at most as many characters for the model). Clients cut or refuse far less than
   * the SDK's 10 MiB (Claude Code past 25,000 tokens and keeps only structuredContent, Claude Desktop
   * refuses past 1 MB): 100 kB stays readable, and the rest is read by offset, line or grep. A call may
   * ask for another size (max_bytes), up to RESULT_CEILING.
   */
  maxResultBytes: number;
  /**
   * The longest a call waits (execute_command's timeout): clients give up on a request after 60 s by
   * default, so a command that runs longer goes on in the background and the call answers before that.
   */
  maxWaitMs: number;
  /** TCP connect + SSH handshake + authentication, across jump hosts. */
  connectTimeoutMs: number;
  /** Finished outputs kept in memory, all sessions together; past it they move to disk. */
  maxTotalOutputMemory: number;
  /** Outputs kept on disk, all sessions together; past it the oldest are dropped (read ones first). */
  maxTotalOutputDisk: number;
  /** An output nobody read is kept this long after its command ended. */
  keepUnreadMs: number;
  /** An output that was read is kept this long after, to read it again. */
  keepReadMs: number;
  /** read_file's cap per call: a result carries the content twice (text and structuredContent). */
  maxReadBytes: number;
  /** upload_file / download_file: a limit so a mistaken path cannot fill a disk; files.max_transfer_bytes. */
  maxTransferBytes: number;
  /** execute_on_hosts: hosts run at once when the call names no concurrency (Nornir's default is 20). */
  fanoutConcurrency: number;
  /** execute_on_hosts: the most hosts a call may run at once, whatever it asks. */
  maxFanoutConcurrency: number;
  /**
   * SSH connections being opened at once, all hosts together; a connection the server drops before the
   * handshake is tried again after a backoff. OpenSSH's MaxStartups drops past 10 at once by default.
   */
  maxConnecting: number;
  /** A session with nothing running, unused this long, is closed (its shell state goes); 0: never. */
  idleTimeoutMs: number;
  /** serve --http: the largest request body; http.max_request_bytes. */
  httpMaxRequestBytes: number;
  /** serve --http: requests one user may have running at once; http.max_requests_per_user. */
  httpMaxRequestsPerUser: number;
  /** serve --http: MCP sessions one user may hold open; http.max_sessions_per_user. */
  httpMaxSessionsPerUser: number;
  /** serve --http: how long running calls may finish after SIGTERM; http.shutdown_grace. */
  httpShutdownGraceMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxOutputBytes: 1024 * 1024,
  maxSpillBytes: 1024 * 1024 * 1024,
  maxResultBytes: 100_000,
  maxWaitMs: 50_000,
  connectTimeoutMs: 20_000,
  maxTotalOutputMemory: DEFAULT_RETENTION.memoryBytes,
  maxTotalOutputDisk: DEFAULT_RETENTION.diskBytes,
  keepUnreadMs: DEFAULT_RETENTION.unreadMs,
  keepReadMs: DEFAULT_RETENTION.readMs,
  maxReadBytes: 2 * 1024 * 1024,
  maxTransferBytes: 1024 * 1024 * 1024,
  fanoutConcurrency: 20,
  maxFanoutConcurrency: 100,
  maxConnecting: 10,
  idleTimeoutMs: 60 * 60 * 1000,
  httpMaxRequestBytes: 10 * 1024 * 1024,
  httpMaxRequestsPerUser: 16,
  httpMaxSessionsPerUser: 32,
  httpShutdownGraceMs: 30_000,
};

/**
 * The most a result may take, per block, whatever the config or a call asks: the text block and
 * structuredContent together stay under 1 MB on the wire (Claude Desktop refuses a result past it).
 */
export const RESULT_CEILING = 400_000;

/** The least a result may take, per block: a status line, a few fields and a little output. */
export const RESULT_FLOOR = 1000;

/**
 * The limits in force: the defaults, beaten by the config file's, beaten by the caller's (flags and
 * environment). A value left unset (or undefined) at one level keeps the one beneath it.
 */
export function resolveLimits(
  config: Partial<ServerLimits> = {},
  call: Partial<ServerLimits> = {},
): ServerLimits {
  const defined = (l: Partial<ServerLimits>) => Object.entries(l).filter(([, v]) => v !== undefined);
  const limits: ServerLimits = {
    ...DEFAULT_LIMITS,
    ...Object.fromEntries(defined(config)),
    ...Object.fromEntries(defined(call)),
  };
  // The config file's schema refuses more; a flag or an environment variable is held to it here.
  limits.maxResultBytes = Math.min(Math.max(limits.maxResultBytes, RESULT_FLOOR), RESULT_CEILING);
  limits.maxFanoutConcurrency = Math.max(1, limits.maxFanoutConcurrency);
  limits.maxConnecting = Math.max(1, limits.maxConnecting);
  limits.fanoutConcurrency = Math.min(Math.max(1, limits.fanoutConcurrency), limits.maxFanoutConcurrency);
  return limits;
}
