// A TCP proxy on 127.0.0.1 in front of a test server: it can hold new connections back (a slow link or a
// slow login) and counts the connections still open through it.
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections open through the proxy now. */
  open(): number;
  /** New connections wait this long before their first byte reaches the server. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, delayMs = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const proxy: TcpProxy = {
    port: 0,
    delayMs,
    open: () => [...sockets].filter((s) => !s.destroyed).length / 2,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((client) => {
    client.pause();
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pause();
    setTimeout(() => {
      client.pipe(upstream);
      upstream.pipe(client);
    }, proxy.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}
