import type { Dialect } from '../dialect/dialect.js';
import { ExpectRunner, type ShellChannel } from '../expect/runner.js';
import type { SshChannel, SshConnection } from '../ssh/connection.js';

type PtyOptions = { term: string; cols: number; rows: number };

/** Sees every byte of a channel each way (a transcript recorder). */
export interface ChannelTap {
  opened(spec: Dialect['channel']): void;
  sent(data: string, secret?: string): void;
  received(chunk: Buffer): void;
  closed(exitCode: number | null): void;
}

/**
 * A channel of the kind a dialect asks for. Its bytes go to the runner attached now: detection drives it
 * with one runner, then hands it, prompt on screen, to the runner of the dialect it found.
 */
export interface OpenedChannel {
  spec: Dialect['channel'];
  shell: ShellChannel;
  attach(runner: ExpectRunner): void;
}

/** Open the channel a dialect asks for: an exec channel running its command, or a shell, with or without a pty. */
export async function openChannel(
  client: SshConnection,
  spec: Dialect['channel'],
  tap?: ChannelTap,
): Promise<OpenedChannel> {
  const stream = await new Promise<SshChannel>((resolve, reject) => {
    const done = (error: Error | undefined, opened: SshChannel) => (error ? reject(error) : resolve(opened));
    const ptyOptions: PtyOptions | undefined = spec.pty === false ? undefined : spec.pty;
    if (spec.type === 'exec') client.exec(spec.command ?? '', ptyOptions ? { pty: ptyOptions } : {}, done);
    else if (ptyOptions) client.shell(ptyOptions, done);
    else client.shell(false, done);
  });
  tap?.opened(spec);
  let runner: ExpectRunner | undefined;
  const received = (chunk: Buffer) => {
    tap?.received(chunk);
    runner?.feed(chunk);
  };
  stream.on('data', received);
  stream.stderr.on('data', received);
  let exitCode: number | null = null;
  stream.on('exit', (code: number | null) => {
    exitCode = code;
  });
  stream.on('close', () => {
    tap?.closed(exitCode);
    runner?.closedByPeer(exitCode);
  });
  const shell: ShellChannel = {
    write: (data, secret) => {
      tap?.sent(data, secret);
      stream.write(data);
    },
    pause: () => {
      stream.pause();
      stream.stderr.pause();
    },
    resume: () => {
      stream.resume();
      stream.stderr.resume();
    },
    execSide: (command) => execSide(client, command),
    close: () => stream.close(),
  };
  return {
    spec,
    shell,
    attach: (next) => {
      runner = next;
    },
  };
}

/** Run a command on a second channel and wait for it to end, with its exit status (interrupts, cleanup). */
export function execSide(client: SshConnection, command: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) return reject(error);
      let code: number | null = null;
      channel.on('exit', (exit: number | null) => {
        code = exit;
      });
      channel.on('close', () => resolve(code));
      channel.resume();
      channel.stderr.resume();
    });
  });
}

/**
 * A runner for `dialect` driving `channel`, opened (prompt learned, on_open steps run). `seed` is what the
 * channel already shows when it is handed over.
 */
export async function openRunner(
  channel: OpenedChannel,
  dialect: Dialect,
  timeoutMs: number,
  setup?: (runner: ExpectRunner) => void,
  seed?: string,
): Promise<ExpectRunner> {
  const runner = new ExpectRunner(channel.shell, dialect);
  setup?.(runner);
  channel.attach(runner);
  try {
    await runner.open(timeoutMs, seed);
  } catch (error) {
    runner.close();
    throw error;
  }
  return runner;
}

/** Two channel specs give the same kind of channel (a runner can take the other's over). */
export function sameChannel(a: Dialect['channel'], b: Dialect['channel']): boolean {
  if (a.type !== b.type || a.command !== b.command) return false;
  if (a.pty === false || b.pty === false) return a.pty === b.pty;
  return a.pty.term === b.pty.term && a.pty.cols === b.pty.cols && a.pty.rows === b.pty.rows;
}
