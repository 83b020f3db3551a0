import { outBytes, type Transcript, TranscriptError } from './format.js';
import { compileInput, normalizeLineEnds } from './replay-input.js';
import { ScreenLine, stateKey } from './screen-line.js';

/**
 * What a replay server serves, whatever file it came from: the output a session opens with, then
 * exchanges (one input and the device's answer to it), each tied to the state the device was in (the
 * prompt or question it showed: `csr1000v#`, `Password:`, ` --More-- `).
 */

export interface OutputChunk {
  /** Pause before this chunk, as recorded (milliseconds). */
  delayMs: number;
  bytes: Buffer;
}

export interface ChannelClose {
  /** The exit status to send; none when null. */
  exit: number | null;
}

/**
 * Sessions of some devices have two phases: while the client is still setting the session up (paging
 * off, width) and after. A recording made of both keeps apart what the device answered in each.
 */
export type ReplayPhase = 'setup' | 'ready';

export interface Exchange {
  /** Position in recorded order. */
  index: number;
  /** The input as recorded: `{{secret:NAME}}` placeholders, any line ending. */
  input: string;
  /** State key (see stateKey) the device was in when the input came. */
  state: string;
  outputs: OutputChunk[];
  /** The device closed the channel after these outputs. */
  close?: ChannelClose;
  /** The state after, when the source says so; otherwise it is read from the screen. */
  next?: string;
  /** Recorded as the device's answer to a command it does not know. */
  unknown: boolean;
  phase?: ReplayPhase;
  /** Where it is written ("file:line"), for messages. */
  where: string;
}

/** The device's answer to input it does not know, in one state. */
export interface UnknownAnswer {
  state: string;
  phase?: ReplayPhase;
  /** The device echoes input first: the client's own input is echoed, then `outputs`. */
  echo: boolean;
  /** Output after the echo. */
  outputs: OutputChunk[];
  /** Text in `outputs` that stands for the input (the source recorded a placeholder input). */
  inputMarker?: string;
  close?: ChannelClose;
  next?: string;
  where: string;
}

export interface ReplayModel {
  kind: 'replay-model';
  /** The file it came from, for messages. */
  file: string;
  /** Output before any input: a banner, the first prompt; or all of a recorded exec. */
  initial: OutputChunk[];
  initialClose?: ChannelClose;
  /** The state after the initial output, when the source says so (else read from the screen). */
  initialState?: string;
  exchanges: Exchange[];
  unknownAnswers: UnknownAnswer[];
  /** Exchanges happened in this order (a recording); prefer the next one in order. */
  ordered: boolean;
  /** An input known in another state may be answered as it was there when nothing else fits. */
  acrossStates: boolean;
  /** States where the device acts on single keys (a pager): any key is a whole input there. */
  singleKeyStates: Set<string>;
  /** States where the device asks for a secret: what the client types there is never shown or logged. */
  secretStates: Set<string>;
  /** The device echoes what it is sent (decided from the recording). */
  echoes: boolean;
  /** Present when the source has phases: the inputs that finish setting up. */
  setupInputs?: string[];
  /** The recording was of one exec command: this one. */
  execCommand?: string;
}

/** Drops the first `count` bytes from the chunks (the device's echo of an input). */
export function dropLeadingBytes(chunks: OutputChunk[], count: number): OutputChunk[] {
  const out: OutputChunk[] = [];
  let left = count;
  let carriedDelay = 0;
  for (const chunk of chunks) {
    if (left >= chunk.bytes.length) {
      left -= chunk.bytes.length;
      carriedDelay += chunk.delayMs;
      continue;
    }
    out.push({ delayMs: carriedDelay + chunk.delayMs, bytes: chunk.bytes.subarray(left) });
    left = 0;
    carriedDelay = 0;
  }
  return out;
}

const textOf = (chunks: OutputChunk[]) => Buffer.concat(chunks.map((c) => c.bytes)).toString('utf8');

/** Bytes of the echo the outputs start with: the input's first line as the device showed it back. */
export function echoLength(input: string, outputs: OutputChunk[]): number {
  const firstLine = normalizeLineEnds(input).split('\n')[0] ?? '';
  if (firstLine === '' || compileInput(input).hasSecret) return 0;
  return textOf(outputs).startsWith(firstLine) ? Buffer.byteLength(firstLine) : 0;
}

/** Locates event `i` of the file ("file:line:col"), when the caller can. */
export type EventLocator = (eventIndex: number) => string;

/**
 * Builds the model of a parsed transcript. Exchanges are each `in` event with the output that follows
 * it up to the next `in`; their state is the last line the device had shown before the input.
 */
export function modelFromTranscript(
  transcript: Transcript,
  file: string,
  locate: EventLocator = (i) => `${file}: events[${i}]`,
): ReplayModel {
  const screen = new ScreenLine();
  const initial: OutputChunk[] = [];
  const exchanges: Exchange[] = [];
  let initialClose: ChannelClose | undefined;
  let current: Exchange | undefined;
  let underUnknownCommand = false;
  let lastT = 0;

  transcript.events.forEach((event, i) => {
    const gapMs = event.t === undefined ? 0 : Math.max(0, (event.t - lastT) * 1000);
    if (event.t !== undefined) lastT = event.t;
    const bytes = outBytes(event);
    if (bytes) {
      (current ? current.outputs : initial).push({ delayMs: gapMs, bytes });
      screen.feed(bytes);
    } else if ('in' in event) {
      if (event.in === '') {
        throw new TranscriptError(
          `${locate(i)}: events.${i}.in: an empty input cannot be replayed; delete the event`,
        );
      }
      current = {
        index: exchanges.length,
        input: event.in,
        state: stateKey(screen.line),
        outputs: [],
        unknown: underUnknownCommand,
        where: locate(i).replace(/:(\d+):\d+$/, ':$1'),
      };
      exchanges.push(current);
    } else if ('command' in event) {
      underUnknownCommand = event.unknown === true;
    } else if ('result' in event) {
      underUnknownCommand = false;
    } else if ('close' in event) {
      const close = { exit: event.close.exit ?? null };
      if (current) current.close ??= close;
      else initialClose ??= close;
    }
    // mode, dialect, resize and note events say what happened; they send nothing.
  });

  const unknownAnswers: UnknownAnswer[] = exchanges
    .filter((e) => e.unknown)
    .map((e) => {
      const echo = echoLength(e.input, e.outputs);
      return {
        state: e.state,
        echo: echo > 0,
        outputs: dropLeadingBytes(e.outputs, echo),
        ...(e.close && { close: e.close }),
        where: e.where,
      };
    });

  // Echo is decided from commands typed in full: a secret is not echoed, a single key may not be.
  const typed = exchanges.filter((e) => {
    const p = compileInput(e.input);
    return p.lineEnded && !p.blank && !p.hasSecret;
  });
  const echoing = typed.filter((e) => echoLength(e.input, e.outputs) > 0).length;

  const singleKeyStates = new Set<string>();
  const secretStates = new Set<string>();
  for (const e of exchanges) {
    const p = compileInput(e.input);
    if (p.hasSecret) secretStates.add(e.state);
    if (!p.lineEnded && [...normalizeLineEnds(e.input)].length === 1) singleKeyStates.add(e.state);
  }

  return {
    kind: 'replay-model',
    file,
    initial,
    ...(initialClose && { initialClose }),
    exchanges,
    unknownAnswers,
    ordered: true,
    acrossStates: true,
    singleKeyStates,
    secretStates,
    echoes: typed.length === 0 || echoing * 2 >= typed.length,
    ...(transcript.channel.type === 'exec' && { execCommand: transcript.channel.command ?? '' }),
  };
}
