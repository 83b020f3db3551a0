import type { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

/**
 * An SSH connection and its channels as the layers above src/ssh use them: only what they call. ssh2's
 * Client and ClientChannel are such objects (connect() returns a Client); nothing above src/ssh names ssh2.
 */

/** The terminal a channel asks for. */
export interface PtySpec {
  term: string;
  cols: number;
  rows: number;
}

/** A shell, or a command run with exec: its output (stderr apart), its input, its end. */
export interface SshChannel {
  readonly stderr: Readable;
  /** False when the data was queued: wait for `drain` before writing more. */
  write(data: string | Buffer): boolean;
  /** Ends the input (the command reads EOF). */
  end(): void;
  /** Closes the channel both ways. */
  close(): void;
  pause(): void;
  resume(): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  /** When the command ends: its exit status, or null when a signal ended it. It may never come. */
  on(event: 'exit', listener: (code: number | null) => void): this;
  on(event: 'close', listener: () => void): this;
  once(event: 'drain', listener: () => void): this;
}

export type ChannelCallback = (error: Error | undefined, channel: SshChannel) => void;

export interface SshConnection {
  exec(command: string, callback: ChannelCallback): unknown;
  exec(command: string, options: { pty?: PtySpec }, callback: ChannelCallback): unknown;
  /** A shell with a pty, or without one (`false`). */
  shell(pty: PtySpec | false, callback: ChannelCallback): unknown;
  /** For src/ssh/sftp.ts, which wraps the SFTP channel in an interface of its own. */
  sftp(callback: (error: Error | undefined, sftp: SFTPWrapper) => void): unknown;
  end(): void;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  once(event: 'close', listener: () => void): this;
}
