import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** Why a small file was refused; `code` lets callers word it their way. */
export class SmallFileError extends Error {
  constructor(
    readonly code: 'not-a-file' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Opened without blocking: opening a FIFO for reading otherwise waits for a writer, forever, and holds
 * one of libuv's four threads (or, synchronously, the whole server) while it waits.
 */
const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function check(info: Stats, maxBytes: number, what: string): void {
  if (!info.isFile()) {
    const kind = info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO' : 'a device or socket';
    throw new SmallFileError('not-a-file', `not a regular file (${kind}), so not ${what}`);
  }
  if (info.size > maxBytes) throw tooLarge(info.size, maxBytes, what);
}

const tooLarge = (size: number | undefined, maxBytes: number, what: string) =>
  new SmallFileError(
    'too-large',
    `${size === undefined ? 'more than' : `${size} bytes,`} over the ${maxBytes / 1024} KiB ${what} can be`,
  );

/**
 * A small file someone named (a private key, a secret): a regular file of at most `maxBytes`, checked on
 * the open file, so it cannot be swapped between check and read. /dev/zero or a FIFO is refused at once
 * instead of read without end; a file whose size says 0 (procfs) is still read no further than the bound.
 */
export async function readSmallFile(path: string, maxBytes: number, what: string): Promise<Buffer> {
  const handle = await open(path, FLAGS);
  try {
    const info = await handle.stat();
    check(info, maxBytes, what);
    let buffer: Buffer = Buffer.alloc(firstSize(info.size, maxBytes));
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = grown(buffer, maxBytes, what);
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** readSmallFile, synchronously (for the few callers that cannot wait). */
export function readSmallFileSync(path: string, maxBytes: number, what: string): Buffer {
  const fd = openSync(path, FLAGS);
  try {
    const info = fstatSync(fd);
    check(info, maxBytes, what);
    let buffer: Buffer = Buffer.alloc(firstSize(info.size, maxBytes));
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = grown(buffer, maxBytes, what);
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** The size stat gives plus one (to see the end at once), or 4 KiB when it gives 0 (procfs). */
const firstSize = (size: number, maxBytes: number) => Math.min(size > 0 ? size + 1 : 4096, maxBytes + 1);

/** A buffer twice as large, holding what was read; past maxBytes the file is refused. */
function grown(buffer: Buffer, maxBytes: number, what: string): Buffer {
  if (buffer.length > maxBytes) throw tooLarge(undefined, maxBytes, what);
  const next = Buffer.alloc(Math.min(buffer.length * 2, maxBytes + 1));
  buffer.copy(next);
  return next;
}
