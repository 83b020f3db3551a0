import { readRange } from '../ssh/sftp.js';
import { FileError, fileError, isPermissionError } from './errors.js';
import { type RemoteContext, resolveRemote } from './remote.js';
import { runSudo, SUDO_READ } from './sudo.js';

export type Encoding = 'utf8' | 'base64';

export interface ReadRequest {
  path: string;
  offset: number;
  maxBytes: number;
  encoding: Encoding;
}

export interface ReadResult {
  path: string;
  size: number;
  offset: number;
  bytes: number;
  truncated: boolean;
  nextOffset?: number;
  encoding: Encoding;
  content: string;
  viaSudo: boolean;
  note?: string;
}

/** read_file: SFTP first; on permission denied, and when sudo is allowed, root reads it on an exec channel. */
export async function readRemote(ctx: RemoteContext, request: ReadRequest): Promise<ReadResult> {
  const path = await resolveRemote(ctx, request.path);
  try {
    const { size, data } = await readSftp(ctx, path, request);
    return shape(path, size, data, request, false);
  } catch (error) {
    const e = fileError(error, path);
    if (!isPermissionError(e) || !ctx.sudo.allowed) throw e;
    const { size, data } = await readSudo(ctx, path, request);
    return shape(path, size, data, request, true);
  }
}

async function readSftp(ctx: RemoteContext, path: string, request: ReadRequest) {
  const stats = await ctx.sftp.stat(path).catch((e) => {
    throw fileError(e, path);
  });
  if (stats.isDirectory()) throw new FileError(path, 'is a directory', 'list_directory lists it');
  const handle = await ctx.sftp.open(path, 'r').catch((e) => {
    throw fileError(e, path);
  });
  try {
    const length = Math.max(0, Math.min(request.maxBytes, stats.size - request.offset));
    return { size: stats.size, data: await readRange(ctx.sftp, handle, request.offset, length) };
  } finally {
    await ctx.sftp.close(handle).catch(() => {});
  }
}

async function readSudo(ctx: RemoteContext, path: string, request: ReadRequest) {
  const chunks: Buffer[] = [];
  const { stderr } = await runSudo(ctx.client, path, {
    script: SUDO_READ,
    args: [path, String(request.offset), String(request.maxBytes)],
    password: ctx.sudo.password,
    onStdout: (chunk) => chunks.push(chunk),
  });
  const size = Number(/MCP-SIZE (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  return { size, data: Buffer.concat(chunks) };
}

function shape(path: string, size: number, raw: Buffer, request: ReadRequest, viaSudo: boolean): ReadResult {
  let data = raw;
  let truncated = request.offset + data.length < size;
  // Text cut at the cap may end inside a UTF-8 character: stop before it, the next call starts with it.
  if (truncated && request.encoding === 'utf8') data = data.subarray(0, completeUtf8(data));
  truncated = request.offset + data.length < size;
  const content = data.toString(request.encoding);
  const binary = request.encoding === 'utf8' && content.includes('\uFFFD');
  return {
    path,
    size,
    offset: request.offset,
    bytes: data.length,
    truncated,
    ...(truncated && { nextOffset: request.offset + data.length }),
    encoding: request.encoding,
    content,
    viaSudo,
    ...(binary && { note: 'not valid UTF-8: read it with encoding "base64" for the exact bytes' }),
  };
}

/** Length of the longest prefix that does not end in the middle of a UTF-8 sequence. */
function completeUtf8(data: Buffer): number {
  for (let back = 1; back <= Math.min(3, data.length); back++) {
    const byte = data[data.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? data.length - back : data.length;
  }
  return data.length;
}
