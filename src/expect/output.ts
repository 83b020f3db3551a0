/**
 * What a command printed, within a memory bound: the first half of the cap and a rolling last half, plus
 * an exact count of everything that went by (OutputStore keeps it).
 */
export interface CapturedOutput {
  head: string;
  /** Empty unless the output outgrew the head. */
  tail: string;
  omittedBytes: number;
  totalBytes: number;
}

export interface ShapedOutput {
  output: string;
  truncated: boolean;
  omittedBytes: number;
}

/**
 * Bytes a string takes inside a JSON string, as JSON.stringify writes it in UTF-8: `\n` and `"` are 2 bytes,
 * other controls and lone surrogates 6 (`\uXXXX`). One pass, no copy: every result is measured with it.
 */
export function jsonEncodedBytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20) n += c === 0x22 || c === 0x5c ? 2 : 1;
      else n += c === 0x0a || c === 0x0d || c === 0x09 || c === 0x08 || c === 0x0c ? 2 : 6;
    } else if (c < 0x800) n += 2;
    else if (c < 0xd800 || c > 0xdfff) n += 3;
    else if (c < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4; // a surrogate pair: one 4-byte character
      i++;
    } else n += 6;
  }
  return n;
}

/** Control characters that JSON escapes as \uXXXX (6 bytes each). */
const WIDE_ESCAPES = /[\x00-\x07\x0b\x0e-\x1f]/;

/**
 * Fit captured output into one tool result: at most `limitBytes` once JSON-encoded (binary output full of
 * control characters grows up to 6x when escaped). Head and tail are kept, with a line saying exactly how
 * much was left out in between.
 */
export function shapeOutput(captured: CapturedOutput, limitBytes: number): ShapedOutput {
  let budget = limitBytes;
  for (let attempt = 0; attempt < 8; attempt++) {
    const shaped = cut(captured, budget);
    // Escaping at most doubles text without wide escapes, and at most multiplies by 6 any text, so most
    // output needs no byte-by-byte measuring.
    const length = shaped.output.length;
    if (length * 6 <= limitBytes) return shaped;
    if (
      length * 2 <= limitBytes &&
      Buffer.byteLength(shaped.output) * 2 <= limitBytes &&
      !WIDE_ESCAPES.test(shaped.output)
    ) {
      return shaped;
    }
    const size = jsonEncodedBytes(shaped.output);
    if (size <= limitBytes) return shaped;
    budget = Math.floor((budget * limitBytes) / size / 1.05);
  }
  return cut(captured, 0);
}

function cut(captured: CapturedOutput, limit: number): ShapedOutput {
  const whole = captured.head.length + captured.tail.length;
  if (captured.omittedBytes === 0 && whole <= limit) {
    return { output: captured.head + captured.tail, truncated: false, omittedBytes: 0 };
  }
  const half = Math.floor(limit / 2);
  const head = captured.head.slice(0, half);
  let tail = captured.tail.length > 0 ? captured.tail : captured.head.slice(head.length);
  tail = tail.slice(Math.max(0, tail.length - half));
  const omitted = Math.max(0, captured.totalBytes - Buffer.byteLength(head) - Buffer.byteLength(tail));
  const notice = `\n[... ${omitted} of ${captured.totalBytes} bytes left out here ...]\n`;
  return { output: head + notice + tail, truncated: true, omittedBytes: omitted };
}
