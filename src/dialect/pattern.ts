import { RE2JS } from 're2js';

/**
 * Regular expressions from dialect files that did not ship with this program run on a linear-time engine
 * (RE2), so one careless or hostile pattern (`(a+)+$`) cannot stall every session. RE2 is 10-100x slower
 * per match than V8's engine, so the built-in dialects, whose patterns are reviewed and fuzzed, keep V8's.
 * A pattern RE2 cannot run (lookaround, back-references) keeps V8's engine too: the loader says so, and the
 * runner only ever gives patterns bounded input (see matching.ts).
 */

/** A RegExp whose matching is done by RE2: `test`, `exec`, `replace` and friends all go through `exec`. */
class LinearRegExp extends RegExp {
  readonly #engine: RE2JS;
  readonly #groups: [string, number][];

  constructor(source: string, flags: string, engine: RE2JS) {
    super(source, flags);
    this.#engine = engine;
    this.#groups = Object.entries(engine.namedGroups());
  }

  /** RegExp methods make new instances this way (split, matchAll): those use V8's engine on their input. */
  static override get [Symbol.species](): RegExpConstructor {
    return RegExp;
  }

  override exec(input: string): RegExpExecArray | null {
    const stateful = this.global || this.sticky;
    const from = stateful ? this.lastIndex : 0;
    const matcher = this.#engine.matcher(input);
    if (from > input.length || !matcher.find(from) || (this.sticky && matcher.start() !== from)) {
      if (stateful) this.lastIndex = 0;
      return null;
    }
    const result = [matcher.group()] as unknown as RegExpExecArray;
    for (let i = 1; i <= matcher.groupCount(); i++)
      result.push(matcher.group(i) ?? (undefined as unknown as string));
    result.index = matcher.start();
    result.input = input;
    result.groups =
      this.#groups.length === 0
        ? undefined
        : (Object.fromEntries(
            this.#groups.map(([name, i]) => [name, matcher.group(i) ?? undefined]),
          ) as Record<string, string>);
    if (stateful) this.lastIndex = matcher.end() === matcher.start() ? matcher.end() + 1 : matcher.end();
    return result;
  }
}

/** RE2 flags for the JavaScript ones dialect patterns use (i, m, s; g and y are handled by exec). */
function engineFlags(flags: string): number {
  let out = 0;
  if (flags.includes('i')) out |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) out |= RE2JS.MULTILINE;
  if (flags.includes('s')) out |= RE2JS.DOTALL;
  return out;
}

export interface CompiledPattern {
  regexp: RegExp;
  /** RE2 could not run it (lookaround, back-references): it backtracks, on bounded input only. */
  backtracking: boolean;
}

/**
 * Compile a dialect pattern; `trusted` (a built-in dialect) keeps V8's engine. Throws SyntaxError for a
 * pattern JavaScript rejects, as `new RegExp` does.
 */
export function compilePattern(source: string, flags: string, trusted: boolean): CompiledPattern {
  const native = new RegExp(source, flags);
  if (trusted) return { regexp: native, backtracking: false };
  const engine = linearEngine(source, flags);
  if (!engine) return { regexp: native, backtracking: true };
  return { regexp: new LinearRegExp(source, flags, engine), backtracking: false };
}

/**
 * Compiled RE2 programs by pattern, shared (they hold no match state): every dialect extending a built-in
 * inherits its few dozen patterns, and compiling them again for each took 10-15 ms per dialect.
 */
const engines = new Map<string, RE2JS | null>();
const ENGINES_MAX = 4096;

/** The RE2 program for a pattern, or null when RE2 cannot run it. */
function linearEngine(source: string, flags: string): RE2JS | null {
  const key = `${flags}/${source}`;
  let engine = engines.get(key);
  if (engine !== undefined) return engine;
  try {
    engine = RE2JS.compile(source, engineFlags(flags));
  } catch {
    engine = null;
  }
  if (engines.size >= ENGINES_MAX) engines.clear();
  engines.set(key, engine);
  return engine;
}
