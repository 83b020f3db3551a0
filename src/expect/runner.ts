import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Dialect } from '../dialect/dialect.js';
import { type CapturedOutput, OutputCollector } from './output.js';

/** What the runner needs from a transport; the session layer provides it over an ssh2 channel. */
export interface ShellChannel {
  write(data: string): void;
  /** Run a command on a second channel of the same connection, for out-of-band interrupts. */
  execSide(command: string): Promise<void>;
  close(): void;
}

export interface RunOptions {
  timeoutMs: number;
  /** Bytes of output kept in memory for one command; the rest is counted, not kept. */
  maxOutputBytes: number;
  /** Aborting interrupts the command, as a timeout does. */
  signal?: AbortSignal;
}

export interface RunOutcome {
  /** The real exit status; null when the command never finished (its shell was lost). */
  exitCode: number | null;
  output: CapturedOutput;
  timedOut: boolean;
  interrupted: boolean;
  /** The shell is gone (the command exited it, the connection dropped, or it was ended by force). */
  shellLost: boolean;
  note?: string;
}

export class ShellClosedError extends Error {}

/** Output this long is held back so a marker split across chunks is seen whole before it is output. */
const HOLD_BACK = 256;

interface Pending {
  marker: string;
  held: string;
  collector: OutputCollector;
  timedOut: boolean;
  interrupted: boolean;
  timers: NodeJS.Timeout[];
  done: (exitCode: number | null, extra?: { shellLost?: boolean; note?: string }) => void;
}

/**
 * Drives one shell as its dialect says: sends each command, finds where it ends in the stream, and knows
 * nothing about any vendor or platform.
 */
export class ExpectRunner {
  private readonly decoder = new StringDecoder('utf8');
  private current: Pending | undefined;
  private closed = false;
  /** Markers are this runner's random prefix and a counter: unique, and cheaper than fresh randomness. */
  private readonly markerPrefix = `MCPSSH${randomBytes(6).toString('hex')}`;
  private markerSeq = 0;
  /** Values learned at open (e.g. the shell's pid), available to every template. */
  readonly vars: Record<string, string> = {};

  constructor(
    private readonly channel: ShellChannel,
    readonly dialect: Dialect,
  ) {}

  get busy(): boolean {
    return this.current !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Run the dialect's on_open steps and learn what they capture. */
  async open(timeoutMs: number): Promise<void> {
    for (const step of this.dialect.onOpen) {
      const command = step.send.render(this.vars);
      const outcome = await this.run(command, { timeoutMs, maxOutputBytes: 64 * 1024 });
      const text = outcome.output.head + outcome.output.tail;
      if (outcome.exitCode !== 0) {
        throw new Error(
          `opening the ${this.dialect.name} shell failed at step "${command}": ${outcome.note ?? `exit status ${outcome.exitCode}`}`,
        );
      }
      for (const { name, pattern } of step.capture) {
        const value = pattern.exec(text)?.[1];
        if (value === undefined) {
          throw new Error(`opening the ${this.dialect.name} shell: step "${command}" printed no ${name}`);
        }
        this.vars[name] = value;
      }
    }
  }

  run(command: string, options: RunOptions): Promise<RunOutcome> {
    if (this.closed) return Promise.reject(new ShellClosedError('the shell is closed'));
    if (this.current) return Promise.reject(new Error('a command is already running in this shell'));
    const marker = `${this.markerPrefix}n${++this.markerSeq}`;
    const head = marker.slice(0, 10);
    const tail = marker.slice(10);
    const payload =
      this.dialect.completion.send.render({ ...this.vars, command, marker_head: head, marker_tail: tail }) +
      this.dialect.lineEnding;

    return new Promise<RunOutcome>((resolve) => {
      const pending: Pending = {
        marker,
        held: '',
        collector: new OutputCollector(options.maxOutputBytes),
        timedOut: false,
        interrupted: false,
        timers: [],
        done: (exitCode, extra = {}) => {
          for (const timer of pending.timers) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          if (this.current === pending) this.current = undefined;
          resolve({
            exitCode,
            output: pending.collector.finish(),
            timedOut: pending.timedOut,
            interrupted: pending.interrupted,
            shellLost: extra.shellLost ?? false,
            note: extra.note,
          });
        },
      };
      const onAbort = () => this.stop(pending, 'cancelled');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      pending.timers.push(
        setTimeout(() => {
          pending.timedOut = true;
          this.stop(pending, 'timeout');
        }, options.timeoutMs),
      );
      this.current = pending;
      this.channel.write(payload);
      if (options.signal?.aborted) onAbort();
    });
  }

  /** Interrupt the running command, as Ctrl+C would. False when nothing is running. */
  interrupt(): boolean {
    if (!this.current) return false;
    this.stop(this.current, 'interrupt');
    return true;
  }

  /** Bytes from the channel, in order. */
  feed(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    const pending = this.current;
    // Between commands nothing is waiting; late output of a background job is not the next command's.
    if (!pending || text.length === 0) return;
    const held = pending.held + text;
    const match = findMarker(this.dialect.completion.match, held, pending.marker);
    if (match) {
      pending.collector.push(held.slice(0, match.index));
      pending.held = '';
      const status = match.groups?.status;
      pending.done(status === undefined ? null : Number.parseInt(status, 10));
      return;
    }
    if (held.length > HOLD_BACK) {
      pending.collector.push(held.slice(0, held.length - HOLD_BACK));
      pending.held = held.slice(held.length - HOLD_BACK);
    } else {
      pending.held = held;
    }
  }

  /** The channel closed: whatever runs now has lost its shell. */
  closedByPeer(exitCode: number | null): void {
    this.closed = true;
    const pending = this.current;
    if (!pending) return;
    pending.collector.push(pending.held);
    pending.held = '';
    pending.done(exitCode, {
      shellLost: true,
      note:
        pending.interrupted || pending.timedOut
          ? undefined
          : 'the shell ended while the command ran (it exited, or the connection dropped); the next command starts a new shell',
    });
  }

  close(): void {
    this.closed = true;
    this.channel.close();
  }

  private stop(pending: Pending, reason: 'interrupt' | 'timeout' | 'cancelled'): void {
    if (pending.interrupted || this.current !== pending) return;
    pending.interrupted = true;
    this.sendInterrupt();
    const graceMs = this.dialect.interrupt.graceMs;
    pending.timers.push(
      setTimeout(() => {
        if (this.current !== pending) return;
        // Ctrl+C was ignored: end the command with its shell rather than leave the session wedged.
        const force = this.dialect.interrupt.forceExec;
        const forced = force
          ? this.channel.execSide(force.render(this.vars)).catch(() => {})
          : Promise.resolve();
        void forced.finally(() => this.close());
        pending.collector.push(pending.held);
        pending.held = '';
        pending.done(null, {
          shellLost: true,
          note: `the command did not stop within ${graceMs} ms of the ${reason === 'timeout' ? 'timeout interrupt' : 'interrupt'}; its shell was ended and the next command starts a new one (shell state reset)`,
        });
      }, graceMs),
    );
  }

  private sendInterrupt(): void {
    const { send, exec } = this.dialect.interrupt;
    if (send !== undefined) this.channel.write(send);
    if (exec) this.channel.execSide(exec.render(this.vars)).catch(() => {});
  }
}

/** The first match carrying this command's marker: output that imitates a marker does not end it. */
function findMarker(pattern: RegExp, text: string, marker: string): RegExpExecArray | undefined {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m.groups?.marker === marker) return m;
    if (m[0].length === 0) pattern.lastIndex++;
  }
  return undefined;
}
