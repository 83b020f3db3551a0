/**
 * Glob matching in time linear in the text (times the pattern's length), for patterns matched against
 * text a caller chose. The RegExp these globs used to become backtracks: `/*a*a*a*b` took 95 s on a
 * 1 KiB path. Here every position in the pattern is tracked at once (a Thompson NFA), so no input can
 * make it slow.
 */

type Token =
  /** One literal character. */
  | { kind: 'char'; char: string }
  /** `?`: one character, not the separator. */
  | { kind: 'one' }
  /** `*`: any run of characters without the separator. */
  | { kind: 'star' }
  /** `**` (or `*` without a separator): any run of characters. */
  | { kind: 'any' }
  /** `**` then the separator: nothing (skip to after dirBody), or dirBody. */
  | { kind: 'dirEntry' }
  /** The rest of `**` then the separator: any run of characters that ends in the separator. */
  | { kind: 'dirBody' }
  /** The `/` of a trailing `/**`: optional, so `/etc/**` also matches `/etc` itself. */
  | { kind: 'tailSlash' };

export interface Glob {
  test(text: string): boolean;
}

export interface GlobOptions {
  /** Where `*` and `?` stop and `**` goes on; without one, `*` is any run and `?` any character. */
  separator?: string;
}

function compile(pattern: string, separator: string | undefined): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && separator !== undefined && pattern[i + 1] === '*') {
      const dir = pattern[i + 2] === separator;
      if (dir) tokens.push({ kind: 'dirEntry' }, { kind: 'dirBody' });
      else tokens.push({ kind: 'any' });
      i += dir ? 2 : 1;
    } else if (c === '*') tokens.push({ kind: separator === undefined ? 'any' : 'star' });
    else if (c === '?') tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'char', char: c });
  }
  const last = tokens.length - 1;
  const before = tokens[last - 1];
  if (separator !== undefined && tokens[last]?.kind === 'any' && before?.kind === 'char') {
    if (before.char === separator) tokens[last - 1] = { kind: 'tailSlash' };
  }
  return tokens;
}

/** Adds the positions reachable without reading a character (edges only go forward: one pass). */
function close(states: Uint8Array, tokens: Token[]): void {
  for (let i = 0; i < tokens.length; i++) {
    if (!states[i]) continue;
    const kind = (tokens[i] as Token).kind;
    if (kind === 'star' || kind === 'any') states[i + 1] = 1;
    else if (kind === 'tailSlash') states[i + 2] = 1;
    else if (kind === 'dirEntry') {
      states[i + 1] = 1;
      states[i + 2] = 1;
    }
  }
}

export function globMatcher(pattern: string, options: GlobOptions = {}): Glob {
  const sep = options.separator;
  const tokens = compile(pattern, sep);
  const size = tokens.length + 1;
  return {
    test(text: string): boolean {
      let states = new Uint8Array(size);
      let next = new Uint8Array(size);
      states[0] = 1;
      close(states, tokens);
      for (let p = 0; p < text.length; p++) {
        const c = text[p] as string;
        next.fill(0);
        let any = false;
        for (let i = 0; i < tokens.length; i++) {
          if (!states[i]) continue;
          const token = tokens[i] as Token;
          switch (token.kind) {
            case 'char':
              if (c === token.char) next[i + 1] = 1;
              break;
            case 'one':
              if (c !== sep) next[i + 1] = 1;
              break;
            case 'star':
              if (c !== sep) next[i] = 1;
              break;
            case 'any':
              next[i] = 1;
              break;
            case 'dirBody':
              next[i] = 1;
              if (c === sep) next[i + 1] = 1;
              break;
            case 'tailSlash':
              if (c === sep) next[i + 1] = 1;
              break;
          }
        }
        close(next, tokens);
        for (let i = 0; i < size && !any; i++) any = next[i] === 1;
        if (!any) return false; // no position left: nothing further can match
        [states, next] = [next, states];
      }
      return states[tokens.length] === 1;
    },
  };
}
