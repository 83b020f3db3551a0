import { type ShellChannel, startShellServer } from '../ssh/server.js';
import type { Transcript } from './format.js';
import {
  compileInput,
  firstInputUnit,
  InputBuffer,
  type InputPattern,
  matchInput,
  normalizeLineEnds,
  visibleText,
} from './replay-input.js';
import {
  type ChannelClose,
  type Exchange,
  modelFromTranscript,
  type OutputChunk,
  type ReplayModel,
  type ReplayPhase,
  type UnknownAnswer,
} from './replay-model.js';
import { ScreenLine, stateKey } from './screen-line.js';

/**
 * Serves a recorded session over SSH, to as many clients as connect, each with its own place in the
 * recording. What a client types is looked up among the recorded inputs; the recorded answer is sent
 * back at the recorded pace. Input the recording does not know gets the device's own unknown-command
 * answer when one was recorded in that state, else a replay error line, and then the prompt again, so a
 * client never waits for nothing. See docs/transcripts.md.
 */

export type ReplaySource = Transcript | ReplayModel;

export interface ReplayMiss {
  connection: number;
  /** The line the device showed when the input came (its prompt or question). */
  state: string;
  /** What the client typed, without its line end; "(hidden)" where the device asked for a secret. */
  input: string;
  /** What it got: the device's recorded unknown-command answer, a replay error line, or the prompt again. */
  answer: 'unknown-command' | 'replay-error' | 'prompt';
  /** The recorded answer that was used, or where in the file the recording goes on ("file:line"). */
  where: string;
}

export interface ReplayOptions {
  /** Default 127.0.0.1, port 0 (an ephemeral port). */
  listen?: { host?: string; port?: number };
  /** How fast to play the recorded pauses: 1 as recorded, 2 twice as fast, 0 without pauses. Default 1. */
  speed?: number;
  /** Values for `{{secret:NAME}}` inputs; a secret without a value here matches whatever is typed. */
  secrets?: Record<string, string>;
  onMiss?: (miss: ReplayMiss) => void;
  /** Bugs on one connection end that connection only; this hears about them. */
  onError?: (error: Error) => void;
  /** When both are set, only this user with this password gets in; otherwise anyone does. */
  username?: string;
  password?: string;
  /** A private key file for the server; default a fresh ed25519 key per start. */
  hostKeyFile?: string;
  /**
   * How long input that is a whole line, but only the start of a recorded multi-line input, waits for the
   * rest before it is answered on its own (milliseconds). Default 1000.
   */
  inputWaitMs?: number;
}

export interface ReplayServer {
  host: string;
  port: number;
  /** "SHA256:..." of the host key. */
  hostKeyFingerprint: string;
  /** Every input no recorded input matched, oldest first (the last 10,000). */
  misses(): ReplayMiss[];
  /** Stops listening and drops every client. */
  close(): Promise<void>;
}

/** No single recorded pause is played longer than this, whatever the speed. */
export const MAX_PAUSE_MS = 3000;
const MAX_MISSES = 10_000;
/** Input with no line end grows no larger than this before it is answered as it is. */
const MAX_PENDING_INPUT = 64 * 1024;

export function describeMiss(miss: ReplayMiss): string {
  const answers = {
    'unknown-command': 'answered with the recorded unknown-command answer',
    'replay-error': 'answered with a replay error',
    prompt: 'answered with the prompt again',
  };
  return `replay: connection ${miss.connection}: no recorded answer for ${JSON.stringify(miss.input)} at ${JSON.stringify(miss.state)}; ${answers[miss.answer]} (${miss.where})`;
}

/** The model with its inputs compiled once, shared by every connection. */
export interface CompiledModel {
  model: ReplayModel;
  patterns: InputPattern[];
  byState: Map<string, number[]>;
  /** Exchanges whose input is specific text (not a bare key, no secret): the ones worth trying in another state. */
  withText: number[];
  /** No recorded input holds Backspace or DEL, so the client's are line editing. */
  lineEditing: boolean;
  setupInputs?: Set<string>;
}

const setupKey = (input: string) => normalizeLineEnds(input).trim();

export function compileModel(model: ReplayModel, secrets: Record<string, string> = {}): CompiledModel {
  const patterns = model.exchanges.map((e) => compileInput(e.input, secrets));
  const byState = new Map<string, number[]>();
  model.exchanges.forEach((e, i) => {
    const list = byState.get(e.state) ?? [];
    list.push(i);
    byState.set(e.state, list);
  });
  return {
    model,
    patterns,
    byState,
    withText: patterns.flatMap((p, i) => (p.blank || p.hasSecret ? [] : [i])),
    lineEditing: !model.exchanges.some((e) => /[\b\x7f]/.test(e.input)),
    ...(model.setupInputs && { setupInputs: new Set(model.setupInputs.map(setupKey)) }),
  };
}

export interface ConnectionOptions {
  speed: number;
  inputWaitMs: number;
  onMiss(miss: ReplayMiss): void;
  onError(error: Error): void;
}

type Choice = { exchange: Exchange; length: number };

/** One client's session: its own place in the recording, its own screen, its own pending input. */
export class ReplayConnection {
  private readonly input: InputBuffer;
  private readonly screen = new ScreenLine();
  /** The state when the source names it; otherwise the state is the screen's last line. */
  private namedState: string | undefined;
  private cursor = 0;
  private phase: ReplayPhase | undefined;
  private readonly setupSeen = new Set<string>();
  private accepting = false;
  private running = false;
  private clientEnded = false;
  private finished = false;
  private waitTimer: NodeJS.Timeout | undefined;
  private waitExpired = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly channel: ShellChannel,
    private readonly compiled: CompiledModel,
    private readonly options: ConnectionOptions,
  ) {
    this.input = new InputBuffer(compiled.lineEditing);
    if (compiled.setupInputs) this.phase = 'setup';
  }

  private get model(): ReplayModel {
    return this.compiled.model;
  }

  private get state(): string {
    return this.namedState ?? stateKey(this.screen.line);
  }

  start(): void {
    this.channel.onData((data) => {
      if (this.finished) return;
      this.input.push(data);
      this.clearWait();
      this.pump();
    });
    this.channel.onEnd(() => {
      this.clientEnded = true;
      this.pump();
    });
    this.channel.onClose(() => this.dispose());
    this.guard(this.open());
  }

  /** Stops every pause and timer; nothing more is sent. */
  dispose(): void {
    this.finished = true;
    this.clearWait();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  private guard(work: Promise<void>): void {
    work.catch((error: Error) => {
      this.options.onError(error);
      this.end({ exit: 1 });
    });
  }

  private async open(): Promise<void> {
    const command = this.channel.command;
    const recordedExec = this.model.execCommand;
    if (command !== undefined && recordedExec !== undefined && command !== recordedExec) {
      const where = `${this.model.file} recorded exec ${JSON.stringify(recordedExec)}`;
      this.miss({ state: '', input: command, answer: 'replay-error', where });
      await this.write(`% replay: no recorded answer for exec ${JSON.stringify(command)} (${where})\r\n`);
      return this.end({ exit: 1 });
    }
    await this.send(this.model.initial);
    this.namedState = this.model.initialState;
    if (this.model.initialClose) return this.end(this.model.initialClose);
    if (recordedExec !== undefined) return this.end({ exit: 0 });
    if (command !== undefined) {
      // An exec request on a recorded shell: the command is typed into it, and the channel ends after.
      this.input.push(`${command}\n`);
      this.clientEnded = true;
    }
    this.accepting = true;
    this.pump();
  }

  private pump(): void {
    if (!this.accepting || this.running || this.finished) return;
    this.running = true;
    this.guard(
      (async () => {
        try {
          for (;;) {
            if (this.finished || this.channel.closed) return;
            const step = this.nextStep();
            if (!step) break;
            await step();
          }
          if (this.clientEnded && !this.finished) this.end({ exit: 0 });
        } finally {
          this.running = false;
        }
      })(),
    );
  }

  /** Decides what the pending input calls for and takes it from the buffer; undefined: wait for more. */
  private nextStep(): (() => Promise<void>) | undefined {
    const buffer = this.input.text;
    if (buffer === '') return undefined;
    const force = this.waitExpired || this.clientEnded;
    this.waitExpired = false;
    const choice = this.choose(buffer, force);
    if (choice === 'wait') {
      // Only a whole line waits on a timer: a line still being typed just waits for its end.
      if (firstInputUnit(buffer, false) !== undefined) this.armWait();
      return undefined;
    }
    if (choice) {
      this.input.take(choice.length);
      return () => this.answer(choice.exchange);
    }
    let unit = firstInputUnit(buffer, this.model.singleKeyStates.has(this.state));
    if (unit === undefined && (force || buffer.length > MAX_PENDING_INPUT)) unit = buffer.length;
    if (unit === undefined) return undefined;
    const typed = this.input.take(unit);
    return () => this.answerUnmatched(typed);
  }

  /**
   * The recorded exchange for the input at the buffer's start: the next one in recorded order, else one
   * recorded in the same state, else (for text, not a bare key) one recorded in any state. 'wait' while
   * the input may still grow into one of the better kind.
   */
  private choose(buffer: string, force: boolean): Choice | 'wait' | undefined {
    const { model, patterns, byState, withText } = this.compiled;
    const tiers: number[][] = [];
    const next = model.ordered ? model.exchanges[this.cursor] : undefined;
    // A bare key or a secret (which matches any line) is only trusted in the state it was recorded in.
    const specific = (i: number) => !patterns[i]?.blank && !patterns[i]?.hasSecret;
    if (next && (specific(next.index) || next.state === this.state)) tiers.push([next.index]);
    tiers.push(byState.get(this.state) ?? []);
    if (model.acrossStates) tiers.push(withText);
    for (const tier of tiers) {
      let best: Choice | undefined;
      let prefix = false;
      for (const i of tier) {
        const pattern = patterns[i] as InputPattern;
        const match = matchInput(pattern, buffer);
        if (match === 'prefix') prefix = true;
        else if (match) {
          const candidate = { exchange: model.exchanges[i] as Exchange, length: match.length };
          if (!best || this.better(candidate, best)) best = candidate;
        }
      }
      if (best) return best;
      if (prefix && !force) return 'wait';
    }
    return undefined;
  }

  /** Same phase first, then the longer input, then the one that comes soonest after the cursor. */
  private better(a: Choice, b: Choice): boolean {
    const phaseRank = (e: Exchange) => (e.phase === undefined || e.phase === this.phase ? 0 : 1);
    if (phaseRank(a.exchange) !== phaseRank(b.exchange)) {
      return phaseRank(a.exchange) < phaseRank(b.exchange);
    }
    if (a.length !== b.length) return a.length > b.length;
    const n = this.model.exchanges.length;
    const distance = (e: Exchange) => (e.index - this.cursor + n) % n;
    return distance(a.exchange) < distance(b.exchange);
  }

  private async answer(exchange: Exchange): Promise<void> {
    if (this.model.ordered) this.cursor = exchange.index + 1;
    await this.send(exchange.outputs);
    this.namedState = exchange.next;
    this.noteSetup(exchange.input);
    if (exchange.close) this.end(exchange.close);
  }

  private noteSetup(input: string): void {
    const setup = this.compiled.setupInputs;
    if (!setup || this.phase === 'ready') return;
    const key = setupKey(input);
    if (setup.has(key)) this.setupSeen.add(key);
    if (this.setupSeen.size === setup.size) this.phase = 'ready';
  }

  /** Input no recorded input matches: the prompt again, the device's unknown answer, or a replay error. */
  private async answerUnmatched(typed: string): Promise<void> {
    const state = this.state;
    const line = this.screen.line;
    const visible = visibleText(typed);
    const secret = this.model.secretStates.has(state);
    const shown = secret ? '(hidden)' : visible;
    if (visible === '') {
      // Every CLI shows its prompt again on Enter; a lone control key gets the same, but is reported.
      if (typed !== '\n') {
        const input = JSON.stringify(typed).slice(1, -1);
        this.miss({ state: stateKey(line), input, answer: 'prompt', where: this.model.file });
      }
      await this.write(`\r\n${line}`);
      return;
    }
    const unknown = this.unknownAnswer(state);
    if (unknown) {
      this.miss({ state: stateKey(line), input: shown, answer: 'unknown-command', where: unknown.where });
      if (unknown.echo && !secret) await this.write(visible);
      const marker = unknown.inputMarker;
      await this.send(
        marker ? replaceMarker(unknown.outputs, marker, secret ? '' : visible) : unknown.outputs,
      );
      this.namedState = unknown.next;
      if (unknown.close) this.end(unknown.close);
      return;
    }
    const next = this.model.ordered ? this.model.exchanges[this.cursor] : undefined;
    const where = next
      ? `transcript ${next.where} has ${JSON.stringify(normalizeLineEnds(next.input).trimEnd())} next`
      : `transcript ${this.model.file}`;
    this.miss({
      state: stateKey(line),
      input: shown,
      answer: 'replay-error',
      where: next?.where ?? this.model.file,
    });
    const echo = this.model.echoes && !secret ? visible : '';
    await this.write(
      `${echo}\r\n% replay: no recorded answer for ${JSON.stringify(shown)} at ${JSON.stringify(stateKey(line))} (${where})\r\n${line}`,
    );
  }

  private unknownAnswer(state: string): UnknownAnswer | undefined {
    let fallback: UnknownAnswer | undefined;
    for (const answer of this.model.unknownAnswers) {
      if (answer.state !== state) continue;
      if (answer.phase === undefined || answer.phase === this.phase) return answer;
      fallback ??= answer;
    }
    return fallback;
  }

  private miss(miss: Omit<ReplayMiss, 'connection'>): void {
    this.options.onMiss({ connection: this.channel.connection, ...miss });
  }

  private async send(chunks: OutputChunk[]): Promise<void> {
    for (const chunk of chunks) {
      const pause = this.options.speed === 0 ? 0 : Math.min(chunk.delayMs / this.options.speed, MAX_PAUSE_MS);
      if (pause >= 1) await this.sleep(pause);
      if (this.finished || this.channel.closed) return;
      this.screen.feed(chunk.bytes);
      await this.channel.write(chunk.bytes);
    }
  }

  private async write(text: string): Promise<void> {
    if (this.finished || this.channel.closed) return;
    this.screen.feed(text);
    await this.channel.write(Buffer.from(text, 'utf8'));
  }

  private end(close: ChannelClose): void {
    this.dispose();
    this.channel.end(close.exit);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private armWait(): void {
    if (this.waitTimer) return;
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.waitExpired = true;
      this.pump();
    }, this.options.inputWaitMs);
  }

  private clearWait(): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.waitExpired = false;
  }
}

function replaceMarker(chunks: OutputChunk[], marker: string, text: string): OutputChunk[] {
  return chunks.map((c) => ({
    delayMs: c.delayMs,
    bytes: Buffer.from(c.bytes.toString('utf8').split(marker).join(text), 'utf8'),
  }));
}

function toModel(source: ReplaySource): ReplayModel {
  return 'kind' in source && source.kind === 'replay-model'
    ? source
    : modelFromTranscript(source as Transcript, 'transcript');
}

/** Starts a replay server for a transcript or a model; resolves once it listens. */
export async function startReplay(source: ReplaySource, options: ReplayOptions = {}): Promise<ReplayServer> {
  const speed = options.speed ?? 1;
  if (!Number.isFinite(speed) || speed < 0) throw new Error(`speed must be 0 or more, got ${speed}`);
  if ((options.username === undefined) !== (options.password === undefined)) {
    throw new Error('username and password are given together or not at all');
  }
  const compiled = compileModel(toModel(source), options.secrets ?? {});
  const misses: ReplayMiss[] = [];
  const connections = new Set<ReplayConnection>();
  const onError = (error: Error) => options.onError?.(error);
  const connectionOptions: ConnectionOptions = {
    speed,
    inputWaitMs: options.inputWaitMs ?? 1000,
    onMiss(miss) {
      misses.push(miss);
      if (misses.length > MAX_MISSES) misses.shift();
      options.onMiss?.(miss);
    },
    onError,
  };
  const server = await startShellServer({
    host: options.listen?.host,
    port: options.listen?.port,
    hostKeyFile: options.hostKeyFile,
    ...(options.username !== undefined &&
      options.password !== undefined && {
        credentials: { username: options.username, password: options.password },
      }),
    software: 'mcp_ssh_session_replay',
    onError,
    onChannel(channel) {
      const connection = new ReplayConnection(channel, compiled, connectionOptions);
      connections.add(connection);
      channel.onClose(() => connections.delete(connection));
      connection.start();
    },
  });
  return {
    host: server.host,
    port: server.port,
    hostKeyFingerprint: server.hostKeyFingerprint,
    misses: () => [...misses],
    async close() {
      for (const connection of connections) connection.dispose();
      await server.close();
    },
  };
}
