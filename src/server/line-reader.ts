import { IdScanner } from './id-scanner.js';

const NEWLINE = 0x0a;

export type LineEvent =
  | { kind: 'line'; line: Buffer }
  /** A line longer than the limit: it was dropped as it arrived; only its size and id/method are known. */
  | { kind: 'oversized'; bytes: number; id?: string | number; method?: string };

/**
 * Splits a byte stream into newline-terminated messages and holds at most `maxBytes` of one message. A
 * longer message is not kept: its bytes are scanned for the id and dropped as they come, and the stream
 * goes on with the next line. (The SDK's ReadBuffer throws instead and its transport then closes for good.)
 */
export class LineReader {
  private pending: Buffer[] = [];
  private size = 0;
  private dropping: { bytes: number; scanner: IdScanner } | undefined;

  constructor(readonly maxBytes: number) {}

  /** The events the chunk completes, in order. */
  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.take(chunk.subarray(start, end));
      if (newline === -1) break;
      events.push(this.endLine());
      start = newline + 1;
    }
    return events;
  }

  /** Bytes held for an unfinished message (for tests: stays within maxBytes). */
  get buffered(): number {
    return this.size;
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.dropping) {
      this.dropping.bytes += piece.length;
      this.dropping.scanner.feed(piece);
      return;
    }
    if (this.size + piece.length <= this.maxBytes) {
      this.pending.push(piece);
      this.size += piece.length;
      return;
    }
    const scanner = new IdScanner();
    for (const held of this.pending) scanner.feed(held);
    scanner.feed(piece);
    this.dropping = { bytes: this.size + piece.length, scanner };
    this.pending = [];
    this.size = 0;
  }

  private endLine(): LineEvent {
    const dropped = this.dropping;
    if (dropped) {
      this.dropping = undefined;
      const { id, method } = dropped.scanner;
      return {
        kind: 'oversized',
        bytes: dropped.bytes,
        ...(id !== undefined && { id }),
        ...(method !== undefined && { method }),
      };
    }
    let line = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    this.size = 0;
    if (line[line.length - 1] === 0x0d) line = line.subarray(0, -1); // CRLF line endings
    return { kind: 'line', line };
  }
}
