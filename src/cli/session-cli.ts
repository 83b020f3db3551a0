import path from 'node:path';
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { createManager } from '../server/server.js';
import type { CommandRecord } from '../session/command.js';
import type { RunRequest } from '../session/manager.js';
import type { ShellObserver } from '../session/session.js';
import { registerSecret } from '../util/secrets.js';
import { positiveNumber, UsageError } from './args.js';

/** Options of the commands that open a session from the command line (record, dialect try). */
export const SESSION_OPTIONS = {
  config: { type: 'string' },
  user: { type: 'string' },
  port: { type: 'string' },
  'password-env': { type: 'string' },
  dialect: { type: 'string' },
  command: { type: 'string', multiple: true },
  enable: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

export const SESSION_USAGE = `  --config FILE      config file (inventory, secrets by reference); searched for as the server does
  --user U, --port P the login, when neither the config nor ~/.ssh/config says
  --password-env VAR the login password is in this environment variable (never on the command line)
  --dialect NAME     the dialect (default: the inventory's, else detected); a dialect file's path works too
  --command CMD      a command to run (repeat for more); without it, commands are read from stdin, one a line
  --enable           enable the device when it lacks the rights (enable secret from the config, or asked);
                     a configuration mode is left alone
  --timeout S        seconds each command may take (default 60)
Secrets the config names are read as the server reads them; a missing one is asked for on the terminal.`;

export interface SessionCliValues {
  config?: string;
  user?: string;
  port?: string;
  'password-env'?: string;
  dialect?: string;
  command?: string[];
  enable?: boolean;
  timeout?: string;
}

/**
 * Lines from stdin (typed or piped), prompts and hidden input on the terminal; stdout stays the device's
 * output. Lines are queued as they arrive: a pipe may deliver them all at once.
 */
class Terminal {
  private muted = false;
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;
  readonly rl: Interface;

  constructor() {
    const output = new Writable({
      write: (chunk, _encoding, done) => {
        if (!this.muted) process.stderr.write(chunk);
        done();
      },
    });
    this.rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY });
    this.rl.on('line', (line) => this.deliver(line));
    this.rl.on('close', () => {
      this.ended = true;
      this.deliver(undefined);
    });
  }

  private deliver(line: string | undefined): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(line);
    else if (line !== undefined) this.lines.push(line);
  }

  /** The next line, after showing `prompt` on a terminal; undefined at the end of input. */
  next(prompt = '> '): Promise<string | undefined> {
    const queued = this.lines.shift();
    if (queued !== undefined || this.ended) return Promise.resolve(queued);
    if (process.stdin.isTTY) process.stderr.write(prompt);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async hidden(question: string): Promise<string> {
    this.muted = true;
    process.stderr.write(question);
    try {
      return (await this.next('')) ?? '';
    } finally {
      this.muted = false;
      process.stderr.write('\n');
    }
  }
}

/**
 * Open a session to `target` and run commands on it, printing each output on stdout and how it ended on
 * stderr. `observe` watches the shell (a recorder, a tracer). Resolves with the exit status: 0 when every
 * command completed, 1 otherwise.
 */
export async function runSessionCli(
  target: string | undefined,
  values: SessionCliValues,
  observe: (host: string) => ShellObserver,
  dialectDirs: string[] = [],
  /** Resolves when the observers have seen the shells close (after the device's goodbye), bounded. */
  settled?: () => Promise<void>,
): Promise<number> {
  if (!target)
    throw new UsageError('name the host (an inventory name, an ~/.ssh/config alias or an address)');
  const timeoutMs = (positiveNumber('--timeout', values.timeout) ?? 60) * 1000;
  const port = positiveNumber('--port', values.port);
  const passwordVar = values['password-env'];
  const password = passwordVar === undefined ? undefined : process.env[passwordVar];
  if (passwordVar !== undefined && !password)
    throw new UsageError(`--password-env: ${passwordVar} is not set`);
  registerSecret(password, 'password');
  const config = await loadConfig({ explicitPath: values.config });
  // A dialect file's path: its folder joins the dialect folders (last, so it wins) and its name is used.
  let dialect = values.dialect;
  const dirs = [...dialectDirs];
  if (dialect && /[/\\]|\.ya?ml$/.test(dialect)) {
    dirs.push(path.dirname(path.resolve(dialect)));
    dialect = path.basename(dialect).replace(/\.ya?ml$/, '');
  }
  const { manager } = createManager({
    ...(config && { config }),
    dialectDirs: dirs,
    observe: (host) => () => observe(host),
  });
  const terminal = process.stdin.isTTY || !values.command ? new Terminal() : undefined;
  const askSecret: RunRequest['askSecret'] = async (secret, reason) => {
    if (!process.stdin.isTTY || !terminal) return { unavailable: 'no terminal to ask on (stdin is not one)' };
    // The prompt itself is written unmuted; only what is typed is hidden.
    process.stderr.write(`${secret.replace('_', ' ')} for ${target} (${reason}): `);
    const value = await terminal.hidden('');
    registerSecret(value, secret);
    return { value };
  };
  let failed = 0;
  try {
    const queue = [...(values.command ?? [])];
    for (;;) {
      const command = values.command ? queue.shift() : await terminal?.next();
      if (command === undefined) break;
      if (!command.trim()) continue;
      const record = await manager.execute({ host: target, username: values.user, port, password }, command, {
        timeoutMs,
        ...(dialect && { dialect }),
        ...(values.enable && { enable: true }),
        askSecret,
      });
      // A question the device asks is put to the person at the terminal.
      while (!record.finished && record.live.waiting && process.stdin.isTTY && terminal) {
        const { prompt, kind } = record.live.waiting;
        const answer = await (kind === 'password'
          ? terminal.hidden(`${prompt} `)
          : terminal.next(`${prompt} `));
        if (answer === undefined) break;
        if (kind === 'password') registerSecret(answer, 'input');
        manager.write(record.id, `${answer}\n`);
        await record.settle(timeoutMs);
      }
      if (!record.finished) {
        // The command outlived its time: stop it, as Ctrl+C would, so the next one has the shell.
        manager.interrupt(record.id);
        await record.done;
      }
      if (!(await printResult(record))) failed++;
    }
  } finally {
    terminal?.rl.close();
    manager.closeAll();
    await settled?.();
    await manager.dispose();
  }
  return failed === 0 ? 0 : 1;
}

/** The command's output on stdout, how it ended on stderr; true when it completed with status 0. */
async function printResult(record: CommandRecord): Promise<boolean> {
  const outcome = record.outcome;
  const output = record.output.totalBytes > 0 ? await record.output.capture() : undefined;
  if (output) {
    const text =
      output.omittedBytes > 0
        ? `${output.head}\n[... ${output.omittedBytes} bytes ...]\n${output.tail}`
        : output.head + output.tail;
    process.stdout.write(text.endsWith('\n') || !text ? text : `${text}\n`);
  }
  const parts = [record.status, `exit ${outcome?.exitCode ?? 'none'}`];
  if (outcome?.mode) parts.push(`mode ${outcome.mode}`);
  const why = outcome?.error ?? record.cause ?? outcome?.note;
  process.stderr.write(`-- ${parts.join(', ')}${why ? `: ${why}` : ''}\n`);
  return record.status === 'completed' && outcome?.exitCode === 0;
}
