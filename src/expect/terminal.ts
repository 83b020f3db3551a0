// CSI and OSC sequences, charset selection and other two-byte escapes; bracketed paste is a CSI.
const TERMINAL_ESCAPES =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[@-Z\\-_=>])/g;
/** A pager erasing itself: backspaces over its text, spaces over it, backspaces again. */
const BACKSPACE_ERASE = /\x08+ *\x08*/g;
/** An escape sequence, or a CR, cut off at the end of a chunk: kept until the next chunk completes it. */
const UNFINISHED_TAIL = /(?:\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[()])?|\r+)$/;

/** Strip terminal escape codes, pager erasures, and turn CRLF (and CRs before LF) into LF. */
export function cleanTerminalText(text: string): string {
  let out = text;
  if (out.includes('\x1b')) out = out.replace(TERMINAL_ESCAPES, '');
  if (out.includes('\x08')) out = out.replace(BACKSPACE_ERASE, '');
  if (out.includes('\r')) out = out.replace(/\r+\n/g, '\n');
  return out;
}

/**
 * Cleans a stream chunk by chunk. A sequence or CRLF split across two chunks is held back until the next
 * one, so cleaning per chunk gives the same text as cleaning the whole.
 */
export class TerminalCleaner {
  private carry = '';

  push(text: string): string {
    let input = this.carry + text;
    this.carry = '';
    // Only text that can end mid-sequence needs the (slower) tail check.
    const last = input.charCodeAt(input.length - 1);
    if (input.includes('\x1b') || last === 0x0d) {
      const tail = UNFINISHED_TAIL.exec(input);
      if (tail && tail[0].length > 0 && tail[0].length < 64) {
        this.carry = tail[0];
        input = input.slice(0, tail.index);
      }
    }
    return cleanTerminalText(input);
  }

  /** What is still held back, for when the stream ends. */
  flush(): string {
    const rest = this.carry;
    this.carry = '';
    return rest;
  }
}

/** What a terminal shows of a line: a carriage return (devices send one before a prompt) starts it over. */
export function shownLine(line: string): string {
  const cr = line.lastIndexOf('\r');
  return cr < 0 || cr === line.length - 1 ? line : line.slice(cr + 1);
}
