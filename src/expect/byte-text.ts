/**
 * Bytes from a host as text, one byte for one byte where they are not UTF-8: each byte of an invalid
 * sequence becomes `?`. A binary output of 300,000 bytes is then 300,000 bytes of text, so byte counts and
 * offsets agree with what the host sent (U+FFFD would take three bytes for each), and nothing in it can
 * break a JSON string. A sequence split across two chunks is kept for the next one.
 */
export class ByteTextDecoder {
  /** The start of a sequence the last chunk ended in (at most 3 bytes). */
  private rest: Buffer = Buffer.alloc(0);

  write(chunk: Buffer): string {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const keep = incompleteTail(data);
    this.rest = keep > 0 ? Buffer.from(data.subarray(data.length - keep)) : Buffer.alloc(0);
    return decode(keep > 0 ? data.subarray(0, data.length - keep) : data);
  }

  /** What is left at the end of the stream: an unfinished sequence, one `?` per byte. */
  end(): string {
    const left = '?'.repeat(this.rest.length);
    this.rest = Buffer.alloc(0);
    return left;
  }
}

const SUBSTITUTE = 0x3f; // '?'

function decode(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  // Fast path: native decoding, unless it had to replace something (or the text holds U+FFFD itself).
  if (!text.includes('\uFFFD')) return text;
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; ) {
    const len = sequenceLength(bytes, i);
    if (len === 0) {
      out[n++] = SUBSTITUTE;
      i++;
    } else {
      bytes.copy(out, n, i, i + len);
      n += len;
      i += len;
    }
  }
  return out.toString('utf8', 0, n);
}

/** Length of the valid UTF-8 sequence at `i` (RFC 3629: no overlongs, surrogates or past U+10FFFF), else 0. */
function sequenceLength(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && ((b[i + k] as number) & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  const c1 = b[i + 1] as number;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f)) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
    return 4;
  }
  return 0;
}

/** How many bytes at the end of `data` start a sequence that may be completed by the next chunk. */
function incompleteTail(data: Buffer): number {
  for (let back = 1; back <= Math.min(3, data.length); back++) {
    const c = data[data.length - back] as number;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}
