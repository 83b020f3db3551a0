import { createRequire } from 'node:module';
import type { IDisposable, Terminal as XtermTerminal } from '@xterm/headless';

// @xterm/headless ships CommonJS only (its named exports are not visible to Node's ESM loader), and loading
// it takes about 140 ms: it is required when the first screen is made, not when the server starts.
let terminalClass: typeof XtermTerminal | undefined;
function Terminal(): typeof XtermTerminal {
  terminalClass ??= (createRequire(import.meta.url)('@xterm/headless') as { Terminal: typeof XtermTerminal })
    .Terminal;
  return terminalClass;
}

/** What a person would see on the terminal right now. */
export interface ScreenSnapshot {
  /** The visible rows, top to bottom, always `rows` of them; trailing spaces trimmed, colours dropped. */
  lines: string[];
  /** The cursor, 0-based within the visible screen (row 0 is the top line of `lines`). */
  cursor: { row: number; col: number };
  cols: number;
  rows: number;
  /** True while a full-screen program (vim, less, top) has switched to the alternate screen buffer. */
  alternateScreen: boolean;
  /**
   * True when the program asked for application cursor keys (DECCKM, `ESC[?1h`): arrow, Home and End keys
   * must then be sent as `ESC O x` (pass it to `parseKeys` as `applicationCursor`).
   */
  applicationCursor: boolean;
  /** The window title the program last set (OSC 0 or 2), when it set a non-empty one. */
  title?: string;
}

/** Limits on what a mirror may be sized to, so a bad request cannot allocate a huge buffer. */
export const SCREEN_LIMITS = { minCols: 2, maxCols: 1000, minRows: 1, maxRows: 500, maxScrollback: 100_000 };

/** Large writes are cut into pieces this big, so that xterm's parser yields to the event loop between them. */
const WRITE_SLICE = 64 * 1024;
/** Data handed to xterm and not yet parsed, at most (UTF-16 units or bytes); the rest waits in our queue. */
const MAX_IN_FLIGHT = 1024 * 1024;
/**
 * Data waiting in our queue, at most. When output arrives faster than it can be parsed (about 50 MB/s), the
 * oldest waiting data is dropped (counted in `droppedBytes`): the newest output is what the screen shows.
 */
const MAX_QUEUED = 8 * 1024 * 1024;

/** A piece of output, or an action to run once everything before it has been parsed. */
type QueueItem = string | Uint8Array | (() => void);

function checkSize(cols: number, rows: number): void {
  const { minCols, maxCols, minRows, maxRows } = SCREEN_LIMITS;
  if (!Number.isInteger(cols) || cols < minCols || cols > maxCols) {
    throw new RangeError(`cols must be an integer from ${minCols} to ${maxCols}, got ${cols}`);
  }
  if (!Number.isInteger(rows) || rows < minRows || rows > maxRows) {
    throw new RangeError(`rows must be an integer from ${minRows} to ${maxRows}, got ${rows}`);
  }
}

/**
 * A headless terminal emulator (xterm.js) fed with the raw bytes a session's pty sends, so that the screen a
 * full-screen program draws can be read back as text.
 *
 * Writes are parsed asynchronously, in order; `snapshot()` and `resize()` take effect after everything
 * written before them. Memory is bounded: the normal buffer keeps at most `scrollback` lines above the screen,
 * the alternate buffer none, and unparsed output at most about 9 MB (see `droppedBytes`).
 *
 * Terminal queries: a program may ask the terminal something and wait for the answer, e.g. Device Status
 * Report `ESC[6n` (cursor position, answered `ESC[row;colR`), `ESC[5n` (status, `ESC[0n`) or Device
 * Attributes `ESC[c`. The emulator produces these answers; they are passed to the callbacks given to
 * `onReply`, and the session should write them to the channel, as a real terminal would. Without a
 * listener they are dropped.
 */
export class ScreenMirror {
  private readonly term: XtermTerminal;
  private readonly subscriptions: IDisposable[] = [];
  private readonly replyListeners = new Set<(reply: string) => void>();
  private readonly waiters = new Set<(error?: Error) => void>();
  private title = '';
  /** Not yet handed to xterm: items from `queueHead` on (an index, as shift() is O(n)). */
  private queue: QueueItem[] = [];
  private queueHead = 0;
  private queued = 0;
  private inFlight = 0;
  private dropped = 0;
  private disposed = false;

  constructor(cols = 120, rows = 40, scrollback = 1000) {
    checkSize(cols, rows);
    if (!Number.isInteger(scrollback) || scrollback < 0 || scrollback > SCREEN_LIMITS.maxScrollback) {
      throw new RangeError(`scrollback must be an integer from 0 to ${SCREEN_LIMITS.maxScrollback}`);
    }
    // `buffer`, which the snapshot reads, is proposed API in xterm 6: without the flag it throws.
    this.term = new (Terminal())({ cols, rows, scrollback, allowProposedApi: true, logLevel: 'off' });
    this.subscriptions.push(
      this.term.onTitleChange((title) => {
        this.title = title;
      }),
      // onData carries what the terminal "types": with no keyboard attached, only answers to queries.
      this.term.onData((reply) => this.emitReply(reply)),
      // onBinary: mouse reports in a non-UTF-8 encoding; we never send mouse events, but pass them on as bytes.
      this.term.onBinary((reply) => this.emitReply(reply)),
    );
  }

  /** Raw terminal output as received (escape codes included); a Uint8Array is decoded as UTF-8 across calls. */
  write(data: string | Uint8Array): void {
    if (this.disposed || data.length === 0) return;
    for (let start = 0; start < data.length; start += WRITE_SLICE) {
      // Cutting is safe: xterm's decoders keep a split UTF-8 sequence or surrogate pair for the next piece.
      const piece =
        typeof data === 'string'
          ? data.slice(start, start + WRITE_SLICE)
          : data.subarray(start, start + WRITE_SLICE);
      this.queue.push(piece);
      this.queued += piece.length;
    }
    if (this.queued > MAX_QUEUED) this.dropOldest();
    this.pump();
  }

  /** Resize the screen, after the output written so far has been drawn at the old size (as on a real terminal). */
  resize(cols: number, rows: number): void {
    checkSize(cols, rows);
    if (this.disposed) return;
    this.queue.push(() => {
      if (!this.disposed) this.term.resize(cols, rows);
    });
    this.pump();
  }

  /** The screen once everything written before this call has been parsed. Rejects if disposed meanwhile. */
  snapshot(): Promise<ScreenSnapshot> {
    if (this.disposed) return Promise.reject(new Error('screen mirror disposed'));
    return new Promise<ScreenSnapshot>((resolve, reject) => {
      const waiter = (error?: Error) => {
        if (!this.waiters.delete(waiter)) return;
        if (error) return reject(error);
        // Read now, inside xterm's write loop: it goes on parsing later writes before a promise callback runs.
        try {
          resolve(this.read());
        } catch (readError) {
          reject(readError);
        }
      };
      this.waiters.add(waiter);
      this.queue.push(() => waiter());
      this.pump();
    });
  }

  /** Call `listener` with each answer the terminal gives to a query (write it back to the program). */
  onReply(listener: (reply: string) => void): () => void {
    this.replyListeners.add(listener);
    return () => {
      this.replyListeners.delete(listener);
    };
  }

  /** Output thrown away unparsed because it came faster than it could be parsed (0 in any normal use). */
  get droppedBytes(): number {
    return this.dropped;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const sub of this.subscriptions) sub.dispose();
    this.replyListeners.clear();
    const error = new Error('screen mirror disposed');
    for (const waiter of this.waiters) waiter(error);
    this.waiters.clear();
    this.queue = [];
    this.queueHead = 0;
    this.queued = 0;
    this.term.dispose();
  }

  private emitReply(reply: string): void {
    for (const listener of this.replyListeners) {
      try {
        listener(reply);
      } catch {
        // A failing listener must not break parsing (it runs inside xterm's write loop).
      }
    }
  }

  /** Hand queued items to xterm while less than MAX_IN_FLIGHT of it is unparsed; called again as it parses. */
  private pump(): void {
    while (!this.disposed && this.inFlight < MAX_IN_FLIGHT) {
      const item = this.nextOutput();
      if (item === undefined) break;
      this.inFlight += item.length;
      this.term.write(item, () => {
        this.inFlight -= item.length;
        this.pump();
      });
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /**
   * Drop the oldest queued output until the queue is within MAX_QUEUED. A queued action met on the way goes to
   * xterm at once: all the output before it is now either handed over already or dropped.
   */
  private dropOldest(): void {
    while (this.queued > MAX_QUEUED) {
      const item = this.nextOutput();
      if (item === undefined) break;
      this.dropped += typeof item === 'string' ? Buffer.byteLength(item) : item.length;
    }
  }

  /**
   * Takes the oldest queued output off the queue (undefined when none is left). A queued action met on the
   * way goes to xterm at once: xterm runs write callbacks in write order, once the data before them is parsed.
   */
  private nextOutput(): string | Uint8Array | undefined {
    while (this.queueHead < this.queue.length) {
      const item = this.queue[this.queueHead] as QueueItem;
      this.queue[this.queueHead] = '';
      this.queueHead++;
      if (typeof item !== 'function') {
        this.queued -= item.length;
        return item;
      }
      this.term.write('', item);
    }
    return undefined;
  }

  private read(): ScreenSnapshot {
    const { cols, rows } = this.term;
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < rows; y++) {
      lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
    }
    const snapshot: ScreenSnapshot = {
      lines,
      // After writing the last column xterm parks the cursor at x === cols (wrap pending); it shows in the last.
      cursor: { row: buffer.cursorY, col: Math.min(buffer.cursorX, cols - 1) },
      cols,
      rows,
      alternateScreen: buffer.type === 'alternate',
      applicationCursor: this.term.modes.applicationCursorKeysMode,
    };
    if (this.title) snapshot.title = this.title;
    return snapshot;
  }
}
