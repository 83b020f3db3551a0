/**
 * Habits from PCRE, Python and TextFSM that JavaScript regular expressions (compiled without the `u` flag,
 * as dialect patterns are) do not share. Some make a pattern fail to load; worse, some load and mean
 * something else. Each explanation says what to write instead.
 */

/** Escapes that mean something in JavaScript; any other escaped letter is just that letter. */
const JS_ESCAPE_LETTERS = new Set('dDwWsSbBnrtfvcxuk');

const LETTER_ESCAPE_FIX: Record<string, string> = {
  A: 'write ^ for the start',
  Z: 'write $ for the end',
  z: 'write $ for the end',
  h: 'write [ \\t] for a blank',
  H: 'write [^ \\t]',
  R: 'write \\r?\\n for a line break',
  Q: 'escape each special character with \\ instead of \\Q...\\E',
  E: 'escape each special character with \\ instead of \\Q...\\E',
  p: 'Unicode classes need a flag dialects do not use: write a class such as [A-Za-z]',
  P: 'Unicode classes need a flag dialects do not use: write a class such as [^A-Za-z]',
  e: 'write \\x1b for the escape character',
  a: 'write \\x07 for the bell character',
};

const POSIX_CLASS_FIX: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  blank: ' \\t',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
};

interface Position {
  at: number;
  /** The character at `at`; for an escape, the character after the backslash. */
  char: string;
  escaped: boolean;
  inClass: boolean;
}

/** Each character of a pattern with whether it is escaped or inside a [class]. */
function* walk(source: string): Generator<Position> {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i] as string;
    if (char === '\\' && i + 1 < source.length) {
      i++;
      yield { at: i - 1, char: source[i] as string, escaped: true, inClass };
      continue;
    }
    yield { at: i, char, escaped: false, inClass };
    if (!inClass && char === '[') inClass = true;
    else if (inClass && char === ']') inClass = false;
  }
}

/**
 * For a pattern that does not compile: the habit that broke it and what to write instead, or undefined
 * when it is none of the known ones (the engine's own message then has to do).
 */
export function regexErrorHint(source: string): string | undefined {
  let previous: Position | undefined;
  for (const pos of walk(source)) {
    if (!pos.escaped && !pos.inClass && pos.char === '(' && source[pos.at + 1] === '?') {
      const rest = source.slice(pos.at + 2);
      if (/^P[<=>]/.test(rest))
        return 'Python named groups are written (?<name>...) in JavaScript, without the P';
      if (/^(?:[a-zA-Z]+(?:-[a-zA-Z]*)?|-[a-zA-Z]+)[):]/.test(rest))
        return 'JavaScript has no inline flag groups such as (?i) or (?im): write both cases ([Pp]assword); patterns that need no case (input_wait) already ignore it';
      if (rest.startsWith('>')) return 'JavaScript has no atomic groups (?>...): write a plain group (?:...)';
      if (rest.startsWith('#'))
        return 'JavaScript has no comments (?#...) inside a pattern: use a YAML comment';
    }
    // A quantifier followed by + is possessive in PCRE; JavaScript has none.
    if (
      previous &&
      !pos.escaped &&
      !pos.inClass &&
      pos.char === '+' &&
      !previous.escaped &&
      !previous.inClass &&
      '*+?}'.includes(previous.char) &&
      source[previous.at - 1] !== '('
    ) {
      return `JavaScript has no possessive quantifiers (${previous.char}+): drop the last +, as in \\s? for \\s?+`;
    }
    previous = pos;
  }
  return undefined;
}

/** Things that load but surely do not mean what the author meant, each with what to write. */
export function regexPitfalls(source: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const note = (text: string) => {
    if (!seen.has(text)) found.push(text);
    seen.add(text);
  };
  const namedGroups = /\(\?<[A-Za-z_]/.test(source);
  for (const pos of walk(source)) {
    if (pos.escaped && /[A-Za-z]/.test(pos.char) && !JS_ESCAPE_LETTERS.has(pos.char)) {
      const fix = LETTER_ESCAPE_FIX[pos.char] ?? 'remove the backslash or write what you mean as a class';
      note(`\\${pos.char} is no escape in JavaScript: it matches the letter "${pos.char}" — ${fix}`);
    } else if (pos.escaped && pos.char === 'k' && !namedGroups) {
      note('\\k is a back-reference only in a pattern with named groups: here it matches the letter "k"');
    } else if (!pos.escaped && !pos.inClass && pos.char === '{') {
      const brace = /^\{,(\d+)\}/.exec(source.slice(pos.at));
      if (brace)
        note(`{,${brace[1]}} matches the text "{,${brace[1]}}" in JavaScript — write {0,${brace[1]}}`);
    } else if (!pos.escaped && pos.inClass && pos.char === '[') {
      const posix = /^\[:([a-z]+):\]/.exec(source.slice(pos.at));
      if (posix) {
        const range = POSIX_CLASS_FIX[posix[1] as string];
        note(
          `[:${posix[1]}:] is no class in JavaScript: it is the characters ":${posix[1]}" in a set${range ? ` — write [${range}]` : ''}`,
        );
      }
    }
  }
  return found;
}
