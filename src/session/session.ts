import type { Client } from 'ssh2';
import type { Dialect } from '../dialect/dialect.js';
import type { ExpectRunner, RunOptions, RunOutcome } from '../expect/runner.js';
import { log } from '../util/log.js';
import { openRunner } from './channel.js';
import { detectDialect } from './detect.js';

export interface SessionTarget {
  /** `user@host:port`, the session's identity. */
  id: string;
  host: string;
  port: number;
  username: string;
  /** Opens an authenticated connection; the ssh layer decides how. */
  connect(): Promise<Client>;
}

export interface ExecuteOptions extends RunOptions {
  commandId: string;
  /** Bring the device to this mode first (e.g. privileged, for enable_password). */
  mode?: string;
}

export interface SessionRunResult extends RunOutcome {
  commandId: string;
  session: string;
  command: string;
  dialect: string;
  startedAt: Date;
  durationMs: number;
  /** This call ran in a new shell after the previous one was lost: `cd`, `export` etc. are gone. */
  sessionReset: boolean;
}

export interface RunningCommand {
  commandId: string;
  command: string;
  startedAt: Date;
}

/**
 * One connection and one persistent shell to one user@host:port. Calls run strictly one after another;
 * a lost connection or shell is re-established on the next call, which then reports the reset.
 */
export class Session {
  private client: Client | undefined;
  private runner: ExpectRunner | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private hadShell = false;
  private closedByUser = false;
  readonly createdAt = new Date();
  lastUsedAt = new Date();
  commandCount = 0;
  running: RunningCommand | undefined;

  constructor(
    /** Replaced by each call that resolves to this session: a reconnect uses the latest credentials. */
    public target: SessionTarget,
    /** Undefined until detected, when the caller named none. */
    private chosenDialect: Dialect | undefined,
    private readonly openTimeoutMs: number,
    /** Dialects with detection rules, for a session opened without one. */
    private readonly detectable: () => Promise<Dialect[]>,
  ) {}

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

  /**
   * Queue a command behind any running on this session. `prepare` turns the call into run options once the
   * session's dialect is known (it may be detected first).
   */
  execute(
    command: string,
    prepare: (dialect: Dialect) => Promise<ExecuteOptions>,
  ): Promise<SessionRunResult> {
    const job = this.queue.then(() => this.executeNow(command, prepare));
    this.queue = job.catch(() => {});
    return job;
  }

  /** The mode the device is in, as its last prompt said (prompt dialects). */
  get mode(): string | undefined {
    return this.runner?.mode;
  }

  /** Interrupt the running command; false when none is running. */
  interrupt(): boolean {
    return this.runner?.interrupt() ?? false;
  }

  close(): void {
    this.closedByUser = true;
    this.runner?.close();
    this.client?.end();
    this.client = undefined;
    this.runner = undefined;
  }

  private async executeNow(
    command: string,
    prepare: (dialect: Dialect) => Promise<ExecuteOptions>,
  ): Promise<SessionRunResult> {
    if (this.closedByUser) throw new Error(`session ${this.id} was closed`);
    const sessionReset = await this.ensureShell();
    const runner = this.runner as ExpectRunner;
    const options = await prepare(runner.dialect);
    const startedAt = new Date();
    const t0 = performance.now();
    this.running = { commandId: options.commandId, command, startedAt };
    try {
      if (options.mode !== undefined && runner.mode !== options.mode)
        await runner.enterMode(options.mode, options);
      const outcome = await runner.run(command, options);
      this.commandCount++;
      return {
        ...outcome,
        commandId: options.commandId,
        session: this.id,
        command,
        dialect: runner.dialect.name,
        startedAt,
        durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
        sessionReset,
      };
    } finally {
      this.running = undefined;
      this.lastUsedAt = new Date();
    }
  }

  /** Connect and open the shell when needed. True when a previous shell was lost (state reset). */
  private async ensureShell(): Promise<boolean> {
    if (this.runner && !this.runner.isClosed) return false;
    const reset = this.hadShell;
    if (!this.client) {
      const client = await this.target.connect();
      client.on('close', () => {
        if (this.client === client) this.client = undefined;
        this.runner?.closedByPeer(null);
      });
      client.on('error', (error) => log.warn(`${this.id}: ${error.message}`));
      this.client = client;
    }
    if (this.chosenDialect) {
      this.runner = await openRunner(this.client, this.chosenDialect, this.openTimeoutMs);
    } else {
      const detected = await detectDialect(this.client, await this.detectable(), this.openTimeoutMs);
      this.chosenDialect = detected.dialect;
      this.runner = detected.runner ?? (await openRunner(this.client, detected.dialect, this.openTimeoutMs));
    }
    this.hadShell = true;
    return reset;
  }
}
