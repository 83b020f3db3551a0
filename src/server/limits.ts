import { DEFAULT_RETENTION } from '../session/registry.js';

/** Tunables of the server; the CLI fills them from flags and environment. */
export interface ServerLimits {
  /** Output kept in memory per command (head and tail); past it the middle goes to a temporary file. */
  maxOutputBytes: number;
  /** Most bytes of one command's middle kept in its temporary file; past it they are dropped, with a note. */
  maxSpillBytes: number;
  /**
   * Output in one tool result, JSON-encoded. The result carries it twice (text block and
   * structuredContent) and the SDK client drops messages over 10 MiB: 2 MiB keeps a result under 5 MiB.
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
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxOutputBytes: 10 * 1024 * 1024,
  maxSpillBytes: 1024 * 1024 * 1024,
  maxResultBytes: 2 * 1024 * 1024,
  connectTimeoutMs: 20_000,
  maxTotalOutputMemory: DEFAULT_RETENTION.memoryBytes,
  maxTotalOutputDisk: DEFAULT_RETENTION.diskBytes,
  keepUnreadMs: DEFAULT_RETENTION.unreadMs,
  keepReadMs: DEFAULT_RETENTION.readMs,
};
