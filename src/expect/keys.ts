/**
 * Named keys for `send_keys`: text with `<name>` tokens turned into the bytes a terminal (xterm) sends.
 *
 * Rules:
 * - A token is `<`, one or more characters that are neither whitespace nor `<` or `>`, then `>`: `<enter>`,
 *   `<ctrl-c>`, `<F5>`. Names are case-insensitive (`<Enter>` = `<ENTER>`), except the character after `alt-`,
 *   which is sent as written (`<alt-x>` = ESC x, `<alt-X>` = ESC X).
 * - Every other character is sent as it is: `a < b`, `x<3`, `<<EOF` and `<>` contain no token.
 * - A token that is not a known name is an error and nothing is sent. To send text that looks like a token,
 *   write its `<` as `<lt>`: `<lt>div>` sends `<div>`. (`<gt>` sends `>`, for symmetry; a bare `>` is literal.)
 */

const ESC = '\x1b';

export interface ParseKeysOptions {
  /**
   * The program turned on application cursor keys (DECCKM, `ESC[?1h`; vim, less and most full-screen
   * programs do): arrows, Home and End are then sent as `ESC O x` instead of `ESC [ x`.
   */
  applicationCursor?: boolean;
}

/** Keys whose bytes do not depend on the cursor key mode. */
const FIXED: Record<string, string> = {
  enter: '\r',
  return: '\r',
  tab: '\t',
  'shift-tab': `${ESC}[Z`,
  esc: ESC,
  escape: ESC,
  space: ' ',
  backspace: '\x7f',
  delete: `${ESC}[3~`,
  del: `${ESC}[3~`,
  insert: `${ESC}[2~`,
  pgup: `${ESC}[5~`,
  pageup: `${ESC}[5~`,
  pgdn: `${ESC}[6~`,
  pagedown: `${ESC}[6~`,
  lt: '<',
  gt: '>',
};

/** F1..F4 are SS3 P..S, F5..F12 the VT220 codes (F6 is 17: the numbering skips 16 and 22). */
const FUNCTION: Record<string, string> = {
  f1: `${ESC}OP`,
  f2: `${ESC}OQ`,
  f3: `${ESC}OR`,
  f4: `${ESC}OS`,
  f5: `${ESC}[15~`,
  f6: `${ESC}[17~`,
  f7: `${ESC}[18~`,
  f8: `${ESC}[19~`,
  f9: `${ESC}[20~`,
  f10: `${ESC}[21~`,
  f11: `${ESC}[23~`,
  f12: `${ESC}[24~`,
};

/** Keys sent as CSI x normally and SS3 x (ESC O x) in application cursor mode, by their final letter. */
const CURSOR: Record<string, string> = { up: 'A', down: 'B', right: 'C', left: 'D', home: 'H', end: 'F' };

/** Control characters: ctrl-a..ctrl-z are 0x01..0x1a; the others are the C0 codes xterm sends for them. */
const CTRL: Record<string, string> = {
  '@': '\x00',
  space: '\x00',
  '[': '\x1b',
  '\\': '\x1c',
  ']': '\x1d',
  '^': '\x1e',
  _: '\x1f',
};
for (let code = 0x61; code <= 0x7a; code++)
  CTRL[String.fromCharCode(code)] = String.fromCharCode(code - 0x60);

/**
 * Every key name accepted (lower case, without the angle brackets), for a tool description. Not listed: the
 * `alt-` prefix, which takes any one character or any of these names (`alt-x`, `alt-backspace`).
 */
export const KEY_NAMES: readonly string[] = [
  ...Object.keys(FIXED),
  ...Object.keys(CURSOR),
  ...Object.keys(FUNCTION),
  ...Object.keys(CTRL).map((key) => `ctrl-${key}`),
];

/** The names in short form, for error messages and tool descriptions. */
export const KEY_NAMES_SUMMARY =
  '<enter> (<return>), <tab>, <shift-tab>, <esc> (<escape>), <space>, <backspace>, <delete> (<del>), ' +
  '<insert>, <up>, <down>, <left>, <right>, <home>, <end>, <pgup> (<pageup>), <pgdn> (<pagedown>), ' +
  '<f1>..<f12>, <ctrl-a>..<ctrl-z>, <ctrl-@> (<ctrl-space>), <ctrl-[>, <ctrl-\\>, <ctrl-]>, <ctrl-^>, <ctrl-_>, ' +
  '<alt-X> (ESC then the character X, or ESC then a named key: <alt-backspace>), ' +
  '<lt> for a literal "<" (<lt>div> sends "<div>"), <gt> for ">"; names are case-insensitive';

/** `<`, a name without whitespace or angle brackets, `>`. */
const TOKEN = /<([^\s<>]+)>/g;

/** A table's own entry only: `<constructor>` or `<__proto__>` must not find Object.prototype's. */
function own(table: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function namedKey(name: string, applicationCursor: boolean): string | undefined {
  const lower = name.toLowerCase();
  const fixed = own(FIXED, lower) ?? own(FUNCTION, lower);
  if (fixed !== undefined) return fixed;
  const cursor = own(CURSOR, lower);
  if (cursor !== undefined) return (applicationCursor ? `${ESC}O` : `${ESC}[`) + cursor;
  if (lower.startsWith('ctrl-')) return own(CTRL, lower.slice(5));
  if (lower.startsWith('alt-')) {
    const rest = name.slice(4);
    // One character (a surrogate pair counts as one) is sent as written; otherwise it must name a key.
    if ([...rest].length === 1) return ESC + rest;
    if (rest.toLowerCase().startsWith('alt-')) return undefined;
    const key = namedKey(rest, applicationCursor);
    return key === undefined ? undefined : ESC + key;
  }
  return undefined;
}

/**
 * Turn `<name>` tokens in `input` into key bytes; other text is kept as it is. Throws (naming the unknown
 * token and listing the valid names) if any token is not a key, so nothing is sent on a typo.
 */
export function parseKeys(input: string, options: ParseKeysOptions = {}): string {
  const applicationCursor = options.applicationCursor ?? false;
  const unknown: string[] = [];
  const out = input.replace(TOKEN, (token: string, name: string) => {
    const key = namedKey(name, applicationCursor);
    if (key === undefined) {
      unknown.push(token);
      return token;
    }
    return key;
  });
  if (unknown.length > 0) {
    const names = [...new Set(unknown)];
    throw new Error(
      `unknown key name${names.length > 1 ? 's' : ''} ${names.join(', ')}; nothing was sent. Valid keys: ${KEY_NAMES_SUMMARY}. ` +
        'To send text that looks like a key name, write its "<" as <lt>.',
    );
  }
  return out;
}
