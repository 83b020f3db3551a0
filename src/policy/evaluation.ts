import { type Hazard, hazards } from './hazards.js';
import type { Word } from './word.js';

/**
 * What bash evaluates a second time, after the parser has read the line: arithmetic and array subscripts
 * (where a variable's value is evaluated in turn, and a subscript's `$(...)` runs), parameter operators,
 * `[[ ]]` operands. The parser asks these questions; every answer is computed in linear time.
 */

/** Numbers as arithmetic writes them: 42, 0x1F, 077, 16#ff, 64#_@. */
const NUMBER = /\b(?:0[xX][0-9A-Fa-f]+|\d+#[0-9A-Za-z@_]+|\d+)\b/g;

/**
 * Arithmetic (or an indexed array's subscript) that names a variable or expands something: bash evaluates
 * the variable's value as arithmetic too, so `x='a[$(cmd)]'; echo $((x))` runs cmd.
 */
export function arithmeticReadsVariables(text: string): boolean {
  return /[A-Za-z_$`]/.test(text.replace(NUMBER, ''));
}

/**
 * Text holding `name[...$(...)...]` (or a backtick or `$[` in the subscript): where bash evaluates it as a
 * name, the substitution runs.
 */
export function hasSubscriptCode(text: string): boolean {
  if (!text.includes('[')) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') {
      if (depth > 0 || (i > 0 && /[A-Za-z0-9_]/.test(text[i - 1] as string))) depth++;
    } else if (c === ']') {
      if (depth > 0) depth--;
    } else if (depth > 0 && (c === '`' || (c === '$' && (text[i + 1] === '(' || text[i + 1] === '[')))) {
      return true;
    }
  }
  return false;
}

const ARITHMETIC_TESTS = new Set(['-eq', '-ne', '-lt', '-le', '-gt', '-ge']);
const CONDITIONAL_OPERATORS = new Set(['!', '(', ')']);

/**
 * `[[ ]]` whose operands bash may evaluate: any expansion (its value can be an operand of -eq, which is
 * arithmetic, or of -v), `-v` and `-R` (which evaluate a subscript), or an arithmetic test on anything but
 * numbers.
 */
export function conditionalEvaluates(words: readonly Word[]): boolean {
  let arithmetic = false;
  for (const word of words) {
    if (word.dynamic || word.value === '-v' || word.value === '-R') return true;
    if (ARITHMETIC_TESTS.has(word.value)) arithmetic = true;
  }
  return (
    arithmetic &&
    words.some(
      (w) =>
        !ARITHMETIC_TESTS.has(w.value) && !CONDITIONAL_OPERATORS.has(w.value) && !/^[-+]?\d+$/.test(w.value),
    )
  );
}

/** Where a redirection of stdin reads from: a file, or a descriptor or device whose content is unseen. */
export function inputKind(target: Word): 'file' | 'descriptor' {
  if (target.dynamic) return 'descriptor';
  return /^\/dev\/(?:fd\/|stdin$|tcp\/|udp\/)|^\/proc\/[^/]+\/(?:task\/[^/]+\/)?fd\//.test(target.value)
    ? 'descriptor'
    : 'file';
}

const PARAMETER_NAME = /[A-Za-z_][A-Za-z0-9_]*|\d+|[@*#?$!-]/y;

/**
 * The hazard in a `${...}` expansion, given what is between the braces: `@P` (prompt expansion runs the
 * value's substitutions), `!x` (indirection), a subscript or substring offset that reads variables.
 */
export function parameterHazard(content: string, text: string): Hazard | undefined {
  if (content.endsWith('@P')) return hazards.promptExpansion(text);
  let i = 0;
  const indirect = content[0] === '!' && content.length > 1;
  if (indirect || (content[0] === '#' && content.length > 1)) i = 1;
  PARAMETER_NAME.lastIndex = i;
  const name = PARAMETER_NAME.exec(content);
  if (!name) return undefined;
  i = PARAMETER_NAME.lastIndex;
  let rest = content.slice(i);
  // `${!prefix*}` and `${!array[@]}` list names and keys; anything else after `!` is indirection.
  if (indirect && !/^(?:[*@]|\[[*@]\])$/.test(rest)) return hazards.indirection(text);
  if (rest.startsWith('[')) {
    const end = closingBracket(rest);
    const subscript = rest.slice(1, end);
    if (subscript !== '@' && subscript !== '*' && arithmeticReadsVariables(subscript)) {
      return hazards.arithmetic(text);
    }
    rest = rest.slice(end + 1);
  }
  // `${x:offset:length}` is arithmetic; `${x:-word}`, `:=`, `:?` and `:+` are not.
  if (rest.startsWith(':') && !/^:[-=?+]/.test(rest) && arithmeticReadsVariables(rest.slice(1))) {
    return hazards.arithmetic(text);
  }
  return undefined;
}

/** The index of the `]` closing the `[` at 0, or the end. */
function closingBracket(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']' && --depth === 0) return i;
  }
  return text.length;
}
