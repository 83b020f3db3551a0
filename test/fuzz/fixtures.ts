import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Fixtures } from './values.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/**
 * The fuzz run's world: a folder (the server's HOME and working folder, with a FIFO and a sparse 1 GiB
 * file to name as key or local file), a 127.0.0.1 port that refuses and one that accepts and hangs up.
 */
export async function makeFixtures(): Promise<Fixtures & { close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-fuzz-'));
  mkdirSync(path.join(dir, '.ssh'), { mode: 0o700 });
  writeFileSync(path.join(dir, 'local.txt'), 'local file\n');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const hugeFile = path.join(dir, 'huge.bin');
  writeFileSync(hugeFile, '');
  truncateSync(hugeFile, 1024 ** 3);

  const refusing = createServer();
  const refusedPort = await listen(refusing);
  await new Promise<void>((resolve) => refusing.close(() => resolve()));
  const sockets = new Set<Socket>();
  const closing = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.destroy();
  });
  const closingPort = await listen(closing);

  return {
    dir,
    fifo,
    hugeFile,
    refusedPort,
    closingPort,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
