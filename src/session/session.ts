import { setTimeout as delay } from 'node:timers/promises';
import type { Dialect } from '../dialect/dialect.js';
import type { OutputStore } from '../expect/output-store.js';
import type { ExpectRunner, RunnerTrace, RunOptions, RunOutcome } from '../expect/runner.js';
import { ScreenMirror, type ScreenSnapshot } from '../expect/screen.js';
import type { SshConnection } from '../ssh/connection.js';
import { log } from '../util/log.js';
import { type ChannelTap, execSide, openChannel, openRunner } from './channel.js';
import { CommandRecord } from './command.js';
import { detectDialect } from './detect.js';

export interface SessionTarget {
  /** `user@host:port`, the session's identity. */
  id: string;
  host: string;
  port: number;
  username: string;
  /** Opens an authenticated connection; the ssh layer decides how. */
  connect(): Promise<SshConnection>;
}

export interface ExecuteOptions extends RunOptions {
  commandId: string;
  /** Where the command's output is kept; the caller pages through it. */
  output: OutputStore;
  /** Bring the device to this mode first (e.g. privileged, for enable_password); bounded by timeoutMs. */
  mode?: string;
  /**
   * Only when the device lacks the rights: bring it to this mode if the way there asks for a secret (user
   * mode to enable), and leave it where it is otherwise (a configuration mode already has them).
   */
  privilege?: string;
}

/** A command waiting for its turn on a session. */
export interface CommandJob {
  /** Resolves once the command was sent (after connecting, opening, entering a mode); rejects if it could not be. */
  started: Promise<CommandRecord>;
  /** Drop the job if it has not started; false once it has. */
  cancel(): boolean;
}

/** Raw device output kept for read_screen: more than a 511x24 screen holds, even with colour codes. */
const CLI_TAIL_BYTES = 64 * 1024;

/**
 * Watches one shell of a session: its bytes each way, what the runner decided, the commands asked for and
 * how they ended (a transcript recorder, `dialect try`). A new shell gets a new observer.
 */
export interface ShellObserver extends ChannelTap {
  trace(event: RunnerTrace): void;
  dialect(name: string): void;
  command(command: string, enter: string | undefined): void;
  result(result: ObservedResult): void;
}

/** How a command ended, for an observer; `output` only when it is whole and at most OBSERVED_OUTPUT_MAX. */
export interface ObservedResult {
  status: string;
  mode?: string;
  exit?: number | null;
  error?: string;
  output?: string;
}

const OBSERVED_OUTPUT_MAX = 1024 * 1024;

function observedResult(record: CommandRecord, outcome: RunOutcome): ObservedResult {
  const output = outcome.output;
  return {
    status: record.status,
    ...(outcome.mode !== undefined && { mode: outcome.mode }),
    exit: outcome.exitCode,
    ...((outcome.error ?? record.cause) !== undefined && { error: outcome.error ?? record.cause }),
    ...(output.omittedBytes === 0 &&
      output.totalBytes <= OBSERVED_OUTPUT_MAX && { output: output.head + output.tail }),
  };
}

/** The session runs a command nobody waits for any more; a new one would wait behind it for who knows how long. */
export class SessionBusyError extends Error {}

/** Which config entries describe the host a session reached (see SessionManager.resolveHost). */
export interface HostConfig {
  /** The host's own inventory entry: its settings and secrets; none for a host outside the inventory. */
  name?: string;
  /** Every entry whose policy applies (deny wins); none: the defaults' policy. */
  policyNames: string[];
}

/** What closing a session did on the host. */
export interface CloseReport {
  /** The command that was running and was stopped. */
  stopped?: string;
  /** What could not be done: a command that would not stop, processes left on the host. */
  problems: string[];
}

/** How long closing waits for the host: a command's interrupt (its dialect's grace comes on top), the cleanup. */
const CLOSE_WAIT_MS = 500;
const CLEANUP_MS = 5000;

/**
 * One connection and one persistent shell to one user@host:port. Commands run strictly one after another;
 * a lost connection or shell is re-established on the next call, which then reports the reset.
 */
export class Session {
  private client: SshConnection | undefined;
  private connecting: Promise<SshConnection> | undefined;
  private runner: ExpectRunner | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Calls queued or running on this session. */
  private jobs = 0;
  private hadShell = false;
  private closedByUser = false;
  private closing: Promise<CloseReport> | undefined;
  /** The SSH layer's last error on this connection: why it dropped, when it did. */
  private lastError: string | undefined;
  private mirror: ScreenMirror | undefined;
  /** Which one readScreen shows: the mirror of a command with a terminal, or the device CLI's output. */
  private screenSource: 'terminal' | 'cli' | undefined;
  private cliTail: Buffer[] = [];
  private cliTailBytes = 0;
  readonly createdAt = new Date();
  lastUsedAt = new Date();
  commandCount = 0;
  /** The command running now, if any. */
  current: CommandRecord | undefined;

  constructor(
    /** Replaced by each call that resolves to this session: a reconnect uses the latest credentials. */
    public target: SessionTarget,
    /** Undefined until detected, when the caller named none. */
    private chosenDialect: Dialect | undefined,
    private readonly openTimeoutMs: number,
    /** Dialects with detection rules, for a session opened without one. */
    private readonly detectable: () => Promise<Dialect[]>,
    /** Makes an observer for each new shell (recording); undefined: nobody watches. */
    private readonly observe?: () => ShellObserver | undefined,
  ) {}

  /** Secrets the user typed for this session, so one sudo password is asked once, not per command. */
  readonly asked = new Map<string, string>();

  /** The observer of the shell open now. */
  private observer: ShellObserver | undefined;

  get dialect(): Dialect | undefined {
    return this.chosenDialect;
  }

  get id(): string {
    return this.target.id;
  }

  /** A shell was opened at least once (a failed first connect or detection leaves this false). */
  get everOpened(): boolean {
    return this.hadShell;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Calls are queued or running on it. */
  get inUse(): boolean {
    return this.jobs > 0;
  }

  get isClosed(): boolean {
    return this.closedByUser;
  }

  /** The mode the device is in, as its last prompt said (prompt dialects). */
  get mode(): string | undefined {
    return this.runner?.mode;
  }

  /**
   * Queue a command behind any running on this session. `prepare` turns the call into run options once the
   * session's dialect is known (it may be detected first).
   */
  start(command: string, prepare: (dialect: Dialect) => Promise<ExecuteOptions>): CommandJob {
    if (this.current?.detached) {
      const running = this.current;
      const job = Promise.reject(
        new SessionBusyError(
          `${this.id} is still running ${running.id} (${running.command}), started ${running.startedAt.toISOString()}; ` +
            `get_command_status shows its output, send_input answers it, interrupt_command_by_id stops it`,
        ),
      );
      return { started: job, cancel: () => false };
    }
    let state: 'queued' | 'cancelled' | 'started' = 'queued';
    let started!: (record: CommandRecord) => void;
    let failed!: (error: unknown) => void;
    const startedPromise = new Promise<CommandRecord>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    this.jobs++;
    const run = async () => {
      if (state === 'cancelled') return;
      state = 'started';
      try {
        await this.runNow(command, prepare, started);
      } catch (error) {
        failed(error); // only errors before the command was sent get here
      } finally {
        this.jobs--;
      }
    };
    this.queue = this.queue.then(run, run);
    return {
      started: startedPromise,
      cancel: () => {
        if (state !== 'queued') return false;
        state = 'cancelled';
        this.jobs--;
        return true;
      },
    };
  }

  /**
   * Run `work` with this session's shell to itself, queued like a command (nothing interleaves with it):
   * for operations of several commands, such as a configuration change. `prepare` sees the dialect first
   * (it may refuse before anything is sent).
   */
  exclusive<T>(
    prepare: (dialect: Dialect) => void | Promise<void>,
    work: (runner: ExpectRunner, sessionReset: boolean) => Promise<T>,
  ): Promise<T> {
    if (this.current?.detached) {
      const running = this.current;
      return Promise.reject(
        new SessionBusyError(
          `${this.id} is still running ${running.id} (${running.command}); wait for it or interrupt it first`,
        ),
      );
    }
    this.jobs++;
    const run = async () => {
      try {
        if (this.closedByUser) throw new Error(`session ${this.id} was closed`);
        const reset = await this.ensureShell();
        const runner = this.runner as ExpectRunner;
        await runner.idle();
        await prepare(runner.dialect);
        return await work(runner, reset);
      } finally {
        this.jobs--;
        this.lastUsedAt = new Date();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  /** Interrupt the running command, or only `record` if given; false when it is not running. */
  interrupt(record?: CommandRecord): boolean {
    if (record && this.current !== record) return false;
    return this.runner?.interrupt(record?.live) ?? false;
  }

  /** Type into the running command; false when none runs. */
  write(text: string): boolean {
    return this.runner?.write(text) ?? false;
  }

  /**
   * The terminal screen as the last full-screen program drew it, or, on a device CLI, as its last output
   * leaves it. Undefined when nothing has been drawn yet.
   */
  async readScreen(): Promise<ScreenSnapshot | undefined> {
    if (this.screenSource === 'terminal') return this.mirror?.snapshot();
    if (this.cliTail.length === 0) return undefined;
    // Rendered on demand: parsing every byte a device prints (a 5,000-line show run) through a terminal
    // emulator cost more than the command itself; the last CLI_TAIL_BYTES fill any screen.
    const pty = this.runner?.dialect.channel.pty || undefined;
    const mirror = new ScreenMirror(pty?.cols ?? 120, pty?.rows ?? 40);
    try {
      mirror.write(Buffer.concat(this.cliTail));
      return await mirror.snapshot();
    } finally {
      mirror.dispose();
    }
  }

  /** The raw output of a device CLI, its last CLI_TAIL_BYTES, for readScreen. */
  private keepCliTail(chunk: Buffer): void {
    this.screenSource = 'cli';
    this.cliTail.push(chunk);
    this.cliTailBytes += chunk.length;
    while (this.cliTail.length > 1 && this.cliTailBytes - (this.cliTail[0]?.length ?? 0) >= CLI_TAIL_BYTES) {
      this.cliTailBytes -= this.cliTail.shift()?.length ?? 0;
    }
  }

  /**
   * Close the session and end what it started on the host: the running command gets Ctrl+C, then the
   * dialect's on_close_exec ends the rest (a shell's process group). Resolves with what could not be done.
   */
  close(): Promise<CloseReport> {
    this.closedByUser = true;
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<CloseReport> {
    const report: CloseReport = { problems: [] };
    const runner = this.runner;
    const client = this.client;
    const running = this.current && !this.current.finished ? this.current : undefined;
    if (running && runner && !runner.isClosed && runner.interrupt(running.live)) {
      running.stoppedBecause = 'its session was closed while it ran (Ctrl+C stopped it)';
      const grace = runner.dialect.interrupt.graceMs + CLOSE_WAIT_MS;
      if (await settles(running.done, grace)) report.stopped = running.id;
      else
        report.problems.push(`${running.id} (${running.command}) did not stop within ${grace} ms of Ctrl+C`);
    }
    const cleanup = runner?.dialect.onCloseExec;
    if (cleanup && client && runner) {
      const ended = execSide(client, cleanup.render(runner.vars)).then(
        (code) =>
          code === 0
            ? undefined
            : 'processes this session started are still running on the host (they may belong to another user, e.g. started with sudo)',
        (error: Error) => `could not end what this session started on the host: ${error.message}`,
      );
      const problem = await Promise.race([
        ended,
        delay(CLEANUP_MS).then(
          () => `ending what this session started on the host did not finish within ${CLEANUP_MS} ms`,
        ),
      ]);
      if (problem) report.problems.push(problem);
    }
    runner?.close();
    client?.end();
    this.client = undefined;
    this.runner = undefined;
    this.mirror?.dispose();
    this.mirror = undefined;
    if (this.current && !this.current.finished) this.current.fail(`session ${this.id} was closed`);
    return report;
  }

  /** Sends the command, reports it started, and resolves when it has ended (the queue moves on then). */
  private async runNow(
    command: string,
    prepare: (dialect: Dialect) => Promise<ExecuteOptions>,
    started: (record: CommandRecord) => void,
  ): Promise<void> {
    if (this.closedByUser) throw new Error(`session ${this.id} was closed before the command was sent`);
    const sessionReset = await this.ensureShell();
    const runner = this.runner as ExpectRunner;
    // A Ctrl+C still on its way to the last command must not reach this one.
    await runner.idle();
    const options = await prepare(runner.dialect);
    const target =
      options.mode ??
      (options.privilege && runner.secretOnWayTo(options.privilege) ? options.privilege : undefined);
    // The command starts when it was asked for: the steps into its mode belong to it.
    this.observer?.command(command, target);
    if (target !== undefined && runner.mode !== target) await runner.enterMode(target, options);
    const record = new CommandRecord(
      options.commandId,
      this.id,
      command,
      runner.dialect.name,
      options.output,
    );
    record.sessionReset = sessionReset;
    this.current = record;
    const outcome = runner.run(command, {
      ...options,
      timeoutMs: undefined,
      onWaiting: () => record.waitingChanged(),
    });
    record.live = runner.live ?? record.live;
    // A full-screen program starts on a clean screen (RIS), not on what the last one left.
    if (record.live.terminal) this.screenFor(runner).write('\x1bc');
    started(record);
    await outcome
      .then(
        (result) => {
          this.commandCount++;
          record.complete(result);
          this.observer?.result(observedResult(record, result));
        },
        (error: Error) => record.fail(error.message),
      )
      .finally(() => {
        if (this.current === record) this.current = undefined;
        this.lastUsedAt = new Date();
      });
  }

  private screenFor(runner: ExpectRunner): ScreenMirror {
    if (!this.mirror) {
      const size = runner.dialect.terminal ?? (runner.dialect.channel.pty || undefined);
      const mirror = new ScreenMirror(size?.cols ?? 120, size?.rows ?? 40);
      // A full-screen program that asks the terminal (cursor position, device attributes) waits for the
      // answer. Only a command given a terminal of its own gets one: on a device CLI it would be typed input.
      mirror.onReply((reply) => {
        if (this.current?.live.terminal) this.runner?.write(reply);
      });
      this.mirror = mirror;
    }
    return this.mirror;
  }

  /**
   * The session's SSH connection, made when there is none. Other channels (SFTP, side exec channels) use it
   * next to the shell, without waiting for the command queue; callers at the same time share one connect.
   */
  connection(): Promise<SshConnection> {
    if (this.closedByUser) return Promise.reject(new Error(`session ${this.id} was closed`));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.target
      .connect()
      .then((client) => {
        if (this.closedByUser) {
          // Closed while connecting: this connection is nobody's.
          client.end();
          throw new Error(`session ${this.id} was closed`);
        }
        client.on('close', () => {
          if (this.client === client) this.client = undefined;
          const host = `${this.target.host}:${this.target.port}`;
          this.runner?.closedByPeer(
            null,
            this.lastError
              ? `the connection to ${host} was lost (${this.lastError})`
              : `the connection to ${host} was closed`,
          );
          this.lastError = undefined;
        });
        client.on('error', (error) => {
          this.lastError = error.message;
          log.warn(`${this.id}: ${error.message}`);
        });
        this.client = client;
        return client;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  /** Connect and open the shell when needed. True when a previous shell was lost (state reset). */
  private async ensureShell(): Promise<boolean> {
    if (this.runner && !this.runner.isClosed) return false;
    const reset = this.hadShell;
    const client = await this.connection();
    const observer = this.observe?.();
    this.observer = observer;
    const setup = (runner: ExpectRunner) => {
      if (observer) runner.onTrace = (event) => observer.trace(event);
    };
    let dialect = this.chosenDialect;
    let runner: ExpectRunner | undefined;
    if (!dialect) {
      const detected = await detectDialect(client, await this.detectable(), {
        timeoutMs: this.openTimeoutMs,
        tap: observer,
        // What the detection runner decides is shown, but its made-up mode is nobody's.
        setupProbe: (runner) => {
          if (observer) runner.onTrace = (event) => event.type !== 'mode' && observer.trace(event);
        },
        setup,
        chosen: (found) => observer?.dialect(found.name),
      });
      dialect = detected.dialect;
      this.chosenDialect = dialect;
      runner = detected.runner;
    } else {
      observer?.dialect(dialect.name);
    }
    runner ??= await openRunner(
      await openChannel(client, dialect.channel, observer),
      dialect,
      this.openTimeoutMs,
      setup,
    );
    if (this.closedByUser) {
      runner.close();
      throw new Error(`session ${this.id} was closed before the command was sent`);
    }
    this.runner = runner;
    runner.onRaw = (chunk) => {
      if (this.current?.live.terminal) {
        this.screenSource = 'terminal';
        this.screenFor(runner).write(chunk);
      } else {
        this.keepCliTail(chunk);
      }
    };
    this.hadShell = true;
    return reset;
  }
}

/** Whether `promise` settles within `ms`. */
async function settles(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), delay(ms).then(() => false)]);
}
