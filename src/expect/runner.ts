import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dialect, Responder } from '../dialect/dialect.js';
import {
  contextStart,
  definedOnly,
  errorLineIn,
  FIND_PROMPT_MS,
  FIND_PROMPT_TRIES,
  inputWaitFor,
  LOGIN_ANSWERS_MAX,
  learnFromPrompt,
  loginAnswersFor,
  type ModePattern,
  modeOfLine,
  promptShapeOf,
  RELEARN_QUIET_MS,
  renderModePrompts,
  responderFor,
  runtimePattern,
} from '../dialect/matching.js';
import { ByteTextDecoder } from './byte-text.js';
import type { CapturedOutput } from './output.js';
import { OutputStore } from './output-store.js';
import { shownLine, TerminalCleaner } from './terminal.js';

/** What the runner needs from a transport; the session layer provides it over an ssh2 channel. */
export interface ShellChannel {
  /** `secret` names the secret `data` carries (with a line ending), so a recording can leave it out. */
  write(data: string, secret?: string): void;
  /** Stop and restart reading (back-pressure: the remote side then waits, nothing is lost). */
  pause?(): void;
  resume?(): void;
  /**
   * Run a command on a second channel of the same connection (out-of-band interrupts, the stdin probe);
   * resolves with its exit status.
   */
  execSide(command: string): Promise<number | null>;
  close(): void;
}

/** Where a command's cleaned output goes; the session layer may pass a store it can page through. */
export interface OutputSink {
  push(text: string): void;
  finish(): CapturedOutput;
  /** A promise while the sink wants the producer to hold off (it is writing to disk). */
  backlog?(): Promise<void> | undefined;
}

/** What a running command is doing, for status, progress and send_input. */
export interface LiveState {
  bytes: number;
  lines: number;
  /** The last line received, complete or not (terminal codes removed). */
  lastLine: string;
  /** Set while the command shows a prompt from the dialect's input_wait and nothing more arrives. */
  waiting?: { prompt: string; kind: string };
  /** Runs with a terminal of its own (dialect `terminal`): read_screen shows it. */
  terminal: boolean;
}

export interface RunOptions {
  /** Interrupt the command past this; undefined = let it run (the caller decides when to stop waiting). */
  timeoutMs?: number;
  /** Bytes of output kept in memory for one command; the rest is counted, not kept. */
  maxOutputBytes: number;
  /** Aborting interrupts the command, as a timeout does. */
  signal?: AbortSignal;
  /** Named secrets prompts may be answered with (enable, sudo). Never written anywhere else. */
  secrets?: Readonly<Record<string, string | undefined>>;
  /** Template values from the caller (e.g. enable_command). */
  vars?: Readonly<Record<string, string | undefined>>;
  /**
   * Asked when a prompt wants a secret that `secrets` lacks (e.g. the user types it in a browser); the
   * device waits meanwhile. Undefined answer: the command fails naming the secret.
   */
  askSecret?: (name: string, prompt: string) => Promise<string | undefined>;
  /** Receives the output instead of a fresh in-memory OutputStore of maxOutputBytes. */
  output?: OutputSink;
  /** Give this command a terminal of its own (dialect `terminal`); its `programs` get one anyway. */
  terminal?: boolean;
  /** Called when the command starts or stops waiting for input. */
  onWaiting?: (waiting: LiveState['waiting']) => void;
  /** Command rewrites and input prompts to use instead of the dialect's (see `with_secret`). */
  overlay?: Pick<Dialect, 'commandRewrite' | 'inputPrompts'>;
}

/** What the runner saw and decided, step by step: for `dialect try` and transcripts. */
export type RunnerTrace =
  | { type: 'learned'; prompt: string; vars: Record<string, string>; mode?: string }
  | { type: 'relearned'; prompt: string; vars: Record<string, string>; mode: string }
  | { type: 'login'; line: string; send: string }
  | { type: 'find-prompt'; attempt: number; lastLine: string }
  | { type: 'stdin-wait'; lastLine: string }
  | { type: 'sent'; text: string; raw: boolean }
  | { type: 'answered'; line: string; with: string }
  | { type: 'ended'; line: string; mode?: string; exitCode: number | null }
  | { type: 'error-line'; line: string }
  | { type: 'step-refused'; send: string; why: string }
  | { type: 'mode'; mode: string };

interface StepOptions extends RunOptions {
  /** Prompts to answer besides the dialect's, and output that means failure: for mode transitions. */
  responders?: Responder[];
  failure?: RegExp[];
  /** Send as is: no command rewrite (transitions and open steps are the dialect's own text). */
  raw?: boolean;
}

export interface RunOutcome {
  /** The real exit status; null when the command never finished (its shell was lost). */
  exitCode: number | null;
  output: CapturedOutput;
  timedOut: boolean;
  interrupted: boolean;
  /** The shell is gone (the command exited it, the connection dropped, or it was ended by force). */
  shellLost: boolean;
  /** The mode whose prompt ended the command (prompt dialects). */
  mode?: string;
  /** The device error line that marked the command failed, or why an answer to a prompt failed. */
  error?: string;
  note?: string;
}

export class ShellClosedError extends Error {}

/** Output this long is held back so a marker or a prompt with its context lines is seen whole. */
const HOLD_BACK = 2048;
/** Held-back complete lines are handed to the output this long after they arrived (live reads see them). */
const FLUSH_MS = 50;
/** The stdin probe runs at most this far apart, and waits this long for an end marker after saying yes. */
const STDIN_PROBE_MAX_MS = 30_000;
const STDIN_PROBE_SETTLE_MS = 150;
/** The longest line taken for the echo of a command. */
const ECHO_MAX = 64 * 1024;

interface End {
  index: number;
  exitCode: number | null;
  mode?: string;
}

interface Pending {
  marker?: string;
  /** Waiting for the first prompt at open, not for a command. */
  learning: boolean;
  held: string;
  echoPending: boolean;
  collector: OutputSink;
  live: LiveState;
  /** The last KiB of output, for live.lastLine. */
  recent: string;
  /** A transition's prompt wants its secret now; a command's prompt may wait for send_input instead. */
  secretRequired: boolean;
  waitTimer?: NodeJS.Timeout;
  flushTimer?: NodeJS.Timeout;
  onWaiting?: RunOptions['onWaiting'];
  responders: Responder[];
  /** A copy: secrets obtained through askSecret are added for the rest of this step. */
  secrets: Record<string, string | undefined>;
  answered: Set<Responder>;
  askSecret?: RunOptions['askSecret'];
  /** After a secret: the device's newline that ended the hidden input is not output. */
  dropNewline: boolean;
  failurePatterns: RegExp[];
  failure?: string;
  timedOut: boolean;
  interrupted: boolean;
  timers: NodeJS.Timeout[];
  /** While learning: presses Enter after a quiet spell. */
  findTimer?: NodeJS.Timeout;
  /** The stdin probe (input_wait.stdin_probe): when it runs next, and how many times it said no. */
  probeTimer?: NodeJS.Timeout;
  probes: number;
  /** When the command last printed or was typed into (performance.now()). */
  outputAt: number;
  findTries: number;
  loginAnswers: Map<number, number>;
  /** A prompt of a known shape with new values is the last line: it ends the command if nothing follows. */
  relearnTimer?: NodeJS.Timeout;
  done: (end: End | undefined, extra?: { shellLost?: boolean; note?: string }) => void;
}

/** Random bytes for the per-command nonces, drawn a block at a time. */
let randomPool = Buffer.alloc(0);
let randomAt = 0;

/**
 * `bytes` random bytes as hex, from a pooled block: a call into the random generator per command cost
 * 4 to 19 us (a fan-out sends hundreds of commands a second), a slice of the block 0.1.
 */
function randomHex(bytes: number): string {
  if (randomAt + bytes > randomPool.length) {
    randomPool = randomBytes(4096);
    randomAt = 0;
  }
  const hex = randomPool.toString('hex', randomAt, randomAt + bytes);
  randomAt += bytes;
  return hex;
}

/**
 * Drives one shell as its dialect says: sends each command, answers prompts, finds where the command
 * ends in the stream. It knows nothing about any vendor or platform.
 */
export class ExpectRunner {
  private readonly decoder = new ByteTextDecoder();
  private readonly cleaner = new TerminalCleaner();
  private current: Pending | undefined;
  private closed = false;
  /** Interrupts on their way over side channels. */
  private readonly sideSignals = new Set<Promise<void>>();
  /** Reading is paused until the output sink has caught up. */
  private paused = false;
  /** Markers are this runner's random prefix and a counter: unique, and cheaper than fresh randomness. */
  private readonly markerPrefix = `MCPSSH${randomBytes(6).toString('hex')}`;
  private markerSeq = 0;
  /** Mode prompts with the learned values filled in, anchored to a whole line. */
  private modePatterns: ModePattern[] = [];
  /** Every mode's context lines, for handing over held lines while a command runs. */
  private readonly allContextLines: RegExp[];
  /** Values learned at open (the shell's pid, the device's host name), available to every template. */
  readonly vars: Record<string, string> = {};
  /** The mode the device is in, as its last prompt said. */
  mode: string | undefined;
  /** What the device showed before its first prompt (banner, MOTD, "Last login"): its first 64 KiB. */
  banner = '';
  /** Raw bytes while a command runs with a terminal (or on a pty channel): for a screen mirror. */
  onRaw: ((chunk: Buffer) => void) | undefined;
  onTrace: ((event: RunnerTrace) => void) | undefined;

  constructor(
    private readonly channel: ShellChannel,
    readonly dialect: Dialect,
  ) {
    this.allContextLines = dialect.modes.flatMap((m) => m.contextLines);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Learn the prompt (prompt dialects), then run the dialect's on_open steps and learn what they capture.
   * `seed` is what the channel already showed (a channel handed over after detection), prompt included.
   */
  async open(timeoutMs: number, seed?: string): Promise<void> {
    if (this.dialect.completion.strategy === 'prompt') {
      const learning = this.step('', { timeoutMs, maxOutputBytes: 64 * 1024 }, true);
      if (seed) this.feed(Buffer.from(seed));
      const first = await learning;
      this.banner = first.output.head;
      if (first.exitCode === null) {
        throw new Error(
          `opening the ${this.dialect.name} session: no prompt seen within ${timeoutMs} ms${first.note ? ` (${first.note})` : ''}`,
        );
      }
    }
    for (const openStep of this.dialect.onOpen) {
      const command = openStep.send.render({ ...this.dialect.defaults, ...this.vars });
      const outcome = await this.step(command, { timeoutMs, maxOutputBytes: 64 * 1024, raw: true });
      const text = outcome.output.head + outcome.output.tail;
      if (outcome.exitCode !== 0 || outcome.shellLost) {
        const why = outcome.shellLost
          ? 'the channel closed'
          : (outcome.error ?? outcome.note ?? `exit status ${outcome.exitCode}`);
        if (openStep.optional && !outcome.shellLost && !outcome.timedOut) {
          this.onTrace?.({ type: 'step-refused', send: command, why });
          continue;
        }
        throw new Error(`opening the ${this.dialect.name} session failed at step "${command}": ${why}`);
      }
      for (const { name, pattern } of openStep.capture) {
        const value = pattern.exec(text)?.[1];
        if (value === undefined) {
          throw new Error(`opening the ${this.dialect.name} session: step "${command}" printed no ${name}`);
        }
        this.vars[name] = value;
      }
    }
  }

  /** Run one command as the dialect says. */
  run(command: string, options: RunOptions): Promise<RunOutcome> {
    return this.step(command, options);
  }

  /**
   * Bring the device to `target` through the dialect's transitions (e.g. user → privileged with the enable
   * secret). Throws with the device's words when a step fails.
   */
  async enterMode(target: string, options: RunOptions): Promise<void> {
    const path = this.pathTo(target);
    for (const t of path) {
      const send = t.send.render({ ...this.dialect.defaults, ...this.vars, ...definedOnly(options.vars) });
      const outcome = await this.step(send, {
        ...options,
        raw: true,
        responders: t.expect,
        failure: t.failure,
      });
      if (outcome.error) throw new Error(`could not enter ${t.to} mode with "${send}": ${outcome.error}`);
      if (outcome.exitCode === null || outcome.timedOut) {
        throw new Error(
          `could not enter ${t.to} mode with "${send}": ${outcome.note ?? 'no prompt came back'}`,
        );
      }
      if (outcome.mode !== t.to) {
        throw new Error(
          `sent "${send}" to enter ${t.to} mode, but the device answered in ${outcome.mode ?? 'no known'} mode`,
        );
      }
    }
  }

  /** Whether the way from the current mode to `target` asks for a secret (the device lacks those rights). */
  secretOnWayTo(target: string): boolean {
    if (this.mode === target) return false;
    if (this.mode === undefined) return true;
    return this.pathTo(target).some((t) => t.expect.some((r) => r.secret !== undefined));
  }

  /**
   * Interrupt the running command, as Ctrl+C would; with `command` (its live state), only that command.
   * False when nothing (or another command) is running.
   */
  interrupt(command?: LiveState): boolean {
    const pending = this.current;
    if (!pending || (command !== undefined && pending.live !== command)) return false;
    this.stop(pending, 'interrupt');
    return true;
  }

  /**
   * Resolves when no interrupt sent on a side channel is still on its way. The next command waits for
   * this: a Ctrl+C meant for a command that ended meanwhile must not land on the one after it.
   */
  async idle(): Promise<void> {
    while (this.sideSignals.size > 0) await Promise.allSettled([...this.sideSignals]);
  }

  /** Run a signal command on a side channel, tracked until it has run. */
  private signal(command: string): Promise<void> {
    const sent = this.channel.execSide(command).then(
      () => {},
      () => {},
    );
    this.sideSignals.add(sent);
    void sent.finally(() => this.sideSignals.delete(sent));
    return sent;
  }

  /** Bytes from the channel, in order. */
  feed(chunk: Buffer): void {
    const pending = this.current;
    // A terminal adds colours, cursor moves and CR LF: cleaned away. Without one the bytes are the
    // program's own (a file with CR LF, binary data) and are kept as they are, counted as sent.
    const terminal = pending?.live.terminal || this.dialect.channel.pty !== false;
    const decoded = this.decoder.write(chunk);
    const text = terminal ? this.cleaner.push(decoded) : this.cleaner.flush() + decoded;
    if (terminal) this.onRaw?.(chunk);
    // Between commands nothing is waiting; late output of a background job is not the next command's.
    if (!pending || text.length === 0) return;
    this.noteProgress(pending, text);
    clearTimeout(pending.relearnTimer);
    if (pending.learning) this.armFindPrompt(pending);
    let held = pending.held + text;
    if (pending.dropNewline) {
      held = held.replace(/^[ \t]*\n/, '');
      pending.dropNewline = held.length === 0;
    }
    if (pending.echoPending) {
      const lineEnd = held.indexOf('\n');
      // An echo line this long is not an echo: stop waiting for it rather than rescan a growing buffer.
      if (lineEnd < 0 && held.length < ECHO_MAX) {
        pending.held = held;
        return;
      }
      if (lineEnd >= 0) held = held.slice(lineEnd + 1);
      pending.echoPending = false;
    }
    if (pending.responders.length > 0) held = this.respond(pending, held);
    const end = this.findEnd(pending, held);
    if (end) {
      pending.collector.push(held.slice(0, end.index));
      pending.held = '';
      pending.done(end);
      return;
    }
    if (held.length > HOLD_BACK) {
      pending.collector.push(held.slice(0, held.length - HOLD_BACK));
      pending.held = held.slice(held.length - HOLD_BACK);
    } else {
      pending.held = held;
    }
    this.watchForInput(pending);
    this.quietAgain(pending);
    pending.flushTimer ??= setTimeout(() => this.flushHeld(pending), FLUSH_MS);
    this.holdOffWhileBacklogged(pending);
  }

  private holdOffWhileBacklogged(pending: Pending): void {
    if (this.paused) return;
    const drained = pending.collector.backlog?.();
    if (!drained) return;
    this.paused = true;
    this.channel.pause?.();
    void drained.then(() => {
      this.paused = false;
      this.channel.resume?.();
    });
  }

  /**
   * Hand held-back complete lines to the output, so a command that runs on shows what it printed. The open
   * last line stays (a marker or prompt may be arriving), and so do trailing lines that could belong to a
   * prompt (its context lines).
   */
  private flushHeld(pending: Pending): void {
    pending.flushTimer = undefined;
    if (this.current !== pending || pending.echoPending) return;
    const held = pending.held;
    const keep = contextStart(held, held.lastIndexOf('\n') + 1, this.allContextLines);
    if (keep === 0) return;
    pending.collector.push(held.slice(0, keep));
    pending.held = held.slice(keep);
  }

  /** The running command's progress, or undefined between commands. */
  get live(): LiveState | undefined {
    return this.current?.live;
  }

  /**
   * Type into the running command (send_input, send_keys). False when nothing runs: text sent between
   * commands would be read by the shell as a command.
   */
  write(text: string): boolean {
    if (!this.current || this.current.learning) return false;
    const pending = this.current;
    this.setWaiting(pending, undefined);
    this.channel.write(text);
    this.quietAgain(pending); // the answer may be read in silence, and the next question asked the same way
    return true;
  }

  private wantsTerminal(command: string, asked: boolean | undefined): boolean {
    const terminal = this.dialect.terminal;
    if (!terminal || this.dialect.channel.pty) return false;
    if (asked !== undefined) return asked;
    const first = /^\s*(?:\S+=\S*\s+)*(\S+)/.exec(command)?.[1] ?? '';
    return terminal.programs.includes(first.slice(first.lastIndexOf('/') + 1));
  }

  private noteProgress(pending: Pending, text: string): void {
    const live = pending.live;
    live.bytes += Buffer.byteLength(text);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) live.lines++;
    pending.recent = text.length >= 1024 ? text.slice(-1024) : (pending.recent + text).slice(-1024);
    const recent = pending.recent.endsWith('\n') ? pending.recent.slice(0, -1) : pending.recent;
    live.lastLine = recent.slice(recent.lastIndexOf('\n') + 1);
    if (live.waiting) this.setWaiting(pending, undefined);
  }

  /** A prompt from input_wait on the open last line, and then silence: the command waits for input. */
  private watchForInput(pending: Pending): void {
    clearTimeout(pending.waitTimer);
    const { prompts, quietMs } = this.dialect.inputWait;
    if (prompts.length === 0 || this.current !== pending) return;
    const open = pending.held.slice(pending.held.lastIndexOf('\n') + 1);
    const lastLine = shownLine(open);
    const kind = inputWaitFor(prompts, lastLine)?.kind;
    if (kind === undefined) return;
    pending.waitTimer = setTimeout(() => {
      if (this.current === pending) this.setWaiting(pending, { prompt: lastLine.trim(), kind });
    }, quietMs);
  }

  /**
   * A command that prints nothing and shows no prompt may still wait for input: a shell's `read -p` shows its
   * prompt only on a terminal, `cat` shows none. After a quiet spell the dialect's probe asks the host
   * (on a second channel) whether the command reads the shell's stdin; asked again less and less often
   * while it stays quiet, and afresh after output. Only for commands someone follows (onWaiting), never
   * under a terminal (`script` always reads stdin, and the terminal shows the prompt).
   */
  private armStdinProbe(
    pending: Pending,
    after = Math.min(STDIN_PROBE_MAX_MS, this.dialect.inputWait.quietMs * 4 ** pending.probes),
  ): void {
    clearTimeout(pending.probeTimer);
    pending.probeTimer = undefined;
    const probe = this.dialect.inputWait.stdinProbe;
    if (!probe || !pending.onWaiting || pending.live.terminal || pending.live.waiting) return;
    pending.probeTimer = setTimeout(() => {
      pending.probeTimer = undefined;
      if (this.current !== pending) return;
      // Output since the timer was set: the quiet spell is shorter than it looked; wait out the rest.
      const quiet = performance.now() - pending.outputAt;
      const quietMs = this.dialect.inputWait.quietMs;
      if (pending.probes === 0 && quiet < quietMs) return this.armStdinProbe(pending, quietMs - quiet);
      const quietAt = pending.live.bytes;
      const still = () => this.current === pending && pending.live.bytes === quietAt && !pending.live.waiting;
      this.channel.execSide(probe.render({ ...this.dialect.defaults, ...this.vars })).then(
        async (status) => {
          if (!still()) return;
          if (status !== 0) {
            pending.probes++;
            this.armStdinProbe(pending);
            return;
          }
          // A command ending right now leaves its shell reading stdin too: its end marker is on the way.
          await sleep(STDIN_PROBE_SETTLE_MS);
          if (!still()) return;
          const lastLine = shownLine(pending.held.slice(pending.held.lastIndexOf('\n') + 1)).trim();
          this.onTrace?.({ type: 'stdin-wait', lastLine });
          this.setWaiting(pending, { prompt: lastLine, kind: 'stdin' });
        },
        () => {}, // no second channel (a device without exec): no probe
      );
    }, after);
  }

  /**
   * Output arrived or input was typed: the quiet spell starts over. Cheap for every chunk: a timer on its
   * first interval is left to notice when it fires; only one backed off is set again.
   */
  private quietAgain(pending: Pending): void {
    pending.outputAt = performance.now();
    if (pending.probeTimer !== undefined && pending.probes === 0) return;
    pending.probes = 0;
    this.armStdinProbe(pending);
  }

  private setWaiting(pending: Pending, waiting: LiveState['waiting']): void {
    if (pending.live.waiting === waiting) return;
    pending.live.waiting = waiting;
    pending.onWaiting?.(waiting);
  }

  /** While no prompt has been learned: press Enter after a quiet spell, a few times, as a person would. */
  private armFindPrompt(pending: Pending): void {
    clearTimeout(pending.findTimer);
    if (pending.findTries >= FIND_PROMPT_TRIES) return;
    pending.findTimer = setTimeout(() => {
      if (this.current !== pending) return;
      pending.findTries++;
      this.onTrace?.({ type: 'find-prompt', attempt: pending.findTries, lastLine: pending.live.lastLine });
      this.channel.write(this.dialect.lineEnding);
      this.armFindPrompt(pending);
    }, FIND_PROMPT_MS);
  }

  /**
   * The channel closed: whatever runs now has lost its shell. `cause` says why, when it is known (the
   * connection dropped: the SSH layer's reason).
   */
  closedByPeer(exitCode: number | null, cause?: string): void {
    this.closed = true;
    const pending = this.current;
    if (!pending) return;
    pending.collector.push(pending.held + this.cleaner.flush());
    pending.held = '';
    const why = cause ?? 'its shell ended (it exited, or the connection dropped)';
    pending.done(
      { index: 0, exitCode },
      {
        shellLost: true,
        note:
          pending.interrupted || pending.timedOut
            ? undefined
            : `the command did not finish: ${why}; the next command starts a new shell`,
      },
    );
  }

  /** Close the channel, after the dialect's on_close steps when nothing is running. */
  close(): void {
    if (!this.closed && !this.current) {
      for (const step of this.dialect.onClose) {
        this.channel.write(step.render({ ...this.dialect.defaults, ...this.vars }) + this.dialect.lineEnding);
      }
    }
    this.closed = true;
    this.channel.close();
  }

  private step(command: string, options: StepOptions, learning = false): Promise<RunOutcome> {
    if (this.closed) return Promise.reject(new ShellClosedError('the shell is closed'));
    if (this.current) return Promise.reject(new Error('a command is already running in this shell'));
    const dialect = this.dialect;
    const marker =
      dialect.completion.strategy === 'marker' ? `${this.markerPrefix}n${++this.markerSeq}` : undefined;
    let payload = '';
    const terminal = !learning && !options.raw && this.wantsTerminal(command, options.terminal);
    // Fresh for every command: a prompt the dialect answers with a secret carries it (sudo's own -p
    // prompt), so a command that prints a look-alike prompt is not answered.
    const nonce = randomHex(6);
    const stepVars = { ...dialect.defaults, ...this.vars, nonce };
    if (!learning) {
      let text = command;
      const rewrite = options.overlay?.commandRewrite ?? dialect.commandRewrite;
      if (!options.raw) {
        text = rewriteCommand(rewrite, text, stepVars);
      }
      if (terminal && dialect.terminal) {
        const { wrap, cols, rows } = dialect.terminal;
        text = wrap.render({ ...this.vars, command: text, cols: String(cols), rows: String(rows) });
      }
      const vars = { ...dialect.defaults, ...this.vars, ...definedOnly(options.vars), command: text };
      if (marker) Object.assign(vars, { marker_head: marker.slice(0, 10), marker_tail: marker.slice(10) });
      payload = dialect.completion.send.render(vars) + dialect.lineEnding;
    }

    return new Promise<RunOutcome>((resolve) => {
      const pending: Pending = {
        marker,
        learning,
        held: '',
        echoPending: dialect.echo && !learning,
        // The runner's own fallback: memory only, and unmasked (see OutputStoreOptions.redact).
        collector:
          options.output ??
          new OutputStore({ memoryBytes: options.maxOutputBytes, spillBytes: 0, redact: false }),
        live: { bytes: 0, lines: 0, lastLine: '', terminal },
        recent: '',
        secretRequired: options.raw === true,
        onWaiting: options.onWaiting,
        responders: [
          ...(options.responders ?? []),
          ...(options.overlay?.inputPrompts ?? dialect.inputPrompts),
          ...dialect.pagers,
        ].map((r) =>
          r.template ? { ...r, pattern: runtimePattern(dialect, r.template.render(stepVars)) } : r,
        ),
        secrets: { ...options.secrets },
        askSecret: options.askSecret,
        answered: new Set(),
        dropNewline: false,
        failurePatterns: options.failure ?? [],
        timedOut: false,
        interrupted: false,
        timers: [],
        findTries: 0,
        probes: 0,
        outputAt: performance.now(),
        loginAnswers: new Map(),
        done: (end, extra = {}) => {
          for (const timer of pending.timers) clearTimeout(timer);
          clearTimeout(pending.waitTimer);
          clearTimeout(pending.flushTimer);
          clearTimeout(pending.findTimer);
          clearTimeout(pending.probeTimer);
          clearTimeout(pending.relearnTimer);
          options.signal?.removeEventListener('abort', onAbort);
          if (this.current === pending) this.current = undefined;
          if (end?.mode && end.mode !== this.mode) {
            this.mode = end.mode;
            this.onTrace?.({ type: 'mode', mode: end.mode });
          }
          const output = pending.collector.finish();
          const error = pending.failure ?? findLine(output, [...pending.failurePatterns, ...dialect.errors]);
          if (error !== undefined) this.onTrace?.({ type: 'error-line', line: error });
          let exitCode = end?.exitCode ?? null;
          // Prompt dialects have no exit status: an interrupt is 130, a device error 1, else 0.
          if (exitCode === null && end && !extra.shellLost)
            exitCode = pending.interrupted ? 130 : error ? 1 : 0;
          else if (exitCode === 0 && error) exitCode = 1;
          resolve({
            exitCode,
            output,
            timedOut: pending.timedOut,
            interrupted: pending.interrupted,
            shellLost: extra.shellLost ?? false,
            ...(end?.mode === undefined ? {} : { mode: end.mode }),
            ...(error === undefined ? {} : { error }),
            ...(extra.note === undefined ? {} : { note: extra.note }),
          });
        },
      };
      const onAbort = () => this.stop(pending, 'cancelled');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        pending.timers.push(
          setTimeout(() => {
            pending.timedOut = true;
            this.stop(pending, 'timeout');
          }, options.timeoutMs),
        );
      }
      this.current = pending;
      if (payload) {
        this.onTrace?.({ type: 'sent', text: payload, raw: options.raw === true });
        this.channel.write(payload);
      }
      if (learning) this.armFindPrompt(pending);
      else this.armStdinProbe(pending);
      if (options.signal?.aborted) onAbort();
    });
  }

  /** Answer a prompt on the last line (pager, password); the prompt itself is not output. */
  private respond(pending: Pending, held: string): string {
    const lineStart = held.lastIndexOf('\n') + 1;
    const lastLine = shownLine(held.slice(lineStart));
    if (lastLine.length === 0) return held;
    const responder = responderFor(pending.responders, lastLine);
    if (!responder) return held;
    if (responder.secret === undefined) {
      this.onTrace?.({ type: 'answered', line: lastLine, with: JSON.stringify(responder.send ?? '') });
      this.channel.write(responder.send ?? '');
    } else {
      const secret = pending.secrets[responder.secret];
      const asked = lastLine.trim();
      if (secret === undefined && pending.askSecret) {
        this.askFor(pending, responder, asked);
      } else if (secret === undefined && !pending.secretRequired) {
        return held; // left on the last line: input_wait reports it and send_input can answer it
      } else if (secret === undefined) {
        this.fail(
          pending,
          `the device asks for the ${responder.secret} secret ("${asked}") but none was given`,
        );
      } else if (pending.answered.has(responder)) {
        this.fail(
          pending,
          `the ${responder.secret} secret was refused: the device asked for it again ("${asked}")`,
        );
      } else {
        this.answer(pending, responder, secret);
      }
    }
    return held.slice(0, lineStart);
  }

  private answer(pending: Pending, responder: Responder, secret: string): void {
    pending.answered.add(responder);
    pending.dropNewline = true;
    const name = responder.secret as string;
    this.onTrace?.({ type: 'answered', line: '', with: `the ${name} secret` });
    this.channel.write(secret + this.dialect.lineEnding, name);
  }

  /** The prompt stays unanswered while the caller obtains the secret; the command's timeout still runs. */
  private askFor(pending: Pending, responder: Responder, asked: string): void {
    const name = responder.secret as string;
    const ask = pending.askSecret as NonNullable<Pending['askSecret']>;
    pending.askSecret = undefined; // once per step: a second prompt without an answer fails as before
    ask(name, asked).then(
      (secret) => {
        if (this.current !== pending || pending.interrupted) return;
        if (secret === undefined && pending.secretRequired) {
          this.fail(pending, `the device asks for the ${name} secret ("${asked}") but none was given`);
          return;
        }
        if (secret === undefined) return this.setWaiting(pending, { prompt: asked, kind: 'password' });
        pending.secrets[name] = secret;
        this.answer(pending, responder, secret);
      },
      (error: Error) => {
        if (this.current === pending)
          this.fail(pending, `could not obtain the ${name} secret: ${error.message}`);
      },
    );
  }

  private findEnd(pending: Pending, held: string): End | undefined {
    if (pending.marker !== undefined && this.dialect.completion.strategy === 'marker') {
      const match = findMarker(this.dialect.completion.match, held, pending.marker);
      if (!match) return undefined;
      const status = match.groups?.status;
      return { index: match.index, exitCode: status === undefined ? null : Number.parseInt(status, 10) };
    }
    const lineStart = held.lastIndexOf('\n') + 1;
    const lastLine = shownLine(held.slice(lineStart));
    if (lastLine.length === 0) return undefined;
    if (pending.learning) return this.learnPrompt(pending, lastLine, lineStart);
    const mode = modeOfLine(this.modePatterns, lastLine);
    if (mode) {
      this.onTrace?.({ type: 'ended', line: lastLine, mode: mode.name, exitCode: null });
      // Lines that belong to the prompt ([edit], {master:0}) are not output either.
      return { index: contextStart(held, lineStart, mode.contextLines), exitCode: null, mode: mode.name };
    }
    this.watchForNewPrompt(pending, lastLine);
    return undefined;
  }

  /** At open: the first prompt names the device; its named groups become template values. */
  private learnPrompt(pending: Pending, lastLine: string, lineStart: number): End | undefined {
    const learned = learnFromPrompt(this.dialect, lastLine);
    if (!learned) {
      this.answerLogin(pending, lastLine);
      return undefined;
    }
    const mode = this.learnValues(learned, lastLine);
    this.onTrace?.({ type: 'learned', prompt: lastLine, vars: { ...this.vars }, mode });
    return { index: lineStart, exitCode: null, mode };
  }

  /** Take values from a prompt, fill them into every mode's prompt; the mode `prompt` is in, if known. */
  private learnValues(groups: Record<string, string | undefined>, prompt: string): string | undefined {
    Object.assign(this.vars, definedOnly(groups));
    this.modePatterns = renderModePrompts(this.dialect, this.vars);
    return modeOfLine(this.modePatterns, prompt)?.name;
  }

  /** Before the first prompt: a root shell that needs the CLI started, a "Press RETURN", ... */
  private answerLogin(pending: Pending, lastLine: string): void {
    for (const i of loginAnswersFor(this.dialect.login, lastLine)) {
      const answer = this.dialect.login[i] as Dialect['login'][number];
      const count = pending.loginAnswers.get(i) ?? 0;
      if (count >= LOGIN_ANSWERS_MAX) continue;
      pending.loginAnswers.set(i, count + 1);
      this.onTrace?.({ type: 'login', line: lastLine, send: answer.send });
      this.channel.write(answer.send);
    }
  }

  /**
   * The last line has the shape of a mode's prompt but other values (the host was renamed): once the
   * device stays quiet, it is the prompt; its values are learned again and the command ends there.
   */
  private watchForNewPrompt(pending: Pending, lastLine: string): void {
    const shape = promptShapeOf(this.dialect, lastLine);
    if (!shape) return;
    pending.relearnTimer = setTimeout(() => {
      if (this.current !== pending) return;
      const held = pending.held;
      const lineStart = held.lastIndexOf('\n') + 1;
      const line = shownLine(held.slice(lineStart));
      const groups = shape.prompt.exec(line)?.groups;
      if (!groups) return;
      const mode = this.learnValues(groups, line) ?? shape.name;
      this.onTrace?.({ type: 'relearned', prompt: line, vars: { ...this.vars }, mode });
      const contextLines = this.modePatterns.find((m) => m.name === mode)?.contextLines ?? [];
      pending.collector.push(held.slice(0, contextStart(held, lineStart, contextLines)));
      pending.held = '';
      pending.done({ index: 0, exitCode: null, mode });
    }, RELEARN_QUIET_MS);
  }

  private pathTo(target: string): Dialect['transitions'] {
    if (!this.dialect.modes.some((m) => m.name === target)) {
      throw new Error(`the ${this.dialect.name} dialect has no mode named "${target}"`);
    }
    const start = this.mode;
    if (start === undefined) throw new Error('the device mode is unknown: no prompt was recognised');
    // Breadth-first over the transitions: the shortest way from the current mode.
    const previous = new Map<string, Dialect['transitions'][number]>();
    const queue = [start];
    const seen = new Set([start]);
    while (queue.length > 0) {
      const mode = queue.shift() as string;
      if (mode === target) break;
      for (const t of this.dialect.transitions) {
        if (t.from !== mode || seen.has(t.to)) continue;
        seen.add(t.to);
        previous.set(t.to, t);
        queue.push(t.to);
      }
    }
    if (!seen.has(target)) {
      throw new Error(`the ${this.dialect.name} dialect has no way from ${start} mode to ${target} mode`);
    }
    const path: Dialect['transitions'] = [];
    for (let mode = target; mode !== start; ) {
      const t = previous.get(mode) as Dialect['transitions'][number];
      path.unshift(t);
      mode = t.from;
    }
    return path;
  }

  private fail(pending: Pending, reason: string): void {
    if (pending.failure !== undefined) return;
    pending.failure = reason;
    this.stop(pending, 'interrupt');
  }

  private stop(pending: Pending, reason: 'interrupt' | 'timeout' | 'cancelled'): void {
    if (pending.interrupted || this.current !== pending) return;
    pending.interrupted = true;
    if (pending.learning) {
      const lines = pending.recent.split('\n').slice(-3).map(shownLine).join('\n');
      pending.done(undefined, {
        note: `${reason} before any prompt the ${this.dialect.name} dialect knows${
          lines.trim() ? `; the last lines received were ${JSON.stringify(lines)}` : '; nothing was received'
        }`,
      });
      return;
    }
    const graceMs = this.dialect.interrupt.graceMs;
    const typed = pending.live.terminal ? this.dialect.terminal?.interrupt : undefined;
    if (typed === undefined) this.sendInterrupt();
    else {
      // Ctrl+C on the command's own terminal reaches only the program in front, as it would for a person;
      // signalling the wrapper instead may make it end the whole terminal (one waits 2 s before it does).
      this.channel.write(typed);
      pending.timers.push(
        setTimeout(() => {
          if (this.current === pending) this.sendInterrupt();
        }, graceMs / 2),
      );
    }
    pending.timers.push(
      setTimeout(() => {
        if (this.current !== pending) return;
        // The interrupt was ignored: end the command with its shell rather than leave the session wedged.
        const force = this.dialect.interrupt.forceExec;
        const forced = force ? this.signal(force.render(this.vars)) : Promise.resolve();
        void forced.finally(() => this.close());
        pending.collector.push(pending.held);
        pending.held = '';
        pending.done(undefined, {
          shellLost: true,
          note: `the command did not stop within ${graceMs} ms of the ${reason === 'timeout' ? 'timeout interrupt' : 'interrupt'}; its shell was ended and the next command starts a new one (shell state reset)`,
        });
      }, graceMs),
    );
  }

  private sendInterrupt(): void {
    const { send, exec } = this.dialect.interrupt;
    if (send !== undefined) this.channel.write(send);
    if (exec) void this.signal(exec.render(this.vars));
  }
}

/** A dialect's command_rewrite rules applied in order; `{{command}}` is the line as rewritten so far. */
export function rewriteCommand(
  rules: Dialect['commandRewrite'],
  command: string,
  vars: Readonly<Record<string, string | undefined>>,
): string {
  let text = command;
  for (const rule of rules) {
    const replacement = rule.replace.render({ ...vars, command: text });
    // A replace holding the line itself is taken literally: a `$` in it is not String.replace's $1 or $&.
    text = rule.replace.names.has('command')
      ? text.replace(rule.match, () => replacement)
      : text.replace(rule.match, replacement);
  }
  return text;
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

/** The first output line any pattern matches, trimmed: within the bounds of `errorLineIn`, head then tail. */
export function findLine(output: CapturedOutput, patterns: RegExp[]): string | undefined {
  if (patterns.length === 0) return undefined;
  for (const text of [output.head, output.tail]) {
    const found = errorLineIn(text, patterns);
    if (found) return found.line;
  }
  return undefined;
}
