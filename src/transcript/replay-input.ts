import { StringDecoder } from 'node:string_decoder';
import { SECRET_PLACEHOLDER } from './format.js';

/**
 * What a client types, compared with what was recorded. Line endings are one thing here (`\r`, `\n` and
 * `\r\n` all become `\n`: terminals send CR, scripts LF), and a `{{secret:NAME}}` in a recording stands
 * for whatever the client types there.
 */

export type InputPart = { literal: string } | { secret: string };

export interface InputPattern {
  /** As recorded, for messages. */
  recorded: string;
  parts: InputPart[];
  /** Ends with a line end, like a command; false for a single key (space at a pager, Ctrl+C). */
  lineEnded: boolean;
  /** No printable text: Enter alone, or a control key. What it means depends wholly on the state. */
  blank: boolean;
  hasSecret: boolean;
}

/** Full match of `length` characters from the buffer's start; 'prefix' when the buffer may still become one. */
export type InputMatch = { length: number } | 'prefix' | undefined;

export function normalizeLineEnds(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** Printable text of one input: no line ends, no control characters. */
export function visibleText(text: string): string {
  return text.replace(/\x1b(?:\[[0-9;?]*[@-~]|O.|.)?|[\x00-\x1f\x7f]/g, '');
}

/**
 * Compiles a recorded input. A secret whose value is given matches exactly that value; otherwise it
 * matches any text up to the line end.
 */
export function compileInput(recorded: string, secrets: Record<string, string> = {}): InputPattern {
  const parts: InputPart[] = [];
  let hasSecret = false;
  let last = 0;
  const pushLiteral = (text: string) => {
    if (text === '') return;
    const previous = parts[parts.length - 1];
    if (previous && 'literal' in previous) previous.literal += text;
    else parts.push({ literal: text });
  };
  for (const m of recorded.matchAll(new RegExp(SECRET_PLACEHOLDER.source, 'g'))) {
    pushLiteral(normalizeLineEnds(recorded.slice(last, m.index)));
    hasSecret = true;
    const name = m[1] as string;
    const value = secrets[name];
    if (value !== undefined) pushLiteral(value);
    else parts.push({ secret: name });
    last = m.index + m[0].length;
  }
  pushLiteral(normalizeLineEnds(recorded.slice(last)));
  const normalized = normalizeLineEnds(recorded);
  return {
    recorded,
    parts,
    lineEnded: normalized.endsWith('\n'),
    blank: !hasSecret && visibleText(normalized) === '',
    hasSecret,
  };
}

/** Does the (normalised) buffer start with this input, or could it still grow into it? */
export function matchInput(pattern: InputPattern, buffer: string): InputMatch {
  let pos = 0;
  for (const part of pattern.parts) {
    if ('literal' in part) {
      const rest = buffer.slice(pos, pos + part.literal.length);
      if (rest === part.literal) {
        pos += part.literal.length;
        continue;
      }
      return rest.length < part.literal.length && part.literal.startsWith(rest) ? 'prefix' : undefined;
    }
    // A secret runs to the line end; the line end itself belongs to what follows it.
    const end = buffer.indexOf('\n', pos);
    if (end === -1) return 'prefix';
    pos = end;
  }
  return { length: pos };
}

/**
 * The client's bytes as text with line ends normalised. A CR followed by LF counts once even when they
 * arrive in separate packets. With `editing`, Backspace and DEL remove the character before them, as a
 * device's line editor would (only used when no recorded input holds those keys).
 */
export class InputBuffer {
  private readonly decoder = new StringDecoder('utf8');
  private afterCr = false;
  text = '';

  constructor(private readonly editing: boolean) {}

  push(data: Buffer | string): void {
    const chunk = typeof data === 'string' ? data : this.decoder.write(data);
    let out = this.text;
    for (const ch of chunk) {
      if (ch === '\n' && this.afterCr) {
        this.afterCr = false;
        continue;
      }
      this.afterCr = ch === '\r';
      if (ch === '\r') out += '\n';
      else if (this.editing && (ch === '\b' || ch === '\x7f')) {
        if (out !== '' && !out.endsWith('\n')) out = out.slice(0, -1);
      } else out += ch;
    }
    this.text = out;
  }

  take(length: number): string {
    const taken = this.text.slice(0, length);
    this.text = this.text.slice(length);
    return taken;
  }
}

const ESCAPE_UNIT = /^\x1b(?:\[[0-9;?]*[@-~]|O.|[^[O])/;

/**
 * Length of the first complete piece of input that must be answered on its own: a line (up to and
 * including its line end), or text ended by a control key or escape sequence (Ctrl+C, an arrow key).
 * With `singleKey` (a pager, a [confirm] question: the device acts on one key), the first key alone.
 * Undefined while the client is still typing.
 */
export function firstInputUnit(buffer: string, singleKey: boolean): number | undefined {
  for (let i = 0; i < buffer.length; i++) {
    const ch = buffer[i] as string;
    if (ch === '\x1b') {
      const m = ESCAPE_UNIT.exec(buffer.slice(i));
      if (!m) return undefined; // the rest of the sequence is on its way
      return i + m[0].length;
    }
    if (ch === '\n' || (ch < ' ' && ch !== '\t') || ch === '\x7f') return i + 1;
    if (singleKey) {
      const code = buffer.codePointAt(i) ?? 0;
      return i + (code > 0xffff ? 2 : 1);
    }
  }
  return undefined;
}
