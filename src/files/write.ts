import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { FileError, fileError, isPermissionError } from './errors.js';
import { checkPlantedCode, type RemoteContext, resolveRemote, statOrNone } from './remote.js';
import { feedAll, runSudo, SUDO_WRITE } from './sudo.js';

export interface WriteRequest {
  path: string;
  data: Buffer;
  append: boolean;
  makeDirs: boolean;
  /** Octal mode for the file; default: the old file's, or 0644 (0666 less the umask, with sudo). */
  permissions?: number;
}

export interface WriteResult {
  path: string;
  bytes: number;
  created: boolean;
  mode: string;
  viaSudo: boolean;
}

const NEW_FILE_MODE = 0o644;
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * write_file. A replace writes a temporary file next to the target and renames it over (rename(2) is
 * atomic: readers see the old or the new file, never half of one). An existing file is first opened for
 * writing as a check: a folder we may write to must not let us replace a file we may not write.
 */
export async function writeRemote(ctx: RemoteContext, request: WriteRequest): Promise<WriteResult> {
  const path = await resolveRemote(ctx, request.path);
  const old = ctx.commandPolicy ? await statOrNone(ctx, path).catch(() => undefined) : undefined;
  await checkPlantedCode(ctx, path, request.permissions ?? (old ? old.mode & 0o7777 : NEW_FILE_MODE));
  try {
    return await writeSftp(ctx, path, request);
  } catch (error) {
    const e = fileError(error, path);
    if (!isPermissionError(e) || !ctx.sudo.allowed) throw e;
    return writeSudo(ctx, path, request);
  }
}

async function writeSftp(ctx: RemoteContext, path: string, request: WriteRequest): Promise<WriteResult> {
  const { sftp } = ctx;
  const dir = posix.dirname(path);
  if (request.makeDirs) await sftp.mkdirs(dir).catch((e) => Promise.reject(fileError(e, dir, 'creating it')));
  const folder = await statOrNone(ctx, dir);
  if (!folder?.isDirectory())
    throw new FileError(path, 'not a directory', `its folder ${dir} does not exist or is not a folder`);
  const old = await statOrNone(ctx, path);
  if (old?.isDirectory()) throw new FileError(path, 'is a directory');
  if (old) await sftp.close(await sftp.open(path, 'r+')).catch((e) => Promise.reject(fileError(e, path)));
  const mode = request.permissions ?? (old ? old.mode & 0o7777 : NEW_FILE_MODE);
  if (request.append) {
    const handle = await sftp.open(path, 'a', mode);
    try {
      // One after another: an appending handle ignores offsets, so only the order of writes places them.
      for (let i = 0; i < request.data.length; i += 32 * 1024) {
        await sftp.write(handle, request.data.subarray(i, i + 32 * 1024), (old?.size ?? 0) + i);
      }
      if (request.permissions !== undefined) await sftp.fchmod(handle, mode);
    } finally {
      await sftp.close(handle).catch(() => {});
    }
    return { path, bytes: request.data.length, created: !old, mode: octal(mode), viaSudo: false };
  }
  const temp = posix.join(dir, `.${posix.basename(path)}.mcp-${randomBytes(6).toString('hex')}`);
  // Owner-only until complete: nobody reads a half-written file under a name of ours either.
  const handle = await sftp
    .open(temp, 'wx', 0o600)
    .catch((e) => Promise.reject(fileError(e, path, 'creating a temporary file next to it')));
  try {
    try {
      await writeAll(ctx, handle, request.data, 0);
      await sftp.fchmod(handle, mode);
    } finally {
      await sftp.close(handle);
    }
    await sftp.replace(temp, path);
  } catch (error) {
    await sftp.unlink(temp).catch(() => {});
    throw fileError(error, path);
  }
  return { path, bytes: request.data.length, created: !old, mode: octal(mode), viaSudo: false };
}

/** Parallel writes of 32 KiB: one request per chunk, all in flight (a round trip each otherwise). */
async function writeAll(ctx: RemoteContext, handle: Buffer, data: Buffer, at: number): Promise<void> {
  const CHUNK = 32 * 1024;
  const writes: Promise<void>[] = [];
  for (let i = 0; i < data.length; i += CHUNK) {
    writes.push(ctx.sftp.write(handle, data.subarray(i, i + CHUNK), at + i));
  }
  await Promise.all(writes);
}

async function writeSudo(ctx: RemoteContext, path: string, request: WriteRequest): Promise<WriteResult> {
  const before = await statOrNone(ctx, path).catch(() => undefined);
  const mode = request.permissions === undefined ? '' : octal(request.permissions);
  await runSudo(ctx.client, path, {
    script: SUDO_WRITE,
    args: [path, mode, request.append ? '1' : '0', request.makeDirs ? '1' : '0'],
    password: ctx.sudo.password,
    feed: (channel) => feedAll(channel, request.data),
  });
  const after = await statOrNone(ctx, path).catch(() => undefined);
  return {
    path,
    bytes: request.data.length,
    created: before === undefined,
    mode: after ? octal(after.mode) : mode || 'unknown',
    viaSudo: true,
  };
}
