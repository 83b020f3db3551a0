import type { Dialect, Responder } from './dialect.js';
import { compilePattern } from './pattern.js';

/**
 * Patterns only ever see bounded input, so even one that backtracks cannot take long: a last line is
 * looked at by its last LINE_WINDOW characters (prompts, pagers and questions are short), and output is
 * searched for errors in its first and last ERROR_WINDOW characters, line by line.
 */
export const LINE_WINDOW = 1024;
export const ERROR_WINDOW = 64 * 1024;
const ERROR_LINE_MAX = 4096;

const window = (line: string) => (line.length > LINE_WINDOW ? line.slice(-LINE_WINDOW) : line);

/**
 * How the runner matches a dialect's patterns against what a device prints. The runner and the dialect
 * tools (validate, explain) both call these, so a check of an example is the runner's own rule.
 */

/** No prompt yet and the device has been quiet this long: press Enter, as a person would. */
export const FIND_PROMPT_MS = 1000;
export const FIND_PROMPT_TRIES = 3;
/** A login answer sent more often than this is not getting anywhere. */
export const LOGIN_ANSWERS_MAX = 3;
/**
 * A last line that has a mode's prompt shape but other values (a new host name) ends the command once the
 * device has been quiet this long: a prompt waits, output that merely looks like one goes on.
 */
export const RELEARN_QUIET_MS = 500;

/** A mode's prompt with the learned values filled in, anchored to a whole line. */
export interface ModePattern {
  name: string;
  prompt: RegExp;
  contextLines: RegExp[];
}

/** The values `prompt_learn` takes from a first prompt (its named groups that matched), or undefined. */
export function learnFromPrompt(
  dialect: Pick<Dialect, 'promptLearn'>,
  line: string,
): Record<string, string> | undefined {
  const learned = dialect.promptLearn?.exec(window(line));
  return learned ? definedOnly(learned.groups) : undefined;
}

/**
 * Every mode's prompt rendered with the learned values over the defaults, anchored at both ends.
 * Throws when a prompt needs a value nobody has given.
 */
export function renderModePrompts(
  dialect: Pick<Dialect, 'modes' | 'defaults' | 'trusted'>,
  vars: Readonly<Record<string, string>>,
): ModePattern[] {
  return dialect.modes.map((m) => ({
    name: m.name,
    prompt: runtimePattern(dialect, `^(?:${m.prompt.render({ ...dialect.defaults, ...vars })})$`),
    contextLines: m.contextLines,
  }));
}

/** A pattern a dialect's template made at run time, on the engine its dialect's patterns use. */
export function runtimePattern(dialect: Pick<Dialect, 'trusted'>, source: string, flags = ''): RegExp {
  return compilePattern(source, flags, dialect.trusted).regexp;
}

/** The first mode whose prompt is the whole line: when two fit, the order of `modes` decides. */
export function modeOfLine(modes: readonly ModePattern[], line: string): ModePattern | undefined {
  const seen = window(line);
  return modes.find((m) => m.prompt.test(seen));
}

/** A prompt with the shape of a mode's but other learned values (a renamed host), and those values. */
export function promptShapeOf(
  dialect: Pick<Dialect, 'promptShapes'>,
  line: string,
): { name: string; prompt: RegExp } | undefined {
  const seen = window(line);
  return dialect.promptShapes.find((s) => s.prompt.test(seen));
}

/** The responder that answers the last line: the first whose pattern matches; no other is tried. */
export function responderFor(responders: readonly Responder[], line: string): Responder | undefined {
  const seen = window(line);
  return responders.find((r) => r.pattern.test(seen));
}

/** The input_wait prompt a last line shows (first match wins); a blank line shows none. */
export function inputWaitFor(
  prompts: Dialect['inputWait']['prompts'],
  line: string,
): Dialect['inputWait']['prompts'][number] | undefined {
  if (line.trim().length === 0) return undefined;
  const seen = window(line);
  return prompts.find((p) => p.pattern.test(seen));
}

/** Indexes of the login answers a last line gets before the first prompt: every one that matches. */
export function loginAnswersFor(login: Dialect['login'], line: string): number[] {
  const seen = window(line);
  return login.flatMap((answer, i) => (answer.pattern.test(seen) ? [i] : []));
}

/**
 * The first pattern (in order) found in `text`, and the whole line it was found in, trimmed: how the
 * output is searched for `errors` and a transition's `failure`.
 */
export function errorLineIn(
  text: string,
  patterns: readonly RegExp[],
): { line: string; pattern: RegExp } | undefined {
  if (patterns.length === 0) return undefined;
  const region =
    text.length <= 2 * ERROR_WINDOW ? text : `${text.slice(0, ERROR_WINDOW)}\n${text.slice(-ERROR_WINDOW)}`;
  const lines = region.split('\n');
  for (const pattern of patterns) {
    for (const line of lines) {
      if (pattern.test(line.length > ERROR_LINE_MAX ? line.slice(0, ERROR_LINE_MAX) : line)) {
        return { line: line.trim(), pattern };
      }
    }
  }
  return undefined;
}

/**
 * Where the lines just before `index` (a line start) stop matching `contextLines`: the start of the prompt's
 * context lines, or `index` when there are none.
 */
export function contextStart(held: string, index: number, contextLines: readonly RegExp[]): number {
  while (index > 0 && contextLines.length > 0) {
    // `index` is just after a newline; the line before it ends at index - 1.
    const previousStart = index >= 2 ? held.lastIndexOf('\n', index - 2) + 1 : 0;
    if (!contextLines.some((c) => c.test(held.slice(previousStart, index - 1)))) break;
    index = previousStart;
  }
  return index;
}

export function definedOnly(
  values: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key] = value;
  return out;
}

/** A pattern as its author wrote it: RegExp#source escapes "/", which a dialect file never needs to. */
export function patternText(pattern: RegExp): string {
  return pattern.source.replaceAll('\\/', '/');
}
