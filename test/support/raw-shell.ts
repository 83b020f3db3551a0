// Drives the device simulators (test/simulators) with a raw ssh2 client: login, exec channels and a pty +
// shell with expect-style reading. Every wait is bounded; failures show the unread output.
import { setTimeout as delay } from 'node:timers/promises';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { DeviceProfile } from '../simulators/cli-engine.js';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';

/** How long any single step (login, shell open, exec, expect) may take by default. */
export const WAIT_MS = 4_000;

/** Connects and authenticates only; resolves the ready client or rejects with the ssh2 error. */
export function login(
  sim: DeviceSimulator,
  auth: Partial<ConnectConfig>,
  keyboardAnswer?: string,
): Promise<{ client: Client; hostKey: Buffer }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKey: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      client.end();
      reject(new Error('login timed out'));
    }, WAIT_MS);
    client.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
      finish(prompts.map(() => keyboardAnswer ?? ''));
    });
    client.on('ready', () => {
      clearTimeout(timer);
      resolve({ client, hostKey });
    });
    client.connect({
      host: sim.host,
      port: sim.port,
      username: sim.username,
      readyTimeout: WAIT_MS,
      hostVerifier: (key: Buffer) => {
        hostKey = key;
        return true;
      },
      ...auth,
    });
  });
}

/** A pty + shell channel with expect-style reading of the raw output. */
export class RawShell {
  private out = '';
  private readPos = 0;
  private readonly listeners = new Set<() => void>();
  dataEvents = 0;
  readonly closed: Promise<void>;

  private constructor(
    private readonly client: Client,
    private readonly stream: ClientChannel,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      this.out += d;
      this.dataEvents++;
      for (const l of [...this.listeners]) l();
    });
    this.closed = new Promise((resolve) => stream.on('close', () => resolve()));
  }

  /** Logs in with the simulator's password and opens a vt100 pty (24 x 80 unless told) with a shell. */
  static async open(sim: DeviceSimulator, opts: { rows?: number; cols?: number } = {}): Promise<RawShell> {
    const { client } = await login(sim, { password: sim.password });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.end();
        reject(new Error('ssh shell did not open in time'));
      }, WAIT_MS);
      client.shell({ term: 'vt100', rows: opts.rows ?? 24, cols: opts.cols ?? 80 }, (err, stream) => {
        clearTimeout(timer);
        if (err) {
          client.end();
          reject(err);
        } else resolve(new RawShell(client, stream));
      });
    });
  }

  /** Everything received so far. */
  get all(): string {
    return this.out;
  }

  send(text: string): void {
    this.stream.write(text);
  }

  /** Sends EOF (as `ssh host < script` does). */
  endInput(): void {
    this.stream.end();
  }

  /** Sends an SSH window-change request. */
  resize(rows: number, cols: number): void {
    this.stream.setWindow(rows, cols, 0, 0);
  }

  /** Waits until the unread output matches; returns (and consumes) the unread text up to the match's end. */
  expect(re: RegExp, timeoutMs = WAIT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = () => {
        const unread = this.out.slice(this.readPos);
        const m = re.exec(unread);
        if (!m) return;
        const end = m.index + m[0].length;
        this.readPos += end;
        finish();
        resolve(unread.slice(0, end));
      };
      const timer = setTimeout(() => {
        finish();
        const unread = JSON.stringify(this.out.slice(this.readPos));
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; unread output: ${unread}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Sends a line (Enter = CR, as a terminal does) and waits for the given prompt. */
  run(line: string, prompt: RegExp): Promise<string> {
    this.send(`${line}\r`);
    return this.expect(prompt);
  }

  /** Waits a little and returns (and consumes) whatever arrived meanwhile. */
  async settle(ms = 100): Promise<string> {
    await delay(ms);
    const s = this.out.slice(this.readPos);
    this.readPos = this.out.length;
    return s;
  }

  close(): void {
    this.client.end();
  }
}

/** Runs one command on an exec channel and collects its output and exit code. */
function execOn(client: Client, command: string): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('exec timed out')), WAIT_MS);
    client.exec(command, (err, stream) => {
      if (err) {
        clearTimeout(timer);
        return reject(err);
      }
      let out = '';
      let code: number | null = null;
      stream.on('data', (d: Buffer) => {
        out += d.toString('utf8');
      });
      stream.on('exit', (c: number | null) => {
        code = c;
      });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ out, code });
      });
    });
  });
}

/**
 * Runs one command on an exec channel: on a connected client (left open), or on a simulator, logging in with
 * its password for just this command.
 */
export async function execCommand(
  target: Client | DeviceSimulator,
  command: string,
): Promise<{ out: string; code: number | null }> {
  if (target instanceof Client) return execOn(target, command);
  const { client } = await login(target, { password: target.password });
  try {
    return await execOn(client, command);
  } finally {
    client.end();
  }
}

/** Runs a test body against a fresh simulator for the profile and always closes it. */
export async function withSim(
  profile: DeviceProfile,
  body: (sim: DeviceSimulator) => Promise<void>,
): Promise<void> {
  const sim = await startDeviceSimulator(profile);
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

/** Opens a shell on a fresh simulator, reads up to the first prompt, runs the body and always cleans up. */
export async function withShell(
  profile: DeviceProfile,
  firstPrompt: RegExp,
  body: (sh: RawShell, sim: DeviceSimulator, banner: string) => Promise<void>,
): Promise<void> {
  await withSim(profile, async (sim) => {
    const sh = await RawShell.open(sim);
    try {
      const banner = await sh.expect(firstPrompt);
      await body(sh, sim, banner);
    } finally {
      sh.close();
    }
  });
}
