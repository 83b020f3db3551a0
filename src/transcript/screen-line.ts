import { StringDecoder } from 'node:string_decoder';

/** Longest line kept: prompts and questions are short; a longer line is cut from the left. */
const MAX_LINE = 4096;

// ESC [ params final | ESC ] ... (BEL | ESC \) | ESC one char. Anything else is a single character.
const ESCAPE = /^\x1b(?:\[([0-9;?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[^[\]])/;

/**
 * Follows the text a device sends and knows what its last line looks like on a terminal: escape codes
 * dropped, CR back to column 0, backspace one column left, erase-line honoured. That line is the prompt
 * or question the device is waiting at (`\r\ncsr1000v#` shows `csr1000v#`).
 */
export class ScreenLine {
  private readonly decoder = new StringDecoder('utf8');
  /** Raw text since the last line feed (escape codes still in it, so one split across writes completes). */
  private raw = '';

  feed(data: Buffer | string): void {
    const text = typeof data === 'string' ? data : this.decoder.write(data);
    const lf = text.lastIndexOf('\n');
    this.raw = lf === -1 ? this.raw + text : text.slice(lf + 1);
    if (this.raw.length > MAX_LINE) this.raw = this.raw.slice(-MAX_LINE);
  }

  /** The line as the terminal shows it, trailing spaces included. */
  get line(): string {
    return renderLine(this.raw);
  }
}

/** What a terminal shows for one line of raw text (no line feeds in it). */
export function renderLine(raw: string): string {
  const cells: string[] = [];
  let col = 0;
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i] as string;
    if (ch === '\x1b') {
      const m = ESCAPE.exec(raw.slice(i));
      if (!m) break; // an escape sequence still arriving
      i += m[0].length;
      const final = m[2];
      const n = Number.parseInt(m[1] ?? '', 10);
      if (final === 'K') {
        if (Number.isNaN(n) || n === 0) cells.length = Math.min(cells.length, col);
        else if (n === 1) cells.fill(' ', 0, Math.min(col + 1, cells.length));
        else cells.length = 0;
      } else if (final === 'D') col = Math.max(0, col - (Number.isNaN(n) ? 1 : n));
      else if (final === 'C') col += Number.isNaN(n) ? 1 : n;
      else if (final === 'G') col = Math.max(0, (Number.isNaN(n) ? 1 : n) - 1);
      continue;
    }
    i++;
    if (ch === '\r') col = 0;
    else if (ch === '\b') col = Math.max(0, col - 1);
    else if (ch === '\t') col = (Math.floor(col / 8) + 1) * 8;
    else if (ch < ' ' || ch === '\x7f') continue;
    else {
      while (cells.length < col) cells.push(' ');
      cells[col++] = ch;
    }
  }
  return cells.join('');
}

/** What two states are compared by: the line without surrounding blanks (some prompts end in a space). */
export const stateKey = (line: string) => line.trim();
