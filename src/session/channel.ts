import type { Client, ClientChannel } from 'ssh2';
import type { Dialect } from '../dialect/dialect.js';
import { ExpectRunner, type ShellChannel } from '../expect/runner.js';

type PtyOptions = { term: string; cols: number; rows: number };

/** Open the channel a dialect asks for: an exec channel running its command, or a shell, with or without a pty. */
export function openChannel(client: Client, channel: Dialect['channel']): Promise<ClientChannel> {
  const { type, pty, command } = channel;
  return new Promise((resolve, reject) => {
    const done = (error: Error | undefined, stream: ClientChannel) =>
      error ? reject(error) : resolve(stream);
    const ptyOptions: PtyOptions | undefined = pty === false ? undefined : pty;
    if (type === 'exec') client.exec(command ?? '', ptyOptions ? { pty: ptyOptions } : {}, done);
    else if (ptyOptions) client.shell(ptyOptions, done);
    else client.shell(false, done);
  });
}

/** Run a command on a second channel and wait for it to end (used for out-of-band interrupts). */
export function execSide(client: Client, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) return reject(error);
      channel.on('close', () => resolve());
      channel.resume();
      channel.stderr.resume();
    });
  });
}

/** A runner driving a fresh channel of the dialect's kind, opened (prompt learned, on_open steps run). */
export async function openRunner(client: Client, dialect: Dialect, timeoutMs: number): Promise<ExpectRunner> {
  const stream = await openChannel(client, dialect.channel);
  const shell: ShellChannel = {
    write: (data) => stream.write(data),
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
  const runner = new ExpectRunner(shell, dialect);
  stream.on('data', (chunk: Buffer) => runner.feed(chunk));
  stream.stderr.on('data', (chunk: Buffer) => runner.feed(chunk));
  let exitCode: number | null = null;
  stream.on('exit', (code: number | null) => {
    exitCode = code;
  });
  stream.on('close', () => runner.closedByPeer(exitCode));
  try {
    await runner.open(timeoutMs);
  } catch (error) {
    runner.close();
    throw error;
  }
  return runner;
}
