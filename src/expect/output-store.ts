import { rmSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamRedactor } from '../util/secrets.js';
import type { CapturedOutput } from './output.js';

export interface OutputStoreOptions {
  /** Head plus tail kept in memory, e.g. 10 MiB: the head gets the first half, the tail the rest. */
  memoryBytes: number;
  /** Most bytes of the middle written to the spill file, e.g. 1 GiB; 0 = no file, the middle is dropped. */
  spillBytes: number;
  /** Where the private spill folder is made; default os.tmpdir(). */
  spillDir?: string;
  /** Most bytes waiting to be written to the spill file; past it the middle is dropped. Default 4 MiB. */
  writeQueueBytes?: number;
  /** Size of the memory pieces the tail rolls by (tuning and tests). Default memoryBytes/64, 64 B..256 KiB. */
  chunkBytes?: number;
  /**
   * Mask known secrets (default true). False for output the process only matches patterns against and
   * never shows (the runner's own steps: prompt learning, on_open captures, detection probes).
   */
  redact?: boolean;
}

/** One page of output: `output` is the stream's bytes [offset, nextOffset), less `gap` if there is one. */
export interface OutputPage {
  output: string;
  /** Where the page starts: the offset asked for, moved up to a character start, and to totalBytes at most. */
  offset: number;
  /** Where the next page starts. */
  nextOffset: number;
  /** Bytes pushed so far (the output may still be growing). */
  totalBytes: number;
  /**
   * Bytes that were dropped (past spillBytes, or while the disk lagged) and are not in `output`. A gap always
   * starts the page (`gap.from === offset`); `output` is what follows it. A page holds at most one gap.
   */
  gap?: { from: number; to: number };
  /** nextOffset === totalBytes: everything pushed so far has been read. */
  complete: boolean;
}

export interface OutputStoreStats {
  /** Bytes of buffers held in memory now: head, tail and write queue. */
  memoryBytes: number;
  /** Bytes waiting to be written to the spill file. */
  queuedBytes: number;
  /** Bytes in the spill file. */
  spilledBytes: number;
  /** Bytes of the middle that were dropped. */
  droppedBytes: number;
  /** Why spilling stopped, if the spill file could not be created or written. */
  spillError?: string;
}

interface TailChunk {
  buf: Buffer;
  /** Stream position of buf[0]. */
  from: number;
  len: number;
  /** Nothing more goes in: full, or the next character did not fit. */
  sealed: boolean;
}

/** A stream offset and the line feeds before it (see lineMarks()). */
export interface LineMark {
  offset: number;
  newlines: number;
}

/** A line mark at most this often: a line view reads at most this much to count its way to a line. */
const LINE_MARK_BYTES = 1024 * 1024;

/** A range of the middle. Ranges are contiguous, in stream order, and start and end on character starts. */
interface Piece {
  kind: 'queued' | 'file' | 'dropped';
  from: number;
  to: number;
  /** queued: the bytes. */
  buf?: Buffer;
  /** queued: the tail chunk `buf` is part of, reused once written (see takeChunk). */
  chunk?: Buffer;
  /** file: where `from` is in the spill file. */
  at: number;
}

/** A part of a page: bytes in memory, or a range of the spill file. */
type Part = { buf: Buffer } | { at: number; len: number };

const KIB = 1024;
const DEFAULT_WRITE_QUEUE = 4 * KIB * KIB;
/** Largest memory piece: 256 KiB. */
const MMAP_CHUNK = 256 * KIB;
/** A finished output's only head chunk is cut to its bytes when this much of it is unused. */
const TRIM_SLACK = KIB;
/**
 * Tail chunks, reused across outputs. Every byte of a large output passes through them on its way to the
 * spill file; fresh ones each time left the C allocator's heap fragmented (ten 10 MB outputs kept 60-70 MB
 * resident after they were gone), reused ones keep it flat.
 */
const chunkPool = new Map<number, Buffer[]>();
const CHUNK_POOL_MAX = 8 * KIB * KIB;
let pooledBytes = 0;

function takeChunk(size: number): Buffer {
  const chunk = chunkPool.get(size)?.pop();
  if (!chunk) return Buffer.allocUnsafeSlow(size);
  pooledBytes -= size;
  return chunk;
}

function giveChunk(chunk: Buffer): void {
  // Only chunks takeChunk made (their own memory): a trimmed head's copy (a slice of Node's shared 8 KiB
  // pool) is of a size nobody takes, and would fill the pool's budget for good.
  if (chunk.byteOffset !== 0 || chunk.length !== chunk.buffer.byteLength) return;
  if (pooledBytes + chunk.length > CHUNK_POOL_MAX) return;
  const list = chunkPool.get(chunk.length);
  if (list) list.push(chunk);
  else chunkPool.set(chunk.length, [chunk]);
  pooledBytes += chunk.length;
}
/** The sizes of the chunks in the pool (tests). */
export function chunkPoolSizes(): number[] {
  return [...chunkPool].filter(([, list]) => list.length > 0).map(([size]) => size);
}
/** One write to the spill file takes at most this much, in at most this many buffers. */
const WRITE_BATCH = 4 * KIB * KIB;
const WRITE_BUFFERS = 512;
/** Stands in for a tail chunk that rolled into the middle. */
const EVICTED: TailChunk = { buf: Buffer.alloc(0), from: -1, len: 0, sealed: true };

const isContinuation = (byte: number | undefined): boolean => byte !== undefined && (byte & 0xc0) === 0x80;

/** The largest cut <= `at` in `data` that does not split a character (data starts on a character). */
function charCut(data: Buffer, at: number): number {
  let cut = Math.min(at, data.length);
  while (cut > 0 && isContinuation(data[cut])) cut--;
  return cut;
}

const UTF8 = new TextEncoder();

/** Spill folders of live stores, removed on process exit (signals in cli.ts end with process.exit). */
const liveDirs = new Set<string>();
let exitHookInstalled = false;

/**
 * Deletes every spill folder now, at the start of a shutdown: a client gives a server a few seconds
 * before it kills it (the SDK's stdio client: 2 s after stdin closes, 2 more after SIGTERM), and closing
 * a thousand stores one by one can take longer. An open spill file stays usable until it is closed.
 */
export function removeSpillFolders(): void {
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort, as at exit
    }
  }
  liveDirs.clear();
}

function trackDir(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', removeSpillFolders);
}

/**
 * A command's cleaned output, pageable by UTF-8 byte offset from start to end however long it grows, in
 * bounded memory.
 *
 * The stream is laid out in three parts:
 *
 *   [ head: memory ][ middle: spill file | write queue | dropped ][ tail: memory, rolling ]
 *
 * The head keeps the first half of `memoryBytes`, the tail the last half. Tail pieces that roll out of the
 * tail window become the middle, in stream order: they are queued and appended to a temporary file (created
 * on first need, mode 0600 in a private mkdtemp folder) until `spillBytes` of them are written, and dropped
 * after that. Every dropped byte is accounted for: a read says exactly which range is missing.
 *
 * Back-pressure: push() is synchronous (it is called for every chunk from the device) and the file is written
 * asynchronously, one write at a time, in order. The bytes waiting to be written are bounded by
 * `writeQueueBytes`; when the disk falls that far behind, the middle is dropped (an exact gap) until the
 * queue has drained, rather than letting memory grow. Queued bytes are readable from memory meanwhile.
 *
 * Memory held between pushes: at most `memoryBytes` + two chunks (the tail rolls by whole chunks) +
 * `writeQueueBytes`; during a push, also that piece's UTF-8 copy; during a read, the page's buffer.
 * Bookkeeping for the middle is one small record per run of spilled or dropped bytes (runs alternate only
 * when the disk lags), so it stays small.
 *
 * Pieces are encoded to UTF-8 one by one: a piece should not end between
 * the two halves of a surrogate pair (text from a TextDecoder or StringDecoder never does). Lone surrogates
 * count as U+FFFD (3 bytes), as Buffer.byteLength counts them.
 */
export class OutputStore {
  private readonly headCap: number;
  private readonly tailCap: number;
  private readonly spillCap: number;
  private readonly queueCap: number;
  private readonly chunkSize: number;
  /** Undefined: os.tmpdir() when the file is made (it reads the environment: 16 us, too slow per command). */
  private readonly spillDir: string | undefined;

  private total = 0;
  private newlines = 0;
  private endsWithNewline = false;
  private readonly marks: LineMark[] = [{ offset: 0, newlines: 0 }];
  /** Head bytes [0, headLen) in fixed-size chunks; headFull once the stream went past headCap. */
  private readonly head: Buffer[] = [];
  private headLen = 0;
  private headFull = false;
  /** Tail chunks from tailFront on; earlier slots have rolled into the middle. */
  private tail: TailChunk[] = [];
  private tailFront = 0;
  /** Middle pieces; from pendingStart on, the first is queued (the ones before are settled). */
  private middle: Piece[] = [];
  private pendingStart = 0;

  private allocated = 0;
  private queuedBytes = 0;
  /** Producers waiting for the spill queue to drain (see backlog()). */
  private drainWaiters: (() => void)[] = [];
  private spilledBytes = 0;
  private droppedBytes = 0;
  /** The queue overflowed: drop until it has drained. */
  private throttled = false;
  private spillError?: string;

  private dir?: string;
  private fh?: FileHandle;
  /** Archived (see archive()): where the head and the tail are in the spill file, and where the tail starts. */
  private headAt?: number;
  /**
   * The ends as finish() last decoded them, while somebody still holds them (the runner's outcome on its way
   * to the tool's result): the result reuses them instead of decoding the output a second time, and the store
   * keeps no copy of its own (a weak reference).
   */
  private lastCapture?: WeakRef<CapturedOutput>;
  private tailAt?: number;
  private tailFrom = 0;
  private archiving?: Promise<void>;
  private readonly redactor: StreamRedactor | undefined;
  private writing?: Promise<void>;
  private readonly reads = new Set<Promise<unknown>>();
  private disposed = false;
  private disposing?: Promise<void>;

  constructor(options: OutputStoreOptions) {
    const { memoryBytes, spillBytes } = options;
    if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 0) {
      throw new RangeError('memoryBytes: integer >= 0');
    }
    if (!Number.isSafeInteger(spillBytes) || spillBytes < 0) {
      throw new RangeError('spillBytes: integer >= 0');
    }
    this.headCap = Math.ceil(memoryBytes / 2);
    this.tailCap = Math.floor(memoryBytes / 2);
    this.spillCap = spillBytes;
    this.chunkSize = Math.max(
      16,
      Math.floor(options.chunkBytes ?? Math.min(MMAP_CHUNK, Math.max(64, Math.ceil(memoryBytes / 64)))),
    );
    this.queueCap = Math.max(this.chunkSize, options.writeQueueBytes ?? DEFAULT_WRITE_QUEUE);
    this.spillDir = options.spillDir;
    this.redactor = options.redact === false ? undefined : new StreamRedactor();
  }

  /** UTF-8 bytes pushed so far. */
  get totalBytes(): number {
    return this.total;
  }

  /**
   * Line feeds pushed so far, with totalBytes at the same moment (read both in one go: they move together),
   * and whether the output ends with one. Counted as the text arrives, so they hold for the parts that
   * were not kept too.
   */
  get lineCount(): { bytes: number; newlines: number; endsWithNewline: boolean } {
    return { bytes: this.total, newlines: this.newlines, endsWithNewline: this.endsWithNewline };
  }

  /**
   * Where lines are, roughly: stream offsets (ascending, the first 0) with the line feeds before each, about
   * LINE_MARK_BYTES apart. A line view counts from the nearest mark instead of from the start.
   */
  lineMarks(): readonly LineMark[] {
    return this.marks;
  }

  private countLines(text: string): void {
    const last = this.marks[this.marks.length - 1] as LineMark;
    if (this.total - last.offset >= LINE_MARK_BYTES)
      this.marks.push({ offset: this.total, newlines: this.newlines });
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.newlines++;
    this.endsWithNewline = text.endsWith('\n');
  }

  get stats(): OutputStoreStats {
    return {
      memoryBytes: this.allocated + this.queuedBytes,
      queuedBytes: this.queuedBytes,
      spilledBytes: this.spilledBytes,
      droppedBytes: this.droppedBytes,
      ...(this.spillError === undefined ? {} : { spillError: this.spillError }),
    };
  }

  /**
   * Cleaned text as it arrives, in pieces of any size. Known secrets are masked (unless `redact: false`) before anything is kept,
   * in memory or in the spill file (also one split across two pieces: the possible start of a secret is
   * held back until the next piece or finish()). Still counted (not spilled) after dispose().
   */
  push(piece: string): void {
    this.store(this.redactor ? this.redactor.push(piece) : piece);
  }

  private store(text: string): void {
    if (text.length === 0) return;
    this.lastCapture = undefined;
    this.countLines(text);
    if (this.headFull) {
      this.total += this.encodeTail(text);
      this.rollTail();
      return;
    }
    const n = Buffer.byteLength(text);
    this.total += n;
    if (this.headLen + n <= this.headCap) {
      this.writeHead(text, n);
      return;
    }
    // Once per output: the piece that fills the head.
    const data = Buffer.from(text, 'utf8');
    const cut = charCut(data, this.headCap - this.headLen);
    this.copyHead(data.subarray(0, cut));
    this.headFull = true;
    this.appendTail(data.subarray(cut));
    this.rollTail();
  }

  /**
   * Text straight into the tail's chunks (no intermediate buffer: every byte of a large output passes
   * here, and short-lived copies are what keeps the allocator's heap from shrinking). Returns the bytes.
   */
  private encodeTail(text: string): number {
    let bytes = 0;
    let rest = text;
    while (rest.length > 0) {
      const last = this.openTailChunk();
      const { read, written } = UTF8.encodeInto(rest, last.buf.subarray(last.len));
      last.len += written;
      bytes += written;
      if (read === rest.length) break;
      // The next character does not fit whole: chunks end on character boundaries.
      last.sealed = true;
      rest = rest.slice(read);
    }
    return bytes;
  }

  /** The last tail chunk if it takes more, else a new one. */
  private openTailChunk(): TailChunk {
    const last = this.tail[this.tail.length - 1];
    if (last && !last.sealed) return last;
    const from = last ? last.from + last.len : this.headLen;
    const chunk = { buf: takeChunk(this.chunkSize), from, len: 0, sealed: false };
    this.tail.push(chunk);
    this.allocated += this.chunkSize;
    return chunk;
  }

  /**
   * Up to `maxBytes` (>= 4, the longest UTF-8 character) of output from byte `offset`. A page never splits a
   * character: an offset inside one is moved up to the next character start, and the page ends before a
   * character that does not fit whole. An offset past the end reads from the end (an empty page). Works
   * while output is still being pushed, and after finish(); rejects after dispose().
   */
  read(offset: number, maxBytes: number): Promise<OutputPage> {
    if (this.disposed) return Promise.reject(new Error('output store disposed'));
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return Promise.reject(new RangeError('offset: integer >= 0'));
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 4) {
      return Promise.reject(new RangeError('maxBytes: integer >= 4'));
    }
    const page = this.readPage(offset, maxBytes);
    this.reads.add(page);
    const untrack = () => this.reads.delete(page);
    page.then(untrack, untrack);
    return page;
  }

  /** Head and tail (each at most half of memoryBytes, in UTF-8 bytes), and how many bytes fell between them. */
  finish(): CapturedOutput {
    if (this.headAt !== undefined) throw new Error('output store: archived; use capture()');
    this.store(this.redactor?.flush() ?? '');
    this.trimHead();
    const seen = this.lastCapture?.deref();
    if (seen) return seen;
    const captured = this.decodeEnds();
    this.lastCapture = new WeakRef(captured);
    return captured;
  }

  /**
   * A short output keeps its bytes, not the chunk they were written into (16 KiB for `hi` at the default
   * 1 MB per command): the server keeps thousands of finished outputs (a fan-out adds one per host), and
   * the chunk goes back to the pool for the next command. More text after all regrows it (headChunk).
   */
  private trimHead(): void {
    const chunk = this.head[0];
    if (this.head.length !== 1 || !chunk || chunk.length - this.headLen < TRIM_SLACK) return;
    this.head[0] = Buffer.from(chunk.subarray(0, this.headLen));
    this.allocated -= chunk.length - this.headLen;
    this.recycle(chunk);
  }

  private decodeEnds(): CapturedOutput {
    if (!this.headFull) {
      return { head: this.headText(), tail: '', omittedBytes: 0, totalBytes: this.total };
    }
    const head = this.headText();
    const from = this.total - this.tailCap;
    const parts: Buffer[] = [];
    for (let i = this.tailFront; i < this.tail.length; i++) {
      const c = this.tail[i] as TailChunk;
      if (c.from + c.len <= from) continue;
      let bytes = c.buf.subarray(Math.max(0, from - c.from), c.len);
      if (parts.length === 0) {
        // Up to a character start (chunks start on one, so this stays in the chunk).
        let skip = 0;
        while (isContinuation(bytes[skip])) skip++;
        bytes = bytes.subarray(skip);
      }
      parts.push(bytes);
    }
    const tail = Buffer.concat(parts);
    return {
      head,
      tail: tail.toString('utf8'),
      omittedBytes: this.total - this.headLen - tail.length,
      totalBytes: this.total,
    };
  }

  /**
   * Head and tail as finish() gives them, also after archive() (read back from the file). For readers that
   * need the ends of a finished output; nothing is kept.
   */
  async capture(): Promise<CapturedOutput> {
    if (this.headAt === undefined) return this.finish();
    const seen = this.lastCapture?.deref();
    if (seen) return seen;
    const head = this.headLen > 0 ? (await this.read(0, Math.max(4, this.headLen))).output : '';
    if (!this.headFull) return { head, tail: '', omittedBytes: 0, totalBytes: this.total };
    const from = Math.max(this.headLen, this.total - this.tailCap);
    const tail = (await this.read(from, Math.max(4, this.total - from))).output;
    const kept = Buffer.byteLength(head) + Buffer.byteLength(tail);
    return { head, tail, omittedBytes: this.total - kept, totalBytes: this.total };
  }

  /** Whether archive() has moved the output to the spill file. */
  get archived(): boolean {
    return this.headAt !== undefined;
  }

  /**
   * For a finished output: move the head and tail to the spill file, so the whole output stays pageable
   * at almost no memory. On a write error it stays in memory (and says why in stats.spillError).
   */
  archive(): Promise<void> {
    this.archiving ??= this.moveToFile();
    return this.archiving;
  }

  private async moveToFile(): Promise<void> {
    if (this.disposed) return;
    this.store(this.redactor?.flush() ?? '');
    await this.flush();
    try {
      const fh = this.fh ?? (await this.openSpill());
      const parts = this.headParts();
      const live = this.tail.slice(this.tailFront).filter((c) => c !== EVICTED && c.len > 0);
      for (const c of live) parts.push(c.buf.subarray(0, c.len));
      const at = this.spilledBytes;
      const bytes = parts.reduce((n, b) => n + b.length, 0);
      await writeFully(fh, parts, at);
      if (this.disposed) return;
      // From here reads go to the file; the buffers are let go.
      this.headAt = at;
      this.tailAt = at + this.headLen;
      this.tailFrom = live[0]?.from ?? this.total;
      this.spilledBytes += bytes;
      for (const chunk of this.head) this.recycle(chunk);
      for (const c of live) this.recycle(c.buf);
      this.head.length = 0;
      this.tail = [];
      this.tailFront = 0;
      this.allocated = 0;
    } catch (error) {
      this.spillError = (error as Error).message;
    }
  }

  /** Resolves when everything queued so far has been written to the spill file (or dropped). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Deletes the spill file and its folder; reads reject from now on. Waits for reads under way. */
  dispose(): Promise<void> {
    if (!this.disposing) {
      this.disposed = true;
      this.disposing = this.release();
    }
    return this.disposing;
  }

  private async release(): Promise<void> {
    await this.flush();
    await Promise.allSettled([...this.reads]);
    this.dropPending();
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => {});
    await this.removeDir();
  }

  private async removeDir(): Promise<void> {
    const dir = this.dir;
    if (dir === undefined) return;
    this.dir = undefined;
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    liveDirs.delete(dir);
  }

  // ---- memory --------------------------------------------------------------------------------------------

  private headText(): string {
    if (this.headLen === 0) return '';
    return Buffer.concat(this.headParts(), this.headLen).toString('utf8');
  }

  /** The head's bytes, as views of its chunks. */
  private headParts(): Buffer[] {
    return this.head.map((c, i) =>
      c.subarray(0, Math.max(0, Math.min(c.length, this.headLen - i * this.chunkSize))),
    );
  }

  private headChunk(index: number): Buffer {
    let chunk = this.head[index];
    const size = Math.min(this.chunkSize, this.headCap - index * this.chunkSize);
    if (!chunk) {
      chunk = takeChunk(size);
      this.head.push(chunk);
      this.allocated += size;
    } else if (chunk.length < size) {
      // Trimmed when the output seemed finished (trimHead): full size again, its bytes kept.
      const full = takeChunk(size);
      chunk.copy(full);
      this.allocated += size - chunk.length;
      this.head[index] = full;
      chunk = full;
    }
    return chunk;
  }

  private writeHead(text: string, n: number): void {
    const index = Math.floor(this.headLen / this.chunkSize);
    const at = this.headLen - index * this.chunkSize;
    const chunk = this.headChunk(index);
    if (chunk.length - at >= n) {
      chunk.write(text, at, 'utf8');
      this.headLen += n;
    } else {
      this.copyHead(Buffer.from(text, 'utf8'));
    }
  }

  private copyHead(data: Buffer): void {
    let i = 0;
    while (i < data.length) {
      const index = Math.floor(this.headLen / this.chunkSize);
      const at = this.headLen - index * this.chunkSize;
      const chunk = this.headChunk(index);
      const n = data.copy(chunk, at, i);
      i += n;
      this.headLen += n;
    }
  }

  private appendTail(data: Buffer): void {
    let i = 0;
    while (i < data.length) {
      const last = this.openTailChunk();
      const room = last.buf.length - last.len;
      let n = data.length - i;
      if (n >= room) {
        // Chunks end on character boundaries, so every range of the middle does too.
        n = charCut(data.subarray(i), room);
        last.sealed = true;
      }
      data.copy(last.buf, last.len, i, i + n);
      last.len += n;
      i += n;
    }
  }

  /** Tail chunks wholly older than the last tailCap bytes go to the middle, oldest first. */
  private rollTail(): void {
    const keepFrom = this.total - this.tailCap;
    while (this.tail.length - this.tailFront > 1) {
      const c = this.tail[this.tailFront] as TailChunk;
      if (c.from + c.len > keepFrom) break;
      // Let go of the slot now: compaction below may be far off.
      this.tail[this.tailFront++] = EVICTED;
      this.allocated -= c.buf.length;
      this.toMiddle(c.from, c.buf.subarray(0, c.len), c.buf);
    }
    if (this.tailFront > 64 && this.tailFront * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailFront);
      this.tailFront = 0;
    }
  }

  /**
   * Back-pressure for the producer: a promise while the spill queue is over half full (resolved once it is
   * down to a quarter, or spilling stopped), undefined when pushing may go on. A producer that pauses its
   * source meanwhile (the SSH channel) loses nothing; dropping is then only the last resort.
   */
  backlog(): Promise<void> | undefined {
    if (this.queuedBytes < this.queueCap / 2 || this.disposed || this.spillError !== undefined)
      return undefined;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private wakeProducers(): void {
    if (this.drainWaiters.length === 0) return;
    if (this.queuedBytes > this.queueCap / 4 && !this.disposed && this.spillError === undefined) return;
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  // ---- middle --------------------------------------------------------------------------------------------

  private toMiddle(from: number, data: Buffer, chunk: Buffer): void {
    const to = from + data.length;
    if (this.spillCap === 0 || this.spillError !== undefined || this.disposed) {
      this.addPiece({ kind: 'dropped', from, to, at: 0 });
      this.recycle(chunk);
      return;
    }
    const budget = this.spillCap - this.spilledBytes - this.queuedBytes;
    const n = budget >= data.length ? data.length : charCut(data, Math.max(0, budget));
    if (this.throttled && this.queuedBytes === 0) this.throttled = false;
    if (n === 0 || this.throttled || this.queuedBytes + n > this.queueCap) {
      if (n > 0) this.throttled = true;
      this.addPiece({ kind: 'dropped', from, to, at: 0 });
      this.recycle(chunk);
      return;
    }
    this.queuedBytes += n;
    this.addPiece({ kind: 'queued', from, to: from + n, buf: data.subarray(0, n), chunk, at: 0 });
    if (n < data.length) this.addPiece({ kind: 'dropped', from: from + n, to, at: 0 });
    this.pump();
  }

  /**
   * A chunk nothing refers to any more goes back to the pool, unless a page read is under way: it plans its
   * parts (views of chunks) before it reads the file, and counts on them not changing.
   */
  private recycle(chunk: Buffer): void {
    if (this.reads.size === 0) giveChunk(chunk);
  }

  private addPiece(piece: Piece): void {
    if (piece.kind === 'dropped') this.droppedBytes += piece.to - piece.from;
    const last = this.middle[this.middle.length - 1];
    if (last && this.middle.length - 1 >= this.pendingStart && mergeable(last, piece)) {
      last.to = piece.to;
      return;
    }
    this.middle.push(piece);
    this.settle();
  }

  /** Moves pieces that are no longer queued into the settled prefix, merging neighbours. */
  private settle(): void {
    const middle = this.middle;
    let w = this.pendingStart;
    let r = this.pendingStart;
    for (; r < middle.length; r++) {
      const p = middle[r] as Piece;
      if (p.kind === 'queued') break;
      const prev = middle[w - 1];
      if (prev && mergeable(prev, p)) prev.to = p.to;
      else middle[w++] = p;
    }
    if (r > w) middle.splice(w, r - w);
    this.pendingStart = w;
  }

  /** Queued pieces become dropped (a failed spill, or dispose). */
  private dropPending(): void {
    for (let i = this.pendingStart; i < this.middle.length; i++) {
      const p = this.middle[i] as Piece;
      if (p.kind !== 'queued') continue;
      p.kind = 'dropped';
      p.buf = undefined;
      p.chunk = undefined;
      this.queuedBytes -= p.to - p.from;
      this.droppedBytes += p.to - p.from;
    }
    this.settle();
  }

  private pump(): void {
    if (this.writing || this.disposed) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
      // Pieces queued after the loop's last look.
      if (this.middle[this.pendingStart]?.kind === 'queued') this.pump();
    });
  }

  private async writeLoop(): Promise<void> {
    try {
      const fh = this.fh ?? (await this.openSpill());
      for (;;) {
        if (this.disposed) return;
        const batch: Piece[] = [];
        const bufs: Buffer[] = [];
        let bytes = 0;
        for (
          let i = this.pendingStart;
          i < this.middle.length && bytes < WRITE_BATCH && batch.length < WRITE_BUFFERS;
          i++
        ) {
          const p = this.middle[i] as Piece;
          if (p.kind !== 'queued' || !p.buf) break;
          batch.push(p);
          bufs.push(p.buf);
          bytes += p.buf.length;
        }
        if (batch.length === 0) return;
        const at = this.spilledBytes;
        await writeFully(fh, bufs, at);
        let pos = at;
        for (const p of batch) {
          p.kind = 'file';
          p.buf = undefined;
          if (p.chunk) this.recycle(p.chunk);
          p.chunk = undefined;
          p.at = pos;
          pos += p.to - p.from;
        }
        this.queuedBytes -= bytes;
        this.spilledBytes += bytes;
        this.settle();
        this.wakeProducers();
      }
    } catch (error) {
      this.spillError = (error as Error).message;
      this.dropPending();
      this.wakeProducers();
      if (!this.fh) await this.removeDir();
    }
  }

  private async openSpill(): Promise<FileHandle> {
    const dir = await mkdtemp(join(this.spillDir ?? tmpdir(), 'mcp-ssh-output-'));
    this.dir = dir;
    trackDir(dir);
    const fh = await open(join(dir, 'output'), 'wx+', 0o600);
    this.fh = fh;
    return fh;
  }

  // ---- reading -------------------------------------------------------------------------------------------

  private async readPage(offset: number, maxBytes: number): Promise<OutputPage> {
    const start = await this.charStart(Math.min(offset, this.total));
    // Planned without awaiting: bytes once pushed never change, in memory or in the file, so the parts
    // stay valid however the store moves on while the file is read.
    const total = this.total;
    let pos = start;
    let gap: OutputPage['gap'];
    const parts: Part[] = [];
    let dataLen = 0;
    let lookahead: Part | undefined;
    while (pos < total) {
      const seg = this.segmentAt(pos);
      if (seg.kind === 'dropped') {
        if (parts.length > 0 || gap) break;
        gap = { from: pos, to: seg.to };
        pos = seg.to;
        continue;
      }
      const n = Math.min(seg.to - pos, maxBytes - dataLen);
      if (n === 0) break;
      parts.push(seg.part(pos, n));
      dataLen += n;
      pos += n;
      if (pos < seg.to) {
        // Stopped inside a range: the next byte says whether the last character was cut.
        lookahead = seg.part(pos, 1);
        break;
      }
    }
    if (lookahead) parts.push(lookahead);
    const buf = await this.fetch(parts);
    let end = dataLen;
    while (end > 0 && end < buf.length && isContinuation(buf[end])) end--;
    const nextOffset = pos - (dataLen - end);
    return {
      output: buf.toString('utf8', 0, end),
      offset: start,
      nextOffset,
      totalBytes: total,
      ...(gap ? { gap } : {}),
      complete: nextOffset === total,
    };
  }

  /** `pos`, or the next character start if `pos` is inside a character (unknowable in a dropped range). */
  private async charStart(pos: number): Promise<number> {
    if (pos >= this.total) return pos;
    const seg = this.segmentAt(pos);
    if (seg.kind === 'dropped') return pos;
    const bytes = await this.fetch([seg.part(pos, Math.min(3, seg.to - pos))]);
    let skip = 0;
    while (isContinuation(bytes[skip])) skip++;
    return pos + skip;
  }

  private async fetch(parts: Part[]): Promise<Buffer> {
    let size = 0;
    for (const p of parts) size += 'buf' in p ? p.buf.length : p.len;
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    const reads: Promise<void>[] = [];
    for (const p of parts) {
      if ('buf' in p) {
        p.buf.copy(out, at);
        at += p.buf.length;
      } else {
        const fh = this.fh;
        if (!fh) throw new Error('output store: spill file is gone');
        reads.push(readFully(fh, out.subarray(at, at + p.len), p.at));
        at += p.len;
      }
    }
    await Promise.all(reads);
    return out;
  }

  /** The range holding stream byte `pos` (< total), with a way to take bytes from it. */
  private segmentAt(pos: number): {
    kind: Piece['kind'] | 'memory';
    to: number;
    part: (from: number, n: number) => Part;
  } {
    const { headAt, tailAt } = this;
    if (pos < this.headLen) {
      if (headAt !== undefined) {
        return { kind: 'file', to: this.headLen, part: (from, n) => ({ at: headAt + from, len: n }) };
      }
      return { kind: 'memory', to: this.headLen, part: (from, n) => ({ buf: this.headBytes(from, n) }) };
    }
    if (tailAt !== undefined && pos >= this.tailFrom) {
      const tailFrom = this.tailFrom;
      return { kind: 'file', to: this.total, part: (from, n) => ({ at: tailAt + from - tailFrom, len: n }) };
    }
    const first = this.tail[this.tailFront];
    if (first && pos >= first.from) {
      let lo = this.tailFront;
      let hi = this.tail.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((this.tail[mid] as TailChunk).from <= pos) lo = mid;
        else hi = mid - 1;
      }
      const c = this.tail[lo] as TailChunk;
      return {
        kind: 'memory',
        to: c.from + c.len,
        part: (from, n) => ({ buf: c.buf.subarray(from - c.from, from - c.from + n) }),
      };
    }
    let lo = 0;
    let hi = this.middle.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.middle[mid] as Piece).from <= pos) lo = mid;
      else hi = mid - 1;
    }
    const p = this.middle[lo];
    if (!p || pos < p.from || pos >= p.to) throw new Error(`output store: no range holds byte ${pos}`);
    if (p.kind === 'queued' && p.buf) {
      const buf = p.buf;
      return {
        kind: 'queued',
        to: p.to,
        part: (from, n) => ({ buf: buf.subarray(from - p.from, from - p.from + n) }),
      };
    }
    const at = p.at;
    return { kind: p.kind, to: p.to, part: (from, n) => ({ at: at + from - p.from, len: n }) };
  }

  private headBytes(from: number, n: number): Buffer {
    const parts: Buffer[] = [];
    let pos = from;
    const end = from + n;
    while (pos < end) {
      const index = Math.floor(pos / this.chunkSize);
      const chunk = this.head[index] as Buffer;
      const at = pos - index * this.chunkSize;
      const take = Math.min(chunk.length - at, end - pos);
      parts.push(chunk.subarray(at, at + take));
      pos += take;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }
}

function mergeable(a: Piece, b: Piece): boolean {
  if (a.kind !== b.kind || a.to !== b.from) return false;
  return a.kind === 'dropped' || (a.kind === 'file' && a.at + (a.to - a.from) === b.at);
}

async function writeFully(fh: FileHandle, bufs: Buffer[], position: number): Promise<void> {
  let list = bufs;
  while (list.length > 0) {
    const { bytesWritten } = await fh.writev(list, position);
    if (bytesWritten === 0) throw new Error('spill file: write made no progress');
    position += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < list.length && skip >= (list[i] as Buffer).length) skip -= (list[i++] as Buffer).length;
    list = list.slice(i);
    if (skip > 0 && list[0]) list[0] = list[0].subarray(skip);
  }
}

async function readFully(fh: FileHandle, into: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error('spill file: shorter than written');
    done += bytesRead;
  }
}
