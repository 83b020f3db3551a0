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
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxOutputBytes: 10 * 1024 * 1024,
  maxSpillBytes: 1024 * 1024 * 1024,
  maxResultBytes: 2 * 1024 * 1024,
  connectTimeoutMs: 20_000,
};
