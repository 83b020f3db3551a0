import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { RunnerTrace } from '../expect/runner.js';
import { log } from '../util/log.js';
import { redact, redactBytes, StreamRedactor } from '../util/secrets.js';
import {
  eventLine,
  headerText,
  secretPlaceholder,
  type TranscriptEvent,
  type TranscriptHeader,
  type TranscriptResult,
} from './format.js';

const REPLACEMENT_CHARACTER = Buffer.from('\uFFFD');
/** Output arriving within this many seconds is one event. */
const COALESCE_S = 0.02;

/** File names for one session's transcripts: `base`, then `base` with -2, -3 ... before its extension. */
export function transcriptFiles(base: string): () => string {
  let n = 0;
  return () => {
    n++;
    if (n === 1) return base;
    const ext = path.extname(base);
    return `${base.slice(0, base.length - ext.length)}-${n}${ext}`;
  };
}

/**
 * Writes one shell session as a transcript, event by event, so a session cut short still leaves a
 * readable file. Secrets never reach the disk: a secret the runner types is written as its placeholder,
 * and any registered secret in either direction is replaced by `{{secret:NAME}}` before writing (also one
 * split across two reads). The file is created 0600 in a folder made 0700.
 */
export class TranscriptRecorder {
  private fd: number | undefined;
  private readonly t0 = performance.now();
  private readonly outDecoder = new StringDecoder('utf8');
  private readonly outRedactor = new StreamRedactor(secretPlaceholder);
  /** Output not yet written, and when its first byte came. */
  private pendingOut = '';
  private pendingSince: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** The file written now, once anything was; every file written, in order. */
  file: string | undefined;
  readonly files: string[] = [];
  /** Why the recording stopped early (a file that exists, a full disk), if it did. */
  error: string | undefined;
  /** Resolves once the recorded channel closed, or close() was called. */
  readonly finished: Promise<void>;
  private finish!: () => void;

  /** `nextFile` names each file: a session that opens a second channel (or shell) goes on in a new one. */
  constructor(
    private readonly nextFile: () => string,
    private readonly header: Omit<TranscriptHeader, 'transcript' | 'channel'> & {
      channel?: TranscriptHeader['channel'];
    },
  ) {
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  /** A new channel: written to a new file (the one before, if any, is complete). */
  opened(channel: NonNullable<TranscriptHeader['channel']>): void {
    this.endFile();
    this.header.channel = channel;
  }

  sent(data: string, secret?: string): void {
    if (secret === undefined) {
      // One write is one thing typed: masked whole.
      this.write({ in: redact(data, secretPlaceholder) });
      return;
    }
    // The runner typed a secret followed by a line ending: keep the line ending, not the secret.
    const ending = /\r?\n?$/.exec(data)?.[0] ?? '';
    this.write({ in: secretPlaceholder(secret) + ending });
  }

  received(chunk: Buffer): void {
    const text = this.outDecoder.write(chunk);
    // Bytes that are not UTF-8 (a Latin-1 banner) are kept as they are, base64, rather than mangled.
    if (text.includes('\uFFFD') && !chunk.includes(REPLACEMENT_CHARACTER)) {
      this.outDecoder.end();
      this.write({ out_b64: redactBytes(chunk, secretPlaceholder).toString('base64') });
      return;
    }
    this.pendingOut += this.outRedactor.push(text);
    this.pendingSince ??= this.now();
    // What arrives within a short spell is one event: a device that echoes key by key is still readable.
    if (this.now() - this.pendingSince >= COALESCE_S) this.flushOut();
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flushOut(true), COALESCE_S * 1000);
    this.flushTimer.unref();
  }

  closed(exitCode: number | null): void {
    this.write({ close: { exit: exitCode } });
    this.endFile();
    this.finish();
  }

  trace(event: RunnerTrace): void {
    if (event.type === 'mode') this.write({ mode: event.mode });
  }

  dialect(name: string): void {
    if (this.fd === undefined) this.header.dialect = name;
    else this.write({ dialect: name });
  }

  command(command: string, enter: string | undefined): void {
    this.write({ command: redact(command, secretPlaceholder), ...(enter && { enter }) });
  }

  /** `output` is left out by the caller when it is long: its bytes are in the `out` events anyway. */
  result(result: TranscriptResult): void {
    const output = result.output === undefined ? undefined : redact(result.output, secretPlaceholder);
    this.write({ result: { ...result, ...(output !== undefined && { output }) } });
  }

  close(): void {
    this.endFile();
    this.stopped = true;
    this.finish();
  }

  private endFile(): void {
    if (this.fd === undefined) return;
    this.flushOut(true);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Output gathered so far becomes an event; `all` also releases what is held back for secrets. */
  private flushOut(all = false): void {
    clearTimeout(this.flushTimer);
    if (all) this.pendingOut += this.outRedactor.flush();
    const text = this.pendingOut;
    this.pendingOut = '';
    if (text) this.append({ out: text }, this.pendingSince);
    this.pendingSince = undefined;
  }

  private now(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /**
   * Any event but output. What the device sent before it is written first (it is what was answered), so
   * the file is in order and times only go forward.
   */
  private write(event: TranscriptEvent): void {
    this.flushOut(true);
    this.append(event, this.now());
  }

  private append(event: TranscriptEvent, at = this.now()): void {
    if (this.stopped) return;
    try {
      if (this.fd === undefined) {
        this.file = this.nextFile();
        this.files.push(this.file);
        mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
        this.fd = openSync(this.file, 'wx', 0o600);
        writeSync(this.fd, headerText({ recorded: new Date().toISOString(), ...this.header }));
      }
      writeSync(this.fd, eventLine({ t: Math.round(at * 1000) / 1000, ...event } as TranscriptEvent));
    } catch (error) {
      // A full disk or a bad folder stops the recording, not the session.
      this.error = `${this.file}: ${(error as Error).message}; recording stopped`;
      log.warn(`transcript ${this.error}`);
      this.stopped = true;
    }
  }
}
