import { RE2JS } from 're2js';
import { jsonEncodedBytes } from './output.js';
import type { LineMark, OutputPage } from './output-store.js';

/**
 * Views of a command's kept output by line: a slice (from a line, so many lines), the last lines, and the
 * lines that match a regular expression with context around them. They read the output store page by
 * page, without running the command again, and count lines from the store's line marks (so a view deep in
 * a long output reads about a megabyte to find its place, not everything before it).
 *
 * Line N is the text after the (N-1)th line feed up to the Nth; an output of "a\nb\n" has 2 lines, "a\nb"
 * too. Every view fits `budget` (bytes of its output JSON-encoded) and says where to read on. Parts of the
 * output that were not kept (a gap, past the spill limit) are skipped and said so; line numbers after them
 * are counted back from the next line mark, and left out where that is not possible either.
 *
 * grep patterns come from the agent: they run on RE2 (linear time; no lookaround or back-references), one
 * line at a time (a line longer than SEGMENT_CHARS in pieces of that size: `$` ends a piece), over at most SCAN_BYTES and
 * SCAN_MS per call, yielding to the event loop between pages, so no pattern and no output can stall the
 * server.
 */

/** What a view reads: an OutputStore. */
export interface LineSource {
  read(offset: number, maxBytes: number): Promise<OutputPage>;
  readonly lineCount: { bytes: number; newlines: number; endsWithNewline: boolean };
  lineMarks(): readonly LineMark[];
}

export interface OutputView {
  /** The lines as printed (slice, tail), or grep's: `N:line` for a match, `N-line` around it, `--` between groups. */
  output: string;
  /** Where the lines shown start (a byte offset), and where the next read would start. */
  offset: number;
  nextOffset: number;
  /** The output's size and lines when the view was taken (a running command's output grows). */
  totalBytes: number;
  totalLines: number;
  /** The first and last line shown, when known. */
  fromLine?: number;
  toLine?: number;
  /** grep: matching lines shown. */
  matches?: number;
  /** What was left out or cut, and how to read on. */
  notes: string[];
}

export interface ViewLimits {
  /** Most bytes of output, JSON-encoded. */
  budget: number;
  /** grep: stop scanning after this many bytes, or this many milliseconds. */
  scanBytes?: number;
  scanMs?: number;
}

const PAGE_BYTES = 256 * 1024;
/** A line longer than this is searched and shown in pieces (segments) of this many characters. */
export const SEGMENT_CHARS = 64 * 1024;
/** grep shows at most this much of a line. */
export const SHOWN_LINE_CHARS = 2000;
export const SCAN_BYTES = 64 * 1024 * 1024;
export const SCAN_MS = 5000;

/** A line, or a piece of one (a long line, or one cut by a gap). */
interface Line {
  text: string;
  start: number;
  end: number;
  /** Ends with a line feed (not in `text`). */
  newline: boolean;
  /** The line goes on in the next item (it was longer than SEGMENT_CHARS). */
  partial: boolean;
}
type Item = Line | { gap: { from: number; to: number } };

const isGap = (item: Item): item is { gap: { from: number; to: number } } => 'gap' in item;

/** The lines of a store from `start` up to `limit`, a page at a time. */
class LineScanner {
  private pos: number;
  private carry = '';
  private carryStart: number;
  private carryBytes = 0;
  private ended = false;

  constructor(
    private readonly src: LineSource,
    start: number,
    private readonly limit: number,
  ) {
    this.pos = start;
    this.carryStart = start;
  }

  get done(): boolean {
    return this.ended;
  }

  /** The items of the next page; [] once done. */
  async next(): Promise<Item[]> {
    if (this.ended) return [];
    const items: Item[] = [];
    if (this.pos >= this.limit) {
      this.flush(items, false);
      this.ended = true;
      return items;
    }
    const page = await readUpTo(this.src, this.pos, this.limit);
    if (page.gap) {
      this.flush(items, false);
      items.push({ gap: page.gap });
      this.carryStart = page.gap.to;
    } else if (this.carry === '') {
      this.carryStart = page.offset;
    }
    const text = page.output;
    let cursor = this.carryStart + this.carryBytes;
    let i = 0;
    for (let j = text.indexOf('\n', i); j !== -1; j = text.indexOf('\n', i)) {
      const piece = text.slice(i, j);
      const end = cursor + Buffer.byteLength(piece) + 1;
      this.line(items, this.carry + piece, this.carryStart, true);
      this.carry = '';
      this.carryBytes = 0;
      this.carryStart = end;
      cursor = end;
      i = j + 1;
    }
    const rest = text.slice(i);
    this.carry += rest;
    this.carryBytes += Buffer.byteLength(rest);
    const progressed = page.nextOffset > this.pos || page.gap !== undefined;
    this.pos = Math.min(page.nextOffset, this.limit);
    if (this.carry.length > SEGMENT_CHARS) {
      // A line longer than a segment: its whole segments now, the rest with what follows.
      let cut = this.carry.length - (this.carry.length % SEGMENT_CHARS);
      if (/[\uD800-\uDBFF]/.test(this.carry[cut - 1] as string)) cut--;
      const done = this.carry.slice(0, cut);
      this.segments(items, done, this.carryStart, true);
      const bytes = Buffer.byteLength(done);
      this.carryStart += bytes;
      this.carryBytes -= bytes;
      this.carry = this.carry.slice(cut);
    }
    if (this.pos >= this.limit || !progressed) {
      this.flush(items, false);
      this.ended = true;
    }
    // Another session's output, a client's call: nothing waits long behind a view.
    await new Promise((resolve) => setImmediate(resolve));
    return items;
  }

  private flush(items: Item[], partial: boolean): void {
    if (this.carry === '') return;
    this.segments(items, this.carry, this.carryStart, partial);
    this.carryStart += this.carryBytes;
    this.carry = '';
    this.carryBytes = 0;
  }

  /** A whole line (ended by a line feed): in segments when it is long. */
  private line(items: Item[], text: string, start: number, newline: boolean): void {
    if (text.length <= SEGMENT_CHARS) {
      items.push({
        text,
        start,
        end: start + Buffer.byteLength(text) + (newline ? 1 : 0),
        newline,
        partial: false,
      });
      return;
    }
    const last = this.segments(items, text, start, false);
    if (newline && last) {
      last.newline = true;
      last.end += 1;
    }
  }

  /** `text` from `start` as segments of at most SEGMENT_CHARS; all partial, or all but the last. */
  private segments(items: Item[], text: string, start: number, partial: boolean): Line | undefined {
    let at = start;
    let last: Line | undefined;
    for (let i = 0; i < text.length; ) {
      let j = Math.min(text.length, i + SEGMENT_CHARS);
      if (j < text.length && /[\uD800-\uDBFF]/.test(text[j - 1] as string)) j--;
      const piece = text.slice(i, j);
      const bytes = Buffer.byteLength(piece);
      last = { text: piece, start: at, end: at + bytes, newline: false, partial: j < text.length || partial };
      items.push(last);
      at += bytes;
      i = j;
    }
    return last;
  }
}

type Snapshot = LineSource['lineCount'];

/** A page from `pos` that ends at `to` at the latest (a character start), a page's worth at most. */
async function readUpTo(src: LineSource, pos: number, to: number): Promise<OutputPage> {
  const page = await src.read(pos, Math.max(4, Math.min(PAGE_BYTES, to - pos)));
  if (page.nextOffset <= to) return page;
  const from = page.gap ? page.gap.to : page.offset;
  const output = Buffer.from(page.output)
    .subarray(0, Math.max(0, to - from))
    .toString();
  return { ...page, output, nextOffset: Math.max(to, page.gap?.to ?? to), complete: false };
}

/** Lines in an output of this snapshot: a last line without a line feed counts. */
export function linesOf(snap: Snapshot): number {
  return snap.newlines + (snap.bytes > 0 && !snap.endsWithNewline ? 1 : 0);
}

/** Line feeds in [from, to), or undefined when part of it was not kept. */
async function countNewlines(src: LineSource, from: number, to: number): Promise<number | undefined> {
  let count = 0;
  let pos = from;
  while (pos < to) {
    const page = await readUpTo(src, pos, to);
    if (page.gap) return undefined;
    if (page.nextOffset <= pos) break;
    const text = page.output;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
    pos = page.nextOffset;
  }
  return count;
}

/**
 * Line feeds before `offset`: counted on from the mark before it, or back from the mark after it when a
 * gap lies between; undefined when neither way is kept.
 */
async function newlinesBefore(src: LineSource, offset: number, snap: Snapshot): Promise<number | undefined> {
  if (offset >= snap.bytes) return snap.newlines;
  const marks = src.lineMarks().filter((m) => m.offset <= snap.bytes);
  let before = marks[0] as LineMark;
  let after: LineMark = { offset: snap.bytes, newlines: snap.newlines };
  for (const m of marks) {
    if (m.offset <= offset) before = m;
    else {
      after = m;
      break;
    }
  }
  const forward = await countNewlines(src, before.offset, offset);
  if (forward !== undefined) return before.newlines + forward;
  const backward = await countNewlines(src, offset, after.offset);
  return backward === undefined ? undefined : after.newlines - backward;
}

const gapNote = (gap: { from: number; to: number }) =>
  `bytes ${gap.from}-${gap.to} were not kept (past the spill limit)`;

/** The start of `text` that takes at most `budget` bytes JSON-encoded (not splitting a surrogate pair). */
function headFitting(text: string, budget: number): string {
  let keep = Math.min(text.length, budget);
  while (keep > 0 && jsonEncodedBytes(text.slice(0, keep)) > budget) {
    keep = Math.floor(keep * 0.9);
  }
  if (keep > 0 && /[\uD800-\uDBFF]/.test(text[keep - 1] as string)) keep--;
  return text.slice(0, keep);
}

/** The end of `text` that takes at most `budget` bytes JSON-encoded. */
function tailFitting(text: string, budget: number): string {
  let keep = Math.min(text.length, budget);
  while (keep > 0 && jsonEncodedBytes(text.slice(text.length - keep)) > budget) {
    keep = Math.floor(keep * 0.9);
  }
  if (keep > 0 && /[\uDC00-\uDFFF]/.test(text[text.length - keep] as string)) keep--;
  return text.slice(text.length - keep);
}

/** Lines `from` on (1-based), `count` of them at most (all that fit when undefined). */
export async function sliceLines(
  src: LineSource,
  from: number,
  count: number | undefined,
  limits: ViewLimits,
): Promise<OutputView> {
  const snap = src.lineCount;
  const total = linesOf(snap);
  const base = { totalBytes: snap.bytes, totalLines: total };
  if (from > total) {
    return {
      ...base,
      output: '',
      offset: snap.bytes,
      nextOffset: snap.bytes,
      notes: [`the output has ${total} lines so far`],
    };
  }
  // The last mark with fewer than from-1 line feeds before it: line `from` starts after it.
  let start: LineMark = { offset: 0, newlines: 0 };
  for (const m of src.lineMarks()) if (m.offset <= snap.bytes && m.newlines < from - 1) start = m;
  const scanner = new LineScanner(src, start.offset, snap.bytes);
  const notes: string[] = [];
  let lineNo: number | undefined = start.newlines + 1;
  let output = '';
  let size = 0;
  let shown = 0;
  let first: { line?: number; offset: number } | undefined;
  let last: { line?: number; end: number; newline: boolean; partial: boolean } | undefined;
  let full = false;
  while (!scanner.done && !full) {
    for (const item of await scanner.next()) {
      if (isGap(item)) {
        notes.push(gapNote(item.gap));
        lineNo = await newlinesBefore(src, item.gap.to, snap);
        if (lineNo === undefined) {
          if (first === undefined) {
            notes.push(`line numbers past byte ${item.gap.to} are unknown: read on by offset`);
            full = true;
            break;
          }
        } else {
          lineNo += 1;
          if (first === undefined && lineNo > from) notes.push(`lines ${from}-${lineNo - 1} were not kept`);
        }
        continue;
      }
      const number = lineNo;
      if (item.newline && lineNo !== undefined) lineNo++;
      if (first === undefined && (number === undefined || number < from)) continue;
      if (count !== undefined && shown >= count && !(last?.partial ?? false)) {
        full = true;
        break;
      }
      const piece = item.newline ? `${item.text}\n` : item.text;
      const cost = jsonEncodedBytes(piece);
      if (size + cost > limits.budget) {
        if (first === undefined) {
          // One line longer than a result: its start, and where it goes on.
          const cut = headFitting(item.text, limits.budget);
          output = cut;
          first = { line: number, offset: item.start };
          last = { line: number, end: item.start + Buffer.byteLength(cut), newline: false, partial: true };
          notes.push(`line ${number ?? '?'} is longer than this result holds`);
        }
        full = true;
        break;
      }
      output += piece;
      size += cost;
      first ??= { line: number, offset: item.start };
      if (!last?.partial) shown++;
      last = { line: number, end: item.end, newline: item.newline, partial: item.partial };
    }
  }
  if (first === undefined || last === undefined) {
    return { ...base, output: '', offset: snap.bytes, nextOffset: snap.bytes, notes };
  }
  const view: OutputView = {
    ...base,
    output,
    offset: first.offset,
    nextOffset: last.end,
    ...(first.line !== undefined && { fromLine: first.line }),
    ...(last.line !== undefined && { toLine: last.line }),
    notes,
  };
  if (last.end < snap.bytes) {
    notes.push(
      last.newline && last.line !== undefined
        ? `read on with from_line=${last.line + 1}`
        : `line ${last.line ?? '?'} goes on: read on with offset=${last.end}`,
    );
  }
  return view;
}

/** The last `count` lines (all that fit, up to that many). */
export async function tailLines(src: LineSource, count: number, limits: ViewLimits): Promise<OutputView> {
  const snap = src.lineCount;
  const total = linesOf(snap);
  const base = { totalBytes: snap.bytes, totalLines: total };
  const notes: string[] = [];
  if (snap.bytes === 0 || count === 0) {
    return { ...base, output: '', offset: snap.bytes, nextOffset: snap.bytes, notes };
  }
  // Read back from the end until there are count + 1 line starts, the start, a gap, or more than fits.
  let text = '';
  let start = snap.bytes;
  const feeds = () => {
    let n = 0;
    const upTo = snap.endsWithNewline ? text.length - 1 : text.length;
    for (let i = text.indexOf('\n'); i !== -1 && i < upTo; i = text.indexOf('\n', i + 1)) n++;
    return n;
  };
  let stoppedAtGap = false;
  while (start > 0 && feeds() < count && Buffer.byteLength(text) <= limits.budget + PAGE_BYTES) {
    const from = Math.max(0, start - PAGE_BYTES);
    let pos = from;
    let chunk = '';
    let chunkStart: number | undefined;
    while (pos < start) {
      const page = await readUpTo(src, pos, start);
      if (page.gap) {
        notes.push(gapNote(page.gap));
        chunk = '';
        chunkStart = page.gap.to;
        stoppedAtGap = true;
      } else {
        chunkStart ??= page.offset;
      }
      chunk += page.output;
      if (page.nextOffset <= pos) break;
      pos = page.nextOffset;
    }
    text = chunk + text;
    start = chunkStart ?? start;
    if (stoppedAtGap) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const body = snap.endsWithNewline ? text.slice(0, -1) : text;
  let lines = body.split('\n');
  // The first piece is part of a line that starts before what was read, unless that is the start (or a
  // gap); alone, it is the end of a line too long to show whole.
  if (start > 0 && !stoppedAtGap && lines.length > 1) lines = lines.slice(1);
  if (lines.length > count) lines = lines.slice(lines.length - count);
  const end = snap.endsWithNewline ? '\n' : '';
  let output = lines.length > 0 ? lines.join('\n') + end : '';
  let shown = lines.length;
  if (jsonEncodedBytes(output) > limits.budget) {
    // Whole lines from the end, as many as fit; the last alone, cut, if even it does not.
    let size = jsonEncodedBytes(end);
    let keep = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      const cost = jsonEncodedBytes(lines[i] as string) + 2;
      if (size + cost > limits.budget) break;
      size += cost;
      keep++;
    }
    if (keep === 0) {
      output = tailFitting(lines[lines.length - 1] as string, limits.budget - 2) + end;
      shown = 1;
      notes.push(`line ${total} is longer than this result holds: its end is shown`);
    } else {
      output = lines.slice(lines.length - keep).join('\n') + end;
      shown = keep;
      notes.push(`${count} lines do not fit in this result: the last ${keep} are shown`);
    }
  }
  const offset = snap.bytes - Buffer.byteLength(output);
  return {
    ...base,
    output,
    offset,
    nextOffset: snap.bytes,
    ...(shown > 0 && { fromLine: total - shown + 1, toLine: total }),
    notes,
  };
}

/** A grep pattern from the agent, on RE2; a SyntaxError says what RE2 does not take. */
export function compileGrep(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    throw new SyntaxError(
      `grep: ${(error as Error).message}. Patterns are RE2 (no lookaround or back-references); (?i) ignores case`,
    );
  }
}

export interface GrepOptions {
  /** Where to start (a byte offset; nextOffset of an earlier grep). */
  offset: number;
  /** Lines shown before and after each match. */
  context: number;
  /** Stop after this many matching lines. */
  maxMatches: number;
}

/** The lines that match `pattern`, `context` lines around each, numbered as grep -n numbers them. */
export async function grepLines(
  src: LineSource,
  pattern: RE2JS,
  options: GrepOptions,
  limits: ViewLimits,
): Promise<OutputView> {
  const snap = src.lineCount;
  const total = linesOf(snap);
  const scanBytes = limits.scanBytes ?? SCAN_BYTES;
  const deadline = Date.now() + (limits.scanMs ?? SCAN_MS);
  const notes: string[] = [];
  const from = Math.min(options.offset, snap.bytes);
  let lineNo =
    from === 0 ? 1 : await newlinesBefore(src, from, snap).then((n) => (n === undefined ? n : n + 1));
  const scanner = new LineScanner(src, from, snap.bytes);
  const out: string[] = [];
  let size = 0;
  let matches = 0;
  let afterLeft = 0;
  /** Lines before the current one, for context: [number, text, start, end]. */
  let before: { no?: number; item: Line }[] = [];
  let lastEnd = -1;
  /** The line whose segments were shown already (a long line is shown once). */
  let shownLine: number | undefined;
  let next = snap.bytes;
  let stop: string | undefined;

  const emit = (no: number | undefined, item: Line, mark: ':' | '-'): boolean => {
    const shown =
      item.text.length > SHOWN_LINE_CHARS
        ? `${item.text.slice(0, SHOWN_LINE_CHARS)}... [${item.text.length - SHOWN_LINE_CHARS} more characters]`
        : item.text;
    const line = `${no ?? '?'}${mark}${shown}`;
    const separator = options.context > 0 && out.length > 0 && item.start > lastEnd ? '--' : undefined;
    const cost = (separator ? 3 : 0) + jsonEncodedBytes(line) + 1;
    if (size + cost > limits.budget) return false;
    if (separator) out.push(separator);
    out.push(line);
    size += cost;
    lastEnd = item.end;
    return true;
  };

  scan: while (!scanner.done) {
    for (const item of await scanner.next()) {
      if (isGap(item)) {
        notes.push(`${gapNote(item.gap)}, not searched`);
        const n = await newlinesBefore(src, item.gap.to, snap);
        lineNo = n === undefined ? undefined : n + 1;
        before = [];
        continue;
      }
      const no = lineNo;
      if (item.newline && lineNo !== undefined) lineNo++;
      if (item.start - from >= scanBytes || Date.now() > deadline) {
        next = item.start;
        stop = `searched bytes ${from}-${item.start} of ${snap.bytes} in this call (a call searches at most ${scanBytes} bytes or ${(limits.scanMs ?? SCAN_MS) / 1000} s): grep on with offset=${item.start}`;
        break scan;
      }
      const sameLine = shownLine !== undefined && no === shownLine && item.start === lastEnd;
      if (sameLine) {
        if (!item.partial) shownLine = undefined;
        lastEnd = item.end;
        continue;
      }
      if (matches < options.maxMatches && pattern.test(item.text)) {
        for (const b of before) {
          if (b.item.start >= lastEnd && !emit(b.no, b.item, '-')) break;
        }
        if (!emit(no, item, ':')) {
          next = item.start;
          stop = `more lines than this result holds: grep on with offset=${item.start}`;
          break scan;
        }
        before = [];
        matches++;
        afterLeft = options.context;
        shownLine = item.partial ? no : undefined;
        continue;
      }
      if (afterLeft > 0) {
        if (!emit(no, item, '-')) {
          next = item.start;
          stop = `more lines than this result holds: grep on with offset=${item.start}`;
          break scan;
        }
        if (!item.partial) afterLeft--;
        shownLine = item.partial ? no : undefined;
        continue;
      }
      if (matches >= options.maxMatches) {
        next = item.start;
        stop = `stopped after ${options.maxMatches} matching lines (max_matches); more may follow: grep on with offset=${item.start}`;
        break scan;
      }
      if (options.context > 0) {
        before.push({ ...(no !== undefined && { no }), item });
        if (before.length > options.context) before.shift();
      }
    }
  }
  if (matches === 0 && stop === undefined) notes.push(`no line matches in bytes ${from}-${snap.bytes}`);
  if (stop) notes.push(stop);
  return {
    output: out.length > 0 ? `${out.join('\n')}\n` : '',
    offset: from,
    nextOffset: next,
    totalBytes: snap.bytes,
    totalLines: total,
    matches,
    notes,
  };
}
