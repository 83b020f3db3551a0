/**
 * Whether JSON text nests arrays and objects deeper than `max`, brackets inside strings not counted.
 * V8 parses deep nesting, but slowly (10 MiB of `[` takes seconds, with the event loop blocked), and
 * JSON.stringify and recursive validators overflow the stack on what it returns: such a message is
 * refused before it is parsed. One pass over the bytes, stopping at the first level too deep.
 */
export function exceedsDepth(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // a backslash escapes the next byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > max) return true;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return false;
}
