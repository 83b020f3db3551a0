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
   * Output in one tool result, JSON-encoded. The result carries it twice (text block and
   * structuredContent); clients cut or refuse far less than the SDK's 10 MiB (Claude Code past 25,000
   * tokens, Claude Desktop past 1 MB): 100 kB stays readable, and the rest is read by offset.
   */
  maxResultBytes: number;
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
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxOutputBytes: 1024 * 1024,
  maxSpillBytes: 1024 * 1024 * 1024,
  maxResultBytes: 100_000,
  connectTimeoutMs: 20_000,
  maxTotalOutputMemory: DEFAULT_RETENTION.memoryBytes,
  maxTotalOutputDisk: DEFAULT_RETENTION.diskBytes,
  keepUnreadMs: DEFAULT_RETENTION.unreadMs,
  keepReadMs: DEFAULT_RETENTION.readMs,
  maxReadBytes: 2 * 1024 * 1024,
  maxTransferBytes: 1024 * 1024 * 1024,
};

/**
 * The limits in force: the defaults, beaten by the config file's, beaten by the caller's (flags and
 * environment). A value left unset (or undefined) at one level keeps the one beneath it.
 */
export function resolveLimits(
  config: Partial<ServerLimits> = {},
  call: Partial<ServerLimits> = {},
): ServerLimits {
  const defined = (l: Partial<ServerLimits>) => Object.entries(l).filter(([, v]) => v !== undefined);
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(defined(config)), ...Object.fromEntries(defined(call)) };
}
