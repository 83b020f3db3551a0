import { randomBytes } from 'node:crypto';
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import path, { posix } from 'node:path';
import { type FastTransferOptions, openSftp, type Sftp } from '../ssh/sftp.js';
import { FileError, fileError } from './errors.js';
import { localPath } from './paths.js';
import { checkPlantedCode, type RemoteContext, resolveRemote, statOrNone } from './remote.js';

/**
 * ssh2's fastGet/fastPut keep this many requests of this size in flight: memory stays at
 * CONCURRENCY x CHUNK (2 MiB) whatever the file size, and the pipe stays full. 32 x 64 KiB was measured
 * against 64 x 32 KiB, 64 x 64 KiB, 16 x 128 KiB and 16 x 255 KiB on loopback: fastest or equal, both ways.
 */
const CONCURRENCY = 32;
const CHUNK = 64 * 1024;

export interface TransferRequest {
  local: string;
  remote: string;
  localDirs: string[];
  maxBytes: number;
  makeDirs: boolean;
  permissions?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface TransferResult {
  local: string;
  remote: string;
  bytes: number;
  durationMs: number;
}

const tempName = (file: string, join: (a: string, b: string) => string, dirname: (p: string) => string) =>
  join(dirname(file), `.${path.basename(file)}.mcp-${randomBytes(6).toString('hex')}`);

/**
 * Runs a transfer on an SFTP channel of its own: the cached one stays free for read_file and friends, and
 * closing this one is how a cancelled call stops ssh2's fastGet/fastPut, which have no abort of their own.
 */
async function onOwnChannel<T>(
  ctx: RemoteContext,
  signal: AbortSignal | undefined,
  fn: (s: Sftp) => Promise<T>,
) {
  const sftp = await openSftp(ctx.client);
  const abort = () => sftp.end();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    if (signal?.aborted) throw new Error('cancelled');
    return await fn(sftp);
  } finally {
    signal?.removeEventListener('abort', abort);
    sftp.end();
  }
}

/** The file system a transfer lands on: the remote one (the cached SFTP channel) or the local one. */
type FileSystem = Pick<Sftp, 'chmod' | 'replace' | 'unlink'>;
const localFs: FileSystem = { chmod, replace: rename, unlink };

/** A transfer's temporary file on `fs`, which gets `mode` once whole and is then renamed over `target`. */
interface Landing {
  fs: FileSystem;
  temp: string;
  target: string;
  mode: number;
}

/**
 * `copy` (fastPut or fastGet, on a channel of its own) writes the temporary file (mode 0600), which then
 * lands: the target is never seen half written, and the temporary file goes on failure. Errors name `remote`.
 */
async function landViaTemp(
  ctx: RemoteContext,
  request: TransferRequest,
  remote: string,
  { fs, temp, target, mode }: Landing,
  copy: (sftp: Sftp, options: FastTransferOptions) => Promise<void>,
): Promise<void> {
  try {
    await onOwnChannel(ctx, request.signal, (sftp) =>
      copy(sftp, { concurrency: CONCURRENCY, chunkSize: CHUNK, mode: 0o600, onProgress: request.onProgress }),
    );
    await fs.chmod(temp, mode);
    await fs.replace(temp, target);
  } catch (error) {
    await fs.unlink(temp).catch(() => {});
    throw request.signal?.aborted ? new FileError(remote, 'failed', 'cancelled') : fileError(error, remote);
  }
}

const overCap = (file: string, size: number, cap: number) =>
  new FileError(
    file,
    'over the cap',
    `${size} bytes; this server transfers at most ${cap} (files.max_transfer_bytes)`,
  );

/** upload_file: local file to a temporary remote file, then renamed over the target (atomic, as write_file). */
export async function upload(ctx: RemoteContext, request: TransferRequest): Promise<TransferResult> {
  const started = performance.now();
  const local = await localPath(request.local, request.localDirs, true).catch((e) =>
    Promise.reject(fileError(e, request.local)),
  );
  const info = await stat(local);
  if (!info.isFile())
    throw new FileError(
      request.local,
      info.isDirectory() ? 'is a directory' : 'failed',
      'not a regular file',
    );
  if (info.size > request.maxBytes) throw overCap(request.local, info.size, request.maxBytes);
  const remote = await resolveRemote(ctx, request.remote);
  const dir = posix.dirname(remote);
  if (request.makeDirs)
    await ctx.sftp.mkdirs(dir).catch((e) => Promise.reject(fileError(e, dir, 'creating it')));
  const folder = await statOrNone(ctx, dir);
  if (!folder?.isDirectory())
    throw new FileError(remote, 'not a directory', `its folder ${dir} does not exist or is not a folder`);
  const old = await statOrNone(ctx, remote);
  if (old?.isDirectory()) throw new FileError(remote, 'is a directory');
  if (old)
    await ctx.sftp
      .close(await ctx.sftp.open(remote, 'r+'))
      .catch((e) => Promise.reject(fileError(e, remote)));
  const mode = request.permissions ?? (old ? old.mode & 0o7777 : info.mode & 0o777);
  await checkPlantedCode(ctx, remote, mode);
  const temp = tempName(remote, posix.join, posix.dirname);
  await landViaTemp(ctx, request, remote, { fs: ctx.sftp, temp, target: remote, mode }, (sftp, options) =>
    sftp.fastPut(local, temp, options),
  );
  return { local, remote, bytes: info.size, durationMs: performance.now() - started };
}

/** download_file: remote file to a temporary local file in the target's folder, then renamed over it. */
export async function download(ctx: RemoteContext, request: TransferRequest): Promise<TransferResult> {
  const started = performance.now();
  const remote = await resolveRemote(ctx, request.remote);
  const info = await ctx.sftp.stat(remote).catch((e) => Promise.reject(fileError(e, remote)));
  if (!info.isFile())
    throw new FileError(remote, info.isDirectory() ? 'is a directory' : 'failed', 'not a regular file');
  if (info.size > request.maxBytes) throw overCap(remote, info.size, request.maxBytes);
  const local = await localPath(request.local, request.localDirs, false).catch((e) =>
    Promise.reject(fileError(e, request.local)),
  );
  const old = await stat(local).catch(() => undefined);
  if (old?.isDirectory()) throw new FileError(request.local, 'is a directory');
  const mode = request.permissions ?? (old ? old.mode & 0o7777 : 0o666 & ~process.umask());
  const temp = tempName(local, path.join, path.dirname);
  await landViaTemp(ctx, request, remote, { fs: localFs, temp, target: local, mode }, (sftp, options) =>
    sftp.fastGet(remote, temp, options),
  );
  return { local, remote, bytes: info.size, durationMs: performance.now() - started };
}
