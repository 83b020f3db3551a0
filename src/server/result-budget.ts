import { RESULT_CEILING } from '../config/limits.js';
import { jsonEncodedBytes } from '../expect/output.js';

/**
 * What a tool result may cost. A result carries its text block and its structuredContent side by side;
 * each is held to a budget in bytes of its JSON encoding (so at most as many characters for the model, and
 * both together at most twice that on the wire). Tools fit their own content (output head and tail, a page,
 * part of a list) and say what they left out; the wrapper (tool-result.ts) cuts what still does not fit, as
 * a last resort, with the same kind of note.
 */

/**
 * Room a tool keeps, besides the fields it measures, for what it adds after: the status line, notes, the
 * counts of what was left out. A call that asks for `max_bytes` of output gets a budget this much larger.
 */
export const RESULT_ROOM = 4096;

/** What is left of a block of `budget` for a list's entries or a screen's lines: the rest needs room too. */
export function entryRoom(budget: number): number {
  return budget - Math.min(RESULT_ROOM, Math.floor(budget / 4));
}

/**
 * Bytes a JSON value takes on the wire, UTF-8, as JSON.stringify writes it; counted without building the
 * text (a result's output is measured for every call). Anything but plain data goes through stringify.
 */
export function jsonBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return jsonEncodedBytes(value) + 2;
    case 'number':
    case 'boolean':
      return String(JSON.stringify(value)).length;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let n = 1 + Math.max(1, value.length); // brackets and commas
        // stringify writes null for what it cannot show in an array
        for (const item of value) n += item === undefined || typeof item === 'function' ? 4 : jsonBytes(item);
        return n;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) break;
      let n = 2;
      let fields = 0;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        n += jsonEncodedBytes(key) + 3 + jsonBytes(item) + (fields++ > 0 ? 1 : 0);
      }
      return n;
    }
    default:
      return 0; // undefined, functions, symbols: stringify leaves them out
  }
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

/** Whether `i` splits a surrogate pair (a cut there would leave half a character). */
const splitsPair = (text: string, i: number) =>
  i > 0 && i < text.length && /[\uD800-\uDBFF]/.test(text[i - 1] as string);

/**
 * `text` whole if it takes at most `budget` bytes JSON-encoded, else its head and tail with a line in
 * between saying how many characters were left out (and `how` to read them, when given).
 */
export function fitText(text: string, budget: number, how?: string): string {
  if (text.length * 6 <= budget) return text; // no character takes more than 6 bytes encoded
  const size = jsonEncodedBytes(text);
  if (size <= budget) return text;
  let keep = Math.floor((text.length * budget) / size);
  for (let attempt = 0; attempt < 8; attempt++) {
    const cut = cutMiddle(text, Math.max(0, keep), how);
    const cutSize = jsonEncodedBytes(cut);
    if (cutSize <= budget || keep === 0) return cut;
    keep = Math.floor((keep * budget) / cutSize / 1.05) - 16;
  }
  return cutMiddle(text, 0, how);
}

function cutMiddle(text: string, keepChars: number, how?: string): string {
  const marker = (left: number) =>
    `\n[... ${left} characters left out of this result${how ? `; ${how}` : ''} ...]\n`;
  const room = Math.max(0, keepChars - marker(text.length).length);
  let headEnd = Math.ceil(room / 2);
  if (splitsPair(text, headEnd)) headEnd--;
  let tailStart = text.length - Math.floor(room / 2);
  if (splitsPair(text, tailStart)) tailStart++;
  if (tailStart < headEnd) tailStart = headEnd;
  return text.slice(0, headEnd) + marker(tailStart - headEnd) + text.slice(tailStart);
}

/**
 * The longest prefix of `items` whose entries, JSON-encoded, take at most `budget` bytes (at least one
 * entry is never promised: a single entry past the budget leaves the list empty).
 */
export function fitList<T>(items: readonly T[], budget: number, size: (item: T) => number = jsonBytes): T[] {
  let used = 2;
  let n = 0;
  for (; n < items.length; n++) {
    const cost = size(items[n] as T) + 1;
    if (used + cost > budget) break;
    used += cost;
  }
  return items.slice(0, n);
}

/** What a list tool shows of a list: the entries that fit, and where the rest are. */
export interface ListPage<T> {
  shown: T[];
  /** For structuredContent: nextOffset (pass as `offset` to see the rest) and a note saying so; empty when all fit. */
  paging: { nextOffset?: number; note?: string };
  /** For the text block: a line per entry shown (or `empty` for an empty list), then the note in brackets. */
  text: string;
}

export interface ListRequest<T> {
  /** The rest of the list from `offset` on (or a page of it), out of `total`. */
  entries: readonly T[];
  offset: number;
  total: number;
  budget: number;
  /** An entry's line in the text block. */
  line: (item: T) => string;
  /** The call that shows the entries from `next` on, for the note. */
  call: (next: number) => string;
  /** The text for an empty list. */
  empty: string;
  /** What an entry costs; default the larger of its JSON and its line, each block holding one of them. */
  cost?: (item: T) => number;
}

/** The entries of a list that fit the budget, in order, and how to see the ones left out. */
export function listPage<T>(list: ListRequest<T>): ListPage<T> {
  const cost = list.cost ?? ((item: T) => Math.max(jsonBytes(item), jsonBytes(list.line(item))) + 1);
  const shown = fitList(list.entries, list.budget, cost);
  const lines = list.total === 0 ? list.empty : shown.map(list.line).join('\n');
  const next = list.offset + shown.length;
  if (next >= list.total) return { shown, paging: {}, text: lines };
  const note = `${list.total - next} more left out of this result: ${list.call(next)} shows them`;
  return { shown, paging: { nextOffset: next, note }, text: `${lines}\n[${note}]` };
}

/** The budget per block of a call: the server's, or room for the `asked` bytes of content (max_bytes). */
export function callBudget(serverBudget: number, asked: number | undefined): number {
  if (asked === undefined) return serverBudget;
  return Math.min(RESULT_CEILING, Math.max(serverBudget, asked + RESULT_ROOM));
}

/**
 * Bytes left for a result's main content (output, file content) in a block of `budget` whose other
 * fields are `rest`, and at most what the call `asked` for.
 */
export function contentRoom(budget: number, rest: unknown, asked?: number): number {
  return Math.max(256, Math.min(asked ?? Number.POSITIVE_INFINITY, entryRoom(budget - jsonBytes(rest))));
}

/** A long string shown in a list: its start and how many characters were left out. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  if (splitsPair(text, end)) end--;
  return `${text.slice(0, end)}... [${text.length - end} more characters]`;
}

type Json = unknown;
interface Found {
  bytes: number;
  /** Replace this value in its parent. */
  set: (value: Json) => void;
  value: Json;
}

/**
 * A structured result that takes at most `budget` bytes JSON-encoded, for the wrapper's last resort: the
 * longest strings are cut in the middle (with a note in them), then the longest arrays lose entries at
 * their end. Shapes and types stay as they were (the client checks them against the outputSchema); the
 * value given is not changed.
 */
export function fitStructured<T extends object>(value: T, budget: number): T {
  let size = jsonBytes(value);
  if (size <= budget) return value;
  const root = structuredClone(value) as Json;
  for (let round = 0; round < 64 && size > budget; round++) {
    const excess = size - budget;
    const strings: Found[] = [];
    const arrays: Found[] = [];
    collect(root, strings, arrays);
    const longest = strings.sort((a, b) => b.bytes - a.bytes)[0];
    const biggest = arrays.sort((a, b) => b.bytes - a.bytes)[0];
    if (longest && longest.bytes > excess + 200 && (!biggest || longest.bytes * 4 >= biggest.bytes)) {
      longest.set(fitText(longest.value as string, longest.bytes - excess - 100));
    } else if (biggest && (biggest.value as Json[]).length > 0) {
      const list = biggest.value as Json[];
      const drop = Math.max(1, Math.ceil((list.length * excess) / Math.max(1, biggest.bytes)));
      biggest.set(list.slice(0, Math.max(0, list.length - drop)));
    } else if (longest && longest.bytes > 2) {
      longest.set(fitText(longest.value as string, Math.max(0, longest.bytes - excess - 100)));
    } else {
      break;
    }
    size = jsonBytes(root);
  }
  return root as T;
}

function collect(node: Json, strings: Found[], arrays: Found[]): void {
  const visit = (child: Json, set: (value: Json) => void) => {
    if (typeof child === 'string') {
      strings.push({ bytes: jsonEncodedBytes(child) + 2, set, value: child });
    } else if (Array.isArray(child)) {
      arrays.push({ bytes: jsonBytes(child), set, value: child });
      collect(child, strings, arrays);
    } else if (child !== null && typeof child === 'object') {
      collect(child, strings, arrays);
    }
  };
  if (Array.isArray(node)) {
    node.forEach((child, i) => {
      visit(child, (value) => {
        node[i] = value;
      });
    });
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, Json>;
    for (const key of Object.keys(record)) {
      visit(record[key], (value) => {
        record[key] = value;
      });
    }
  }
}
