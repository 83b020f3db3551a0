// The sshd side of the soak: the harness (its throwaway user, keys and sshd_config) plus extra sshd
// processes built from the same config, each listening on up to 16 loopback addresses (OpenSSH's
// MAX_LISTEN_SOCKS), all on one port. Sessions are keyed by user@host:port, so each address is a session.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { loopbackAddress } from './config.js';
import { kill, withDescendants } from './procs.js';

const SSHD = '/usr/sbin/sshd';
const LISTEN_PER_SSHD = 16;
const READY_MS = 10_000;

export interface Fleet {
  user: string;
  uid: number;
  keyPath: string;
  port: number;
  /** One loopback address per possible session. */
  addresses: string[];
  harness: SshdHarness;
  /** An sshd from the harness config on other addresses (the impaired link runs one in a namespace). */
  spawnSshd(listen: string[], name: string, wrap?: string[]): Promise<ChildProcess>;
  /** Every sshd process started here, listeners only (their per-connection children are found by walking). */
  listenerPids(): number[];
  stop(): Promise<void>;
}

export async function startFleet(count: number): Promise<Fleet> {
  // More startups than sessions connect at once; sshd keeps the first value, so these beat the defaults.
  const harness = await startSshd({ extraConfig: 'MaxStartups 400:30:800\nMaxSessions 100\n' });
  const listeners: ChildProcess[] = [];
  const template = readFileSync(join(harness.dir, 'sshd_config'), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(ListenAddress|PidFile)\s/i.test(line))
    .join('\n');
  const spawnSshd = async (listen: string[], name: string, wrap: string[] = []) => {
    const config = join(harness.dir, `sshd_${name}.config`);
    const log = join(harness.dir, `sshd_${name}.log`);
    const head = [...listen.map((l) => `ListenAddress ${l}`), `PidFile ${join(harness.dir, `${name}.pid`)}`];
    writeFileSync(config, `${head.join('\n')}\n${template}`, { mode: 0o600 });
    const argv = [...wrap, SSHD, '-D', '-f', config, '-E', log];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
    child.unref();
    listeners.push(child);
    await waitListening(child, log, listen);
    return child;
  };
  const stopListeners = () => {
    const pids = listeners.map((c) => c.pid).filter((p): p is number => p !== undefined);
    kill(withDescendants(pids));
  };
  try {
    const addresses = Array.from({ length: count }, (_, i) => loopbackAddress(i));
    const port = await commonFreePort(addresses);
    for (let i = 0; i < addresses.length; i += LISTEN_PER_SSHD) {
      const group = addresses.slice(i, i + LISTEN_PER_SSHD).map((a) => `${a}:${port}`);
      await spawnSshd(group, `fleet${i / LISTEN_PER_SSHD}`);
    }
    const uid = Number(spawnSync('id', ['-u', harness.user], { encoding: 'utf8' }).stdout.trim());
    return {
      user: harness.user,
      uid,
      keyPath: harness.userKeyPath,
      port,
      addresses,
      harness,
      spawnSshd,
      listenerPids: () => listeners.map((c) => c.pid).filter((p): p is number => p !== undefined),
      stop: async () => {
        stopListeners();
        await harness.stop();
      },
    };
  } catch (error) {
    stopListeners();
    await harness.stop();
    throw error;
  }
}

async function waitListening(child: ChildProcess, log: string, listen: string[]): Promise<void> {
  const deadline = Date.now() + READY_MS;
  const expected = listen.map((l) => {
    const at = l.lastIndexOf(':');
    return `Server listening on ${l.slice(0, at)} port ${l.slice(at + 1)}`;
  });
  while (Date.now() < deadline) {
    const text = readText(log);
    if (expected.every((e) => text.includes(e))) return;
    if (child.exitCode !== null || child.signalCode !== null) break;
    await delay(25);
  }
  throw new Error(`sshd on ${listen.join(' ')} did not start. Log:\n${readText(log)}`);
}

/** A port free on every address (each is bound and released in turn); sshd then claims them all. */
async function commonFreePort(addresses: string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    let free = true;
    for (const address of addresses) {
      if (!(await canBind(address, port))) {
        free = false;
        break;
      }
    }
    if (free) return port;
  }
  throw new Error(`no port free on all of ${addresses.length} loopback addresses after 20 tries`);
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
