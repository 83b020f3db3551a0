// The impaired link where netem is missing: a TCP proxy on loopback that holds every chunk back for a
// fixed delay each way and, now and then, stalls a chunk (and everything behind it, order kept) as a
// lost segment's retransmission would. Kernel TCP still delivers every byte: it is latency and jitter,
// not real loss.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { between } from './target.js';

export interface Impairment {
  delayMs: number;
  /** Chance that a chunk is stalled, as a lost segment would be until retransmitted. */
  stallChance: number;
  stallMs: [number, number];
}

/** Bytes queued in one direction before the sender is paused. */
const HIGH_WATER = 4 * 1024 * 1024;

export interface DelayProxy {
  close(): Promise<void>;
}

export function startDelayProxy(
  listen: { host: string; port: number },
  upstream: { host: string; port: number },
  impairment: Impairment,
): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((downstream) => {
    const up = connect(upstream.port, upstream.host);
    for (const s of [downstream, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        downstream.destroy();
        up.destroy();
      });
    }
    delayed(downstream, up, impairment);
    delayed(up, downstream, impairment);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** Copies `from` to `to`, each chunk no sooner than delayMs after it arrived, in order. */
function delayed(from: Socket, to: Socket, o: Impairment): void {
  const queue: { at: number; chunk?: Buffer }[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  const drain = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && (queue[0]?.at ?? 0) <= now) {
      const { chunk } = queue.shift() as { chunk?: Buffer };
      if (!chunk) {
        to.end();
        continue;
      }
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
    }
    if (queued < HIGH_WATER / 4 && from.isPaused()) from.resume();
    schedule();
  };
  const schedule = () => {
    const next = queue[0];
    if (timer || !next) return;
    timer = setTimeout(drain, Math.max(0, next.at - Date.now()));
  };
  const push = (chunk?: Buffer) => {
    let at = Math.max(Date.now() + o.delayMs, last);
    if (chunk && Math.random() < o.stallChance) at += between(...o.stallMs);
    last = at;
    queue.push({ at, chunk });
    schedule();
  };
  from.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    if (queued > HIGH_WATER) from.pause();
    push(chunk);
  });
  from.on('end', () => push());
  from.on('close', () => {
    if (!from.readableEnded) setTimeout(() => to.destroy(), o.delayMs);
  });
}
