// SSH front end for the device simulators: one ssh2 Server on 127.0.0.1 (ephemeral port) that authenticates
// with the profile's username/password and runs the profile's CLI on `shell` (and `exec`) channels.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type ServerChannel } from 'ssh2';
import { type ConfigInspection, type DeviceProfile, Terminal } from './cli-engine.js';

const { Server, utils } = ssh2;

export interface DeviceSimulator {
  host: '127.0.0.1';
  port: number;
  username: string;
  password: string;
  /** 'SHA256:...' of the simulator's ed25519 host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint?: string;
  /** Stops listening and drops every open connection. Idempotent. */
  close(): Promise<void>;
  /**
   * Everything clients sent on shell channels (raw bytes, decoded as UTF-8, in arrival order across all
   * connections), plus each exec request's command followed by "\n". Authentication data is not included.
   */
  transcript(): string;
  /** Everything the simulator wrote to clients on shell/exec channels (handy when a test fails). */
  output(): string;
  /**
   * The running configuration as the device holds it now (device-wide): Junos `set` statements, IOS / EOS
   * `show running-config` lines. Empty for profiles that do not model configuration changes (NX-OS).
   */
  config(): string[];
  /** Running configuration, pending confirm timer, commit history and vendor extras (see README). */
  configState(): ConfigInspection | undefined;
}

function fingerprint(publicKey: string): string | undefined {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return undefined;
  const digest = createHash('sha256').update(key.getPublicSSH()).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * ssh2's generateKeyPairSync('ed25519') now and then (about 1 in 300) emits a key its own parser rejects
 * ("Malformed OpenSSH private key": a public key starting with a zero byte is written 31 bytes long), so
 * draw again until the pair parses.
 */
function generateHostKey(): { private: string; public: string } {
  for (let i = 0; ; i++) {
    const pair = utils.generateKeyPairSync('ed25519');
    const ok = !(utils.parseKey(pair.private) instanceof Error) && fingerprint(pair.public) !== undefined;
    if (ok || i >= 50) return pair;
  }
}

/** Writes to an ssh2 channel, waiting for 'drain' under back-pressure (never hangs on a closed channel). */
function channelSink(stream: ServerChannel, record: (b: Buffer) => void) {
  let open = true;
  stream.on('close', () => {
    open = false;
  });
  return (data: Buffer): Promise<void> | void => {
    if (!open || stream.destroyed || stream.writableEnded) return;
    record(data);
    if (stream.write(data)) return;
    return new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  };
}

export async function startDeviceSimulator(profile: DeviceProfile): Promise<DeviceSimulator> {
  const keys = generateHostKey();
  const received: Buffer[] = [];
  const sent: Buffer[] = [];
  const connections = new Set<Connection>();

  const server = new Server({ hostKeys: [keys.private], ident: 'SSH-2.0-DeviceSim' }, (client, info) => {
    connections.add(client);
    // A device CLI answers keystrokes at once; Nagle + delayed ACKs would add ~40 ms stalls per echo.
    (client as Connection & { setNoDelay?: (on: boolean) => unknown }).setNoDelay?.(true);
    client.on('close', () => connections.delete(client));
    client.on('error', () => undefined); // clients that vanish mid-handshake are not the simulator's problem

    client.on('authentication', (ctx) => {
      const userOk = ctx.username === profile.username;
      const allowed = profile.authMethods;
      if (ctx.method === 'password' && allowed.includes('password')) {
        if (userOk && ctx.password === profile.password) return ctx.accept();
      } else if (ctx.method === 'keyboard-interactive' && allowed.includes('keyboard-interactive')) {
        return ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
          if (userOk && answers[0] === profile.password) ctx.accept();
          else ctx.reject(allowed);
        });
      }
      ctx.reject(allowed);
    });

    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        let pty: { cols: number; rows: number; term: string } | null = null;
        let term: Terminal | null = null;
        let started = false;

        session.on('pty', (accept, _reject, ptyInfo) => {
          pty = { cols: ptyInfo.cols, rows: ptyInfo.rows, term: ptyInfo.term };
          accept?.();
        });
        session.on('window-change', (accept, _reject, wc) => {
          if (pty) {
            pty.cols = wc.cols;
            pty.rows = wc.rows;
          }
          term?.resize(wc.cols, wc.rows);
          accept?.();
        });
        session.on('env', (accept) => accept?.());

        const open = (stream: ServerChannel) => {
          const t = new Terminal(
            channelSink(stream, (b) => sent.push(b)),
            profile.terminal,
          );
          if (pty) {
            t.termType = pty.term;
            t.resize(pty.cols, pty.rows);
          }
          stream.on('close', () => t.close());
          stream.on('end', () => t.endInput());
          term = t;
          return t;
        };
        const finish = (stream: ServerChannel, status: number) => {
          if (stream.destroyed || stream.writableEnded) return;
          stream.exit(status);
          stream.end();
        };
        const sessionInfo = { username: profile.username, remoteAddress: info.ip };

        session.on('shell', (accept, reject) => {
          if (started) return reject?.();
          started = true;
          const stream = accept();
          const t = open(stream);
          stream.on('data', (d: Buffer) => {
            received.push(Buffer.from(d));
            t.feed(d);
          });
          const shell = profile.createShell(t, sessionInfo);
          shell.run().then(
            () => finish(stream, 0),
            () => finish(stream, 1),
          );
        });

        session.on('exec', (accept, reject, execInfo) => {
          if (started) return reject?.();
          started = true;
          const stream = accept();
          received.push(Buffer.from(`${execInfo.command}\n`));
          const t = open(stream);
          const shell = profile.createShell(t, sessionInfo);
          shell.runCommand(execInfo.command).then(
            (status) => finish(stream, status),
            () => finish(stream, 1),
          );
        });

        // Network devices have no sftp / subsystems / agent or X11 forwarding.
        session.on('subsystem', (_accept, reject) => reject?.());
        session.on('sftp', (_accept, reject) => reject?.());
        session.on('x11', (_accept, reject) => reject?.());
        session.on('auth-agent', (_accept, reject) => reject?.());
      });
      client.on('request', (_accept, reject) => reject?.());
      client.on('tcpip', (_accept, reject) => reject?.());
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | null = null;
  return {
    host: '127.0.0.1',
    port,
    username: profile.username,
    password: profile.password,
    hostKeyFingerprint: fingerprint(keys.public),
    transcript: () => Buffer.concat(received).toString('utf8'),
    output: () => Buffer.concat(sent).toString('utf8'),
    config: () => profile.inspectConfig?.().running ?? [],
    configState: () => profile.inspectConfig?.(),
    close() {
      // Device timers (commit confirmed, revert timers) die with the device.
      profile.dispose?.();
      closing ??= new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
