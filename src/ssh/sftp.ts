import { posix } from 'node:path';
import type { FileEntryWithStats, OpenMode, SFTPWrapper, Stats } from 'ssh2';
import type { SshConnection } from './connection.js';

/**
 * One SFTP channel per connection for the small calls (read_file, write_file, list_directory): opening one
 * costs a round trip or two, and the session's connection lives long. A closed channel or connection
 * drops the cache entry, so the next call opens a new one.
 */
const channels = new WeakMap<SshConnection, Promise<Sftp>>();

export function sftpOf(client: SshConnection): Promise<Sftp> {
  let cached = channels.get(client);
  if (!cached) {
    cached = openSftp(client);
    channels.set(client, cached);
    const forget = () => {
      if (channels.get(client) === cached) channels.delete(client);
    };
    cached.then((s) => s.raw.once('close', forget), forget);
    client.once('close', forget);
  }
  return cached;
}

/** A channel of its own (transfers: closing it is how a cancelled transfer stops). */
export function openSftp(client: SshConnection): Promise<Sftp> {
  return new Promise((resolve, reject) => {
    client.sftp((error, sftp) => (error ? reject(error) : resolve(new Sftp(sftp))));
  });
}

type Callback<T> = (error: Error | null | undefined, value: T) => void;

/** How fastPut and fastGet move a file: `concurrency` requests of `chunkSize` bytes in flight. */
export interface FastTransferOptions {
  concurrency: number;
  chunkSize: number;
  /** Permissions of the file created. */
  mode: number;
  onProgress?: (done: number, total: number) => void;
}

const closedError = () =>
  new Error('the SFTP channel closed (sftp-server on the host ended it); the next call opens a new one');

/**
 * Promises over ssh2's callbacks, plus the remote home for `~`. ssh2 never calls back a request made on a
 * channel that has closed (sftp-server exits on a message over its 256 KiB limit, or is killed): such a
 * call fails at once here, and one still waiting when the channel closes fails then.
 */
export class Sftp {
  private home: Promise<string> | undefined;
  private closed = false;
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(readonly raw: SFTPWrapper) {
    raw.once('close', () => {
      this.closed = true;
      for (const fail of this.waiting) fail(closedError());
      this.waiting.clear();
    });
  }

  private call<T>(fn: (cb: Callback<T>) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(closedError());
      this.waiting.add(reject);
      fn((error, value) => {
        this.waiting.delete(reject);
        if (error) reject(error);
        else resolve(value);
      });
    });
  }

  /** The login folder: SFTP starts there, so realpath('.') is `~`. */
  homeDir(): Promise<string> {
    this.home ??= this.realpath('.');
    return this.home;
  }

  realpath = (path: string) => this.call<string>((cb) => this.raw.realpath(path, cb));
  stat = (path: string) => this.call<Stats>((cb) => this.raw.stat(path, cb));
  lstat = (path: string) => this.call<Stats>((cb) => this.raw.lstat(path, cb));
  open = (path: string, flags: OpenMode, mode?: number) =>
    this.call<Buffer>((cb) => this.raw.open(path, flags, mode === undefined ? {} : { mode }, cb));
  close = (handle: Buffer) => this.call<void>((cb) => this.raw.close(handle, cb as Callback<void>));
  fstat = (handle: Buffer) => this.call<Stats>((cb) => this.raw.fstat(handle, cb));
  fchmod = (handle: Buffer, mode: number) =>
    this.call<void>((cb) => this.raw.fchmod(handle, mode, cb as Callback<void>));
  chmod = (path: string, mode: number) =>
    this.call<void>((cb) => this.raw.chmod(path, mode, cb as Callback<void>));
  unlink = (path: string) => this.call<void>((cb) => this.raw.unlink(path, cb as Callback<void>));
  mkdir = (path: string) => this.call<void>((cb) => this.raw.mkdir(path, cb as Callback<void>));
  readdir = (path: string) => this.call<FileEntryWithStats[]>((cb) => this.raw.readdir(path, cb));

  async read(handle: Buffer, length: number, position: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const bytesRead = await this.call<number>((cb) =>
      this.raw.read(handle, buffer, 0, length, position, (error, n) => cb(error, n)),
    );
    return buffer.subarray(0, bytesRead);
  }

  write(handle: Buffer, data: Buffer, position: number): Promise<void> {
    return this.call<void>((cb) =>
      this.raw.write(handle, data, 0, data.length, position, cb as unknown as Callback<void>),
    );
  }

  /**
   * Rename over an existing file in one step. Plain SFTP rename refuses an existing target; OpenSSH's
   * posix-rename extension is rename(2), which is what makes write_file atomic.
   */
  replace(from: string, to: string): Promise<void> {
    return this.call<void>((cb) => this.raw.ext_openssh_rename(from, to, cb as Callback<void>));
  }

  /** A local file to a remote one, in parallel requests (ssh2's fastPut). Closing the channel stops it. */
  fastPut(local: string, remote: string, options: FastTransferOptions): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.raw.fastPut(local, remote, fastOptions(options), (error) => (error ? reject(error) : resolve())),
    );
  }

  /** A remote file to a local one, in parallel requests (ssh2's fastGet). Closing the channel stops it. */
  fastGet(remote: string, local: string, options: FastTransferOptions): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.raw.fastGet(remote, local, fastOptions(options), (error) => (error ? reject(error) : resolve())),
    );
  }

  /** mkdir -p: creates the missing folders of `dir`, top down. */
  async mkdirs(dir: string): Promise<void> {
    const missing: string[] = [];
    for (let d = dir; d !== '/' && d !== '.'; d = posix.dirname(d)) {
      try {
        await this.stat(d);
        break;
      } catch (error) {
        if ((error as { code?: number }).code !== 2) throw error;
        missing.unshift(d);
      }
    }
    for (const d of missing) await this.mkdir(d);
  }

  end(): void {
    this.raw.end();
  }
}

function fastOptions(options: FastTransferOptions) {
  return {
    concurrency: options.concurrency,
    chunkSize: options.chunkSize,
    mode: options.mode,
    step: (done: number, _chunk: number, total: number) => options.onProgress?.(done, total),
  };
}

/** Bytes of [offset, offset + length) in parallel chunks (one request per chunk is a round trip each). */
export async function readRange(sftp: Sftp, handle: Buffer, offset: number, length: number): Promise<Buffer> {
  const CHUNK = 64 * 1024;
  const starts: number[] = [];
  for (let at = offset; at < offset + length; at += CHUNK) starts.push(at);
  const parts = await Promise.all(
    starts.map((at) => sftp.read(handle, Math.min(CHUNK, offset + length - at), at)),
  );
  // A short chunk means the file ended (or shrank) there: nothing after it belongs to the answer.
  const out: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    out.push(part);
    if (part.length < Math.min(CHUNK, offset + length - (starts[i] as number))) break;
  }
  return Buffer.concat(out);
}
