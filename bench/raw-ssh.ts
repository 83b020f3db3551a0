// The ssh floors: plain ssh2 with no MCP, no session manager and no dialect engine in the way.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { Client, type ClientChannel } from 'ssh2';
import type { SshdHarness } from '../test/harness/sshd.js';

/** The linux dialect's channel command (dialects/linux.yaml). */
export const DIALECT_SHELL = 'command -v bash >/dev/null 2>&1 && exec bash -l 2>&1; exec sh -l 2>&1';

/** Rejects with a clear message when `p` takes longer than `ms`; `onTimeout` may tear things down. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what}: no answer after ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Key auth over a TCP socket with Nagle off, as the floor of what any ssh2-based client can do. */
export function sshConnect(h: SshdHarness, privateKey: Buffer, timeoutMs = 10_000): Promise<Client> {
  const sock = netConnect(h.port, h.host);
  sock.setNoDelay(true);
  const client = new Client();
  const ready = new Promise<Client>((resolve, reject) => {
    client.once('ready', () => resolve(client)).once('error', reject);
    client.connect({ sock, username: h.user, privateKey, readyTimeout: timeoutMs });
  });
  return withTimeout(ready, timeoutMs, 'ssh connect', () => client.end());
}

export const readKey = (h: SshdHarness) => readFileSync(h.userKeyPath);

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A shell on an exec channel (no pty) driven exactly as the linux dialect drives it: one line, one marker. */
export class RawShell {
  private buf = '';
  private pending?: { onData: () => void; fail: (e: Error) => void };

  private constructor(readonly channel: ClientChannel) {
    channel.setEncoding('utf8');
    channel.on('data', (d: string) => {
      this.buf += d;
      this.pending?.onData();
    });
    channel.on('close', () => this.pending?.fail(new Error('raw shell: channel closed')));
  }

  static open(client: Client, command: string, timeoutMs = 10_000): Promise<RawShell> {
    const opened = new Promise<RawShell>((resolve, reject) =>
      client.exec(command, (err, ch) => (err ? reject(err) : resolve(new RawShell(ch)))),
    );
    return withTimeout(opened, timeoutMs, 'open shell channel');
  }

  /** Sends `command` wrapped with a fresh marker; resolves with what it printed before the marker. */
  run(command: string, timeoutMs = 10_000): Promise<string> {
    const [head, tail] = [randomBytes(6).toString('hex'), randomBytes(6).toString('hex')];
    const marker = `\x1e${head}${tail}:`;
    this.buf = '';
    const done = new Promise<string>((resolve, reject) => {
      let from = 0;
      const onData = () => {
        const at = this.buf.indexOf(marker, from);
        from = Math.max(0, (at < 0 ? this.buf.length : at) - marker.length);
        const end = at < 0 ? -1 : this.buf.indexOf('\x1e', at + marker.length);
        if (end < 0) return;
        this.pending = undefined;
        const status = this.buf.slice(at + marker.length, end);
        if (status !== '0') reject(new Error(`raw shell: ${command} exited with ${status}`));
        else resolve(this.buf.slice(0, at));
      };
      this.pending = { onData, fail: reject };
    });
    this.channel.write(
      `trap 'return 130' INT; command -v __mcp_ssh_run >/dev/null || __mcp_ssh_run() { eval "$1"; }; ` +
        `__mcp_ssh_run ${quote(command)}; __mcp_ssh_status=$?; trap : INT; ` +
        `printf '\\036%s%s:%d\\036' '${head}' '${tail}' "$__mcp_ssh_status"\n`,
    );
    return withTimeout(done, timeoutMs, `raw shell: ${command}`, () => {
      this.pending = undefined;
    });
  }

  close(): void {
    this.pending = undefined;
    this.channel.close();
  }
}

/** One exec channel per call, as `ssh host cmd` does; CR LF from a pty is turned back into LF. */
export function rawExec(client: Client, command: string, pty: boolean, timeoutMs = 30_000): Promise<string> {
  const run = new Promise<string>((resolve, reject) =>
    client.exec(command, { pty }, (err, ch) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      ch.on('data', (d: Buffer) => chunks.push(d));
      ch.stderr.on('data', (d: Buffer) => chunks.push(d));
      ch.on('close', () => {
        const out = Buffer.concat(chunks).toString('utf8');
        resolve(pty ? out.replace(/\r\n/g, '\n') : out);
      });
    }),
  );
  return withTimeout(run, timeoutMs, `raw exec: ${command}`);
}
