import type { OutputStore } from '../expect/output-store.js';
import type { LiveState, RunOutcome } from '../expect/runner.js';

export type CommandStatus = 'running' | 'awaiting_input' | 'completed' | 'interrupted' | 'failed';

/** How a command ended; its output is in the record's store only (one copy). */
export type CommandOutcome = Omit<RunOutcome, 'output'>;

/**
 * One command, from the moment it was sent until long after it ended: what background continuation,
 * get_command_status, send_input and the history are built on. The runner fills `live` while it runs.
 */
export class CommandRecord {
  readonly startedAt = new Date();
  finishedAt: Date | undefined;
  /** Monotonic clock readings: durations to the microsecond, immune to clock changes. */
  private readonly t0 = performance.now();
  private t1: number | undefined;
  outcome: CommandOutcome | undefined;
  /** Why the command never ran to an end (its shell or session was lost, a step failed). */
  error: string | undefined;
  live: LiveState = { bytes: 0, lines: 0, lastLine: '', terminal: false };
  /** The caller that started it stopped waiting (timeout, or execute_command_async). */
  detached = false;
  /** When a caller got the whole output of the finished command (it may then leave memory). */
  readAt: Date | undefined;
  /** The output is no longer kept, and why; status and exit code remain. */
  outputGone: string | undefined;
  /** Why the server stopped it, when nobody asked for the interrupt (its session was closed). */
  stoppedBecause: string | undefined;
  /** This call ran in a new shell: earlier cd/export are gone. */
  sessionReset = false;
  /**
   * For text typed into it (send_input, send_keys): the host and policy names of the call that started it,
   * and what is typed on the current line without Enter yet. Set when it starts under a session manager.
   */
  typing: { host: string; policyNames: string[]; pending: string } | undefined;
  /** Resolves when the command has ended, however it ended. */
  readonly done: Promise<void>;
  private end!: () => void;
  private readonly waitListeners = new Set<() => void>();

  constructor(
    readonly id: string,
    readonly session: string,
    readonly command: string,
    readonly dialect: string,
    readonly output: OutputStore,
  ) {
    this.done = new Promise((resolve) => {
      this.end = resolve;
    });
  }

  get status(): CommandStatus {
    if (this.outcome) {
      if (this.outcome.interrupted) return 'interrupted';
      return this.outcome.exitCode === null ? 'failed' : 'completed';
    }
    if (this.error !== undefined) return 'failed';
    return this.live.waiting ? 'awaiting_input' : 'running';
  }

  /** Why it failed, or why the server interrupted it: its session or shell was lost, and how. */
  get cause(): string | undefined {
    if (this.status === 'interrupted') return this.stoppedBecause;
    if (this.status !== 'failed') return undefined;
    return this.error ?? this.outcome?.error ?? this.outcome?.note ?? 'its shell was lost';
  }

  get finished(): boolean {
    return this.finishedAt !== undefined;
  }

  get durationMs(): number {
    return Math.round(((this.t1 ?? performance.now()) - this.t0) * 1000) / 1000;
  }

  complete(outcome: RunOutcome): void {
    const { output: _kept, ...rest } = outcome;
    this.outcome = rest;
    this.finish();
  }

  fail(error: string): void {
    this.error = error;
    this.finish();
  }

  /** The runner noticed the command started or stopped waiting for input. */
  waitingChanged(): void {
    for (const listener of this.waitListeners) listener();
  }

  /**
   * Resolves when the command ends, waits for input (unless `untilEnd`), or `ms` pass, whichever comes
   * first; an abort of the caller's request also ends the wait (the caller decides what to do).
   */
  settle(ms: number, signal?: AbortSignal, untilEnd = false): Promise<void> {
    if (this.finished || (this.live.waiting && !untilEnd)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waitListeners.delete(onWaiting);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onWaiting = () => {
        if (this.live.waiting && !untilEnd) done();
      };
      const timer = setTimeout(done, ms);
      this.waitListeners.add(onWaiting);
      signal?.addEventListener('abort', done, { once: true });
      void this.done.then(done);
    });
  }

  private finish(): void {
    if (this.finishedAt) return;
    this.t1 = performance.now();
    this.finishedAt = new Date();
    this.live = { ...this.live, waiting: undefined };
    this.end();
    this.waitingChanged();
  }
}
