import { PolicyParseError } from './errors.js';
import {
  arithmeticReadsVariables,
  conditionalEvaluates,
  hasSubscriptCode,
  inputKind,
  parameterHazard,
} from './evaluation.js';
import { type Hazard, hazards } from './hazards.js';
import { assignmentFollows } from './variables.js';
import type { Word } from './word.js';

/**
 * A bash parser that finds every command a command line would run, for the command policy. It does not
 * evaluate anything: where a part is only known at run time (`$x`, `$(...)`, a glob), the word says so.
 *
 * The rule it follows: report at least every command bash would run. Where bash would refuse a line (a
 * syntax error), refusing it too, or reporting more than bash would run, is fine; missing a command is not.
 * The places where a command hides are handled as bash does: quotes and escapes, `$'...'`, comments,
 * line continuations, `$(...)`, backticks, `<(...)`, `>(...)`, `${...}`, `$((...))`, `$[...]`, subshells,
 * reserved words, `case`, `[[ ]]`, function definitions, arrays, and here-documents (whose bodies are read
 * at the next newline of the same parser, as bash does; only their substitutions run).
 *
 * Linear time: every character is read once per level of string re-parsing (backticks), and nesting is
 * bounded, so hostile input fails fast instead of exhausting the stack.
 */

/** Deepest nesting of `$(`, `(`, `${`, `$((`, `case`, ... before the parser gives up. */
export const MAX_NESTING = 64;
/** Deepest nesting of strings parsed again as commands: backticks, `bash -c`, `eval`, here-docs fed to a shell. */
export const MAX_REPARSE = 8;

/** One simple command as written, before wrappers (`sudo`, `bash -c`) are looked through. */
export interface RawCommand {
  /** The command name and its arguments; leading `NAME=value` assignments are in `assignments`. */
  words: Word[];
  assignments: Word[];
  /** Output goes to a file (`>`, `>>`, `&>`, `>|`, `<>`, `>&file`); /dev/null and fd copies do not count. */
  redirectsOutput: boolean;
  /** The output redirections as `> target`, for describing a command that has no words. */
  outputs: string[];
  /** Reached through `|` or `|&` (the command reads another command's output). */
  viaPipe: boolean;
  /** Here-document bodies and here-strings given to the command: a shell reading stdin would run them. */
  stdin: string[];
  /** Here-documents and here-strings on another descriptor (`3<<<`): `exec` keeps them for later commands. */
  otherInputs: string[];
  /** Stdin comes from `< file`, or from a descriptor or device (`<&3`, `< /dev/fd/3`, a dynamic name). */
  stdinRedirect?: 'file' | 'descriptor';
  /** Where output redirections write: each target as written, and whether it is only known at run time. */
  outputTargets: { value: string; dynamic: boolean }[];
  /** How many string re-parses deep the command was found (0 for the input itself). */
  level: number;
}

/** Shared by every parser working on one input: where commands go and how deep the nesting is. */
export interface ParseState {
  commands: RawCommand[];
  depth: number;
  /** What the policy cannot follow (see hazards.ts), in the order found. */
  hazards: Hazard[];
  /** Functions the input defines: a function named like an allowed command would replace it later. */
  functions: { name: string; text: string }[];
}

interface PendingHereDoc {
  delimiter: string;
  quoted: boolean;
  stripTabs: boolean;
  target: RawCommand;
  /** The descriptor it is read on is stdin. */
  stdin: boolean;
}

type ListEnd = 'end' | ')' | 'case';

// Characters that end an unquoted word.
const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);
// Characters readWord looks at: the word's end, quoting, expansions, globs and braces.
const WORD_SPECIAL = new Set([...WORD_END, '\\', "'", '"', '$', '`', '*', '?', '[', ']', '{', ',', '.', '}']);
// Redirection operators, longest first.
const REDIRECTIONS = ['<<<', '<<-', '<<', '<>', '<&', '<', '&>>', '&>', '>>', '>|', '>&', '>'];
const OUTPUT_SINKS = new Set(['/dev/null', '/dev/stdout', '/dev/stderr']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=/;
const FD_PREFIX = /^(?:\d+|\{[A-Za-z_][A-Za-z0-9_]*\})$/;
// `$@`, `${@...}`, `${a[@]...}`, `${!a[@]}`: one word per element, even in double quotes.
const ELEMENTS = /^\$(?:@|\{!?(?:@|[A-Za-z_][A-Za-z0-9_]*\[@\]))/;
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_PARAMETER = /[0-9@*#?$!-]/;
const COPROC_NAME = /[A-Za-z_][A-Za-z0-9_]*[ \t]*(?:\{[ \t\n]|\()/y;
// Reserved words that only start, continue or end a compound command: skipped at command position.
const SKIPPED_RESERVED = new Set([
  '!',
  '{',
  '}',
  'if',
  'then',
  'elif',
  'else',
  'fi',
  'do',
  'done',
  'while',
  'until',
  'esac',
]);

/** Parse `src` (found `level` re-parses deep) and append its commands to `state.commands`. */
export function parseShell(src: string, state: ParseState, level: number): void {
  if (level > MAX_REPARSE) {
    throw new PolicyParseError(
      `commands nested in strings more than ${MAX_REPARSE} levels deep (backticks, bash -c, eval): write them out`,
    );
  }
  new ShellParser(src, state, level).parseScript();
}

/** The substitutions in a string bash expands but does not run (an unquoted here-document, a prompt). */
export function parseExpansions(text: string, state: ParseState, level: number): void {
  if (level > MAX_REPARSE) {
    throw new PolicyParseError(
      `commands nested in strings more than ${MAX_REPARSE} levels deep (backticks, bash -c, eval): write them out`,
    );
  }
  new ShellParser(text, state, level).scanExpansions();
}

class ShellParser {
  private pos = 0;
  private pendingHereDocs: PendingHereDoc[] = [];

  constructor(
    private readonly src: string,
    private readonly state: ParseState,
    private readonly level: number,
  ) {}

  parseScript(): void {
    this.parseList('end');
    if (this.pendingHereDocs.length > 0) this.readHereDocBodies(); // delimited by the end of the input
  }

  /** A string bash expands (an unquoted here-document body, a prompt): only its substitutions run. */
  scanExpansions(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\\') this.pos += 2;
      else if (c === '$') this.readDollar(true);
      else if (c === '`') this.readBackticks(false);
      else this.pos++;
    }
  }

  // ---- structure -------------------------------------------------------------------------------------

  private parseList(end: ListEnd): void {
    const s = this.src;
    for (;;) {
      const before = this.pos;
      if (this.skipListSeparators(end)) return; // at `;;` or `;&` ending a case item
      if (this.pos >= s.length) {
        if (end === ')') throw new PolicyParseError('unterminated "(" or "$(": a ")" is missing');
        if (end === 'case') throw new PolicyParseError('"case" without "esac"');
        return;
      }
      if (s[this.pos] === ')') {
        if (end === ')') return;
        throw new PolicyParseError(`unexpected ")" ${this.where()}`);
      }
      if (end === 'case' && this.reservedWordAt('esac')) return;
      this.parseAndOr();
      if (this.pos === before) throw new PolicyParseError(`cannot read the command line ${this.where()}`);
    }
  }

  /** Skips blanks, newlines, comments, `;` and `&`. True when it stopped at `;;`, `;&` or `;;&` in a case. */
  private skipListSeparators(end: ListEnd): boolean {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      const next = s[this.pos + 1];
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\\' && next === '\n') this.pos += 2;
      else if (c === '\n') this.consumeNewline();
      else if (c === '#') this.skipComment();
      else if (c === ';') {
        if (next === ';' || next === '&') {
          if (end === 'case') return true;
          throw new PolicyParseError(`unexpected "${c}${next}" outside a case ${this.where()}`);
        }
        this.pos++;
      } else if (c === '&' && next !== '&' && next !== '>') this.pos++;
      else return false;
    }
  }

  private parseAndOr(): void {
    this.parsePipeline();
    for (;;) {
      this.skipBlanks();
      if (!this.src.startsWith('&&', this.pos) && !this.src.startsWith('||', this.pos)) return;
      this.pos += 2;
      this.skipBlanksNewlinesComments();
      this.parsePipeline();
    }
  }

  private parsePipeline(): void {
    this.parseCommand(false);
    for (;;) {
      this.skipBlanks();
      const s = this.src;
      if (s[this.pos] !== '|' || s[this.pos + 1] === '|') return;
      this.pos += s[this.pos + 1] === '&' ? 2 : 1;
      this.skipBlanksNewlinesComments();
      this.parseCommand(true);
    }
  }

  /** One simple command, or the reserved words and compound commands met at command position. */
  private parseCommand(viaPipe: boolean): void {
    const s = this.src;
    const cmd: RawCommand = {
      words: [],
      assignments: [],
      redirectsOutput: false,
      outputs: [],
      viaPipe,
      stdin: [],
      otherInputs: [],
      outputTargets: [],
      level: this.level,
    };
    // Reserved words count only as the first word, before any assignment.
    let commandPosition = true;
    let keywordsAllowed = true;
    for (;;) {
      this.skipBlanks();
      if (this.pos >= s.length) break;
      const c = s[this.pos];
      const next = s[this.pos + 1];
      if (c === '\n' || c === ';' || c === '|' || c === ')') break;
      if (c === '&') {
        if (next === '>') {
          this.parseRedirection(cmd);
          continue;
        }
        break;
      }
      if (c === '#') {
        this.skipComment();
        break;
      }
      if (c === '(') {
        if (!commandPosition || !keywordsAllowed)
          throw new PolicyParseError(`unexpected "(" ${this.where()}`);
        this.parseParenthesized();
        commandPosition = false; // bash allows only redirections after it; anything else we still read
        continue;
      }
      if ((c === '<' || c === '>') && next !== '(') {
        this.parseRedirection(cmd);
        continue;
      }
      const start = this.pos;
      const word = this.readWord();
      const source = s.slice(start, this.pos);
      if ((s[this.pos] === '<' || s[this.pos] === '>') && s[this.pos + 1] !== '(' && FD_PREFIX.test(source)) {
        this.parseRedirection(cmd, source); // 2>file, {fd}>file
        continue;
      }
      // `a=(1 2)`, also as an argument of declare, local, typeset, readonly and export
      if (s[this.pos] === '(' && source.endsWith('=') && ASSIGNMENT.test(source)) this.parseArrayValue();
      if (!commandPosition) {
        cmd.words.push(word);
        continue;
      }
      if (ASSIGNMENT.test(source)) {
        cmd.assignments.push(word);
        keywordsAllowed = false;
        continue;
      }
      if (keywordsAllowed && word.plain && this.reservedWord(word.value)) continue;
      commandPosition = false;
      cmd.words.push(word);
      if (word.plain && keywordsAllowed && this.functionDefinitionFollows()) {
        cmd.words.pop(); // `name () body`: the body follows at command position
        this.defineFunction(word.value, s.slice(start, this.pos));
        commandPosition = true;
      }
    }
    if (cmd.words.length > 0 || cmd.assignments.length > 0 || cmd.redirectsOutput || cmd.stdin.length > 0) {
      this.state.commands.push(cmd);
    }
  }

  /** Handles a reserved word at command position; false when `word` is an ordinary command name. */
  private reservedWord(word: string): boolean {
    if (SKIPPED_RESERVED.has(word)) return true;
    switch (word) {
      case 'time': // the keyword times a pipeline; `time -p` too
        this.skipBlanks();
        if (/-p(?![^ \t\n;&|()<>])/y.test(this.src.slice(this.pos, this.pos + 3))) this.pos += 2;
        return true;
      case 'function': {
        this.skipBlanks();
        const start = this.pos;
        const name = this.readWord();
        this.functionDefinitionFollows();
        this.defineFunction(name.value, `function ${this.src.slice(start, this.pos).trim()}`);
        return true;
      }
      case 'coproc':
        this.skipBlanks();
        COPROC_NAME.lastIndex = this.pos;
        if (COPROC_NAME.test(this.src)) this.readWord(); // `coproc NAME { ...; }`: NAME is not a command
        return true;
      case 'for':
      case 'select':
        this.parseForHeader();
        return true;
      case 'case':
        this.parseCase();
        return true;
      case '[[':
        this.parseConditional();
        return true;
      default:
        return false;
    }
  }

  /** A variable set to a value the policy does not follow (a loop's words, an expansion's default). */
  private assigns(target: string): void {
    const word: Word = { value: `${target}=`, dynamic: true, plain: false, fields: false };
    for (const found of assignmentFollows(word, 'shell')) {
      if (found.kind === 'hazard') this.state.hazards.push(found.hazard);
    }
  }

  private defineFunction(name: string, text: string): void {
    this.state.functions.push({ name, text });
    if (name === 'command_not_found_handle') this.state.hazards.push(hazards.commandNotFound(text));
  }

  /** After `name`: `( )` makes it a function definition. A `(` without `)` is a syntax error. */
  private functionDefinitionFollows(): boolean {
    const s = this.src;
    const save = this.pos;
    this.skipBlanks();
    if (s[this.pos] !== '(') {
      this.pos = save;
      return false;
    }
    this.pos++;
    this.skipBlanks();
    if (s[this.pos] !== ')') throw new PolicyParseError(`unexpected "(" ${this.where()}`);
    this.pos++;
    return true;
  }

  /** `( list )` or `(( arithmetic ))` at command position. */
  private parseParenthesized(): void {
    if (this.src[this.pos + 1] === '(') {
      this.pos += 2;
      this.parseArithmetic('))');
      return;
    }
    this.pos++;
    this.enter();
    this.parseList(')');
    this.pos++; // the `)` parseList stopped at
    this.leave();
  }

  /** `for NAME [in WORDS]`, `for ((...))`, `select NAME in WORDS`: the words' substitutions run. */
  private parseForHeader(): void {
    const s = this.src;
    this.skipBlanks();
    if (s.startsWith('((', this.pos)) {
      this.pos += 2;
      this.parseArithmetic('))');
      return;
    }
    if (this.atWordEnd()) throw new PolicyParseError(`"for" without a variable name ${this.where()}`);
    this.assigns(this.readWord().value); // each word in turn, so `for PATH in ...` sets PATH
    this.skipBlanksNewlinesComments();
    if (!this.reservedWordAt('in')) return;
    this.pos += 2;
    for (;;) {
      this.skipBlanks();
      const c = s[this.pos];
      if (this.pos >= s.length || c === '\n' || c === ';' || c === '&' || c === '|' || c === ')') return;
      if (c === '#') {
        this.skipComment();
        return;
      }
      if (c === '(' || ((c === '<' || c === '>') && s[this.pos + 1] !== '(')) {
        throw new PolicyParseError(`unexpected "${c}" in a for list ${this.where()}`);
      }
      this.readWord();
    }
  }

  /** `case WORD in [(]PATTERN[|PATTERN]...) LIST ;; ... esac`. */
  private parseCase(): void {
    const s = this.src;
    this.skipBlanks();
    if (this.atWordEnd()) throw new PolicyParseError(`"case" without a word ${this.where()}`);
    this.readWord();
    this.skipBlanksNewlinesComments();
    if (!this.reservedWordAt('in')) throw new PolicyParseError(`"case" without "in" ${this.where()}`);
    this.pos += 2;
    this.enter();
    for (;;) {
      this.skipBlanksNewlinesComments();
      if (this.pos >= s.length) throw new PolicyParseError('"case" without "esac"');
      if (this.reservedWordAt('esac')) {
        this.pos += 4;
        break;
      }
      if (s[this.pos] === '(') this.pos++;
      for (;;) {
        this.skipBlanks();
        const c = s[this.pos];
        if (c === ')') {
          this.pos++;
          break;
        }
        if (c === '|') {
          this.pos++;
          continue;
        }
        if (this.atWordEnd())
          throw new PolicyParseError(`unexpected "${c ?? 'end'}" in a case pattern ${this.where()}`);
        this.readWord();
      }
      this.parseList('case');
      if (s.startsWith(';;&', this.pos)) this.pos += 3;
      else if (s.startsWith(';;', this.pos) || s.startsWith(';&', this.pos)) this.pos += 2;
    }
    this.leave();
  }

  /** `[[ ... ]]`: operators and parentheses inside are not command syntax; substitutions still run. */
  private parseConditional(): void {
    const s = this.src;
    const open = this.pos;
    const words: Word[] = [];
    this.enter();
    for (;;) {
      this.skipBlanks();
      if (this.pos >= s.length) throw new PolicyParseError('"[[" without "]]"');
      const c = s[this.pos] as string;
      if (c === '\n') {
        if (this.pendingHereDocs.length > 0) {
          throw new PolicyParseError('a here-document cannot start inside a multi-line [[ ]]');
        }
        this.pos++;
        continue;
      }
      if (c === ';') throw new PolicyParseError(`unexpected ";" inside [[ ]] ${this.where()}`);
      if ((c === '<' || c === '>') && s[this.pos + 1] === '(') {
        this.readWord(); // process substitution
        continue;
      }
      if (WORD_END.has(c)) {
        this.pos++; // ( ) < > && || !
        continue;
      }
      const word = this.readWord();
      if (word.plain && word.value === ']]') break;
      words.push(word);
    }
    this.leave();
    if (conditionalEvaluates(words)) {
      this.state.hazards.push(hazards.conditional(`[[ ${s.slice(open, this.pos).trim()}`));
    }
  }

  /** `name=( words )`: the elements' substitutions run. */
  private parseArrayValue(): void {
    const s = this.src;
    this.pos++;
    this.enter();
    for (;;) {
      this.skipBlanksNewlinesComments();
      if (this.pos >= s.length) throw new PolicyParseError('unterminated array assignment: a ")" is missing');
      if (s[this.pos] === ')') {
        this.pos++;
        break;
      }
      if (this.atWordEnd())
        throw new PolicyParseError(`unexpected "${s[this.pos]}" in an array ${this.where()}`);
      const element = this.readWord();
      // `([i]=x)`: the subscript of an indexed array is arithmetic
      const subscript = /^\[([^\]]*)\]\+?=/s.exec(element.value)?.[1];
      if (subscript !== undefined && arithmeticReadsVariables(subscript)) {
        this.state.hazards.push(hazards.arithmetic(element.value));
      }
    }
    this.leave();
  }

  // ---- redirections and here-documents --------------------------------------------------------------

  /** `fd` is the descriptor written before the operator (`2>`, `{var}<`), if any. */
  private parseRedirection(cmd: RawCommand, fd?: string): void {
    const s = this.src;
    const op = REDIRECTIONS.find((candidate) => s.startsWith(candidate, this.pos)) ?? '>';
    this.pos += op.length;
    this.skipBlanks();
    const start = this.pos;
    if (this.atWordEnd()) throw new PolicyParseError(`redirection "${op}" without a target ${this.where()}`);
    const target = this.readWord();
    const source = s.slice(start, this.pos);
    // Input operators read descriptor 0 unless another is named.
    const onStdin = fd === undefined || fd === '0';
    switch (op) {
      case '<<':
      case '<<-':
        this.pendingHereDocs.push({
          delimiter: target.value,
          quoted: /['"\\]/.test(source),
          stripTabs: op === '<<-',
          target: cmd,
          stdin: onStdin,
        });
        return;
      case '<<<':
        (onStdin ? cmd.stdin : cmd.otherInputs).push(target.value);
        return;
      case '<':
        if (onStdin) cmd.stdinRedirect = inputKind(target);
        return;
      case '<&':
      case '>&':
        if (!target.dynamic && /^(?:\d+-?|-)$/.test(target.value)) {
          // A copy of a descriptor: stdin read from another one is input the policy cannot see.
          if (op === '<&' && onStdin && target.value !== '-') cmd.stdinRedirect = 'descriptor';
          return;
        }
        if (op === '<&') {
          if (onStdin) cmd.stdinRedirect = 'descriptor';
          return;
        }
        break;
      case '<>':
        if (onStdin) cmd.stdinRedirect = inputKind(target);
        break;
    }
    if (!target.dynamic && OUTPUT_SINKS.has(target.value)) return;
    cmd.redirectsOutput = true;
    cmd.outputs.push(`${op} ${target.value}`);
    cmd.outputTargets.push({ value: target.value, dynamic: target.dynamic });
  }

  private consumeNewline(): void {
    this.pos++;
    if (this.pendingHereDocs.length > 0) this.readHereDocBodies();
  }

  /** Bodies start after the newline that ends the line holding their `<<`, one after the other. */
  private readHereDocBodies(): void {
    const pending = this.pendingHereDocs;
    this.pendingHereDocs = [];
    for (const doc of pending) this.readHereDocBody(doc);
  }

  private readHereDocBody(doc: PendingHereDoc): void {
    const s = this.src;
    const start = this.pos;
    let bodyEnd = s.length;
    while (this.pos < s.length) {
      const lineStart = this.pos;
      // A continued line (unquoted delimiter): the delimiter is compared to the joined line.
      const { text, end } = scanToUnescaped(s, this.pos, '\n', doc.quoted ? undefined : joinContinued);
      const line = doc.stripTabs ? text.replace(/^\t+/, '') : text;
      this.pos = end + 1;
      if (line === doc.delimiter) {
        bodyEnd = lineStart;
        break;
      }
    }
    this.pos = Math.min(this.pos, s.length);
    const body = s.slice(start, bodyEnd);
    (doc.stdin ? doc.target.stdin : doc.target.otherInputs).push(body);
    if (!doc.quoted) {
      this.enter();
      new ShellParser(body, this.state, this.level).scanExpansions();
      this.leave();
    }
  }

  // ---- words -----------------------------------------------------------------------------------------

  private readWord(): Word {
    const s = this.src;
    let value = '';
    // The word as bash would hand it to a builtin that evaluates it again (a subscript, arithmetic), with
    // each expansion replaced by NUL: only code written literally (quoted, escaped) is in it.
    let literal = '';
    let dynamic = false;
    let plain = true;
    let fields = false;
    // Unquoted glob and brace characters: such a word becomes file names or several words when it runs.
    let bracket = false;
    let braceOpen = false;
    let braceList = false;
    const start = this.pos;
    while (this.pos < s.length) {
      const c = s[this.pos] as string;
      if ((c === '<' || c === '>') && s[this.pos + 1] === '(' && this.pos === start) {
        const from = this.pos;
        this.pos += 2;
        this.parseNestedList();
        value += s.slice(from, this.pos);
        literal += '\0';
        dynamic = true;
        plain = false;
        continue;
      }
      if (WORD_END.has(c)) break;
      switch (c) {
        case '\\': {
          plain = false;
          const next = s[this.pos + 1];
          if (next === undefined) {
            value += c;
            literal += c;
            this.pos++;
          } else {
            if (next !== '\n') {
              value += next; // a backslash-newline joins lines
              literal += next;
            }
            this.pos += 2;
          }
          continue;
        }
        case "'": {
          const end = s.indexOf("'", this.pos + 1);
          if (end < 0) throw new PolicyParseError(`unterminated single quote ${this.where()}`);
          const text = s.slice(this.pos + 1, end);
          value += text;
          literal += text;
          this.pos = end + 1;
          plain = false;
          continue;
        }
        case '"': {
          const part = this.readDoubleQuoted();
          value += part.value;
          literal += part.literal;
          dynamic ||= part.dynamic;
          fields ||= part.fields;
          plain = false;
          continue;
        }
        case '$': {
          // $'...' and $"..." are quoted: they stay one word
          const quoted = s[this.pos + 1] === "'" || s[this.pos + 1] === '"';
          const part = this.readDollar(false);
          value += part.value;
          literal += part.dynamic ? '\0' : part.value;
          dynamic ||= part.dynamic;
          fields ||= part.dynamic && !quoted;
          plain = false;
          continue;
        }
        case '`':
          value += this.readBackticks(false);
          literal += '\0';
          dynamic = true;
          fields = true;
          plain = false;
          continue;
        case '*':
        case '?':
          dynamic = true;
          fields = true;
          break;
        case '[':
          bracket = true;
          break;
        case ']':
          if (bracket) {
            dynamic = true;
            fields = true;
          }
          break;
        case '{':
          braceOpen = true;
          break;
        case ',':
          if (braceOpen) braceList = true;
          break;
        case '.':
          if (braceOpen && s[this.pos + 1] === '.') braceList = true;
          break;
        case '}':
          if (braceList) {
            dynamic = true;
            fields = true;
          }
          break;
        default: {
          // A run of ordinary characters, copied at once.
          let end = this.pos + 1;
          while (end < s.length && !WORD_SPECIAL.has(s[end] as string)) end++;
          const text = s.slice(this.pos, end);
          value += text;
          literal += text;
          this.pos = end;
          continue;
        }
      }
      value += c;
      literal += c;
      this.pos++;
    }
    if (!plain) this.scanLiteralCode(literal);
    return { value, dynamic, plain, fields };
  }

  /**
   * Bash evaluates array subscripts again, running their `$(...)`, when a builtin or arithmetic reads a
   * name such as `a[$(cmd)]`: `test -v`, `unset`, `let`, `declare`, `printf -v`, `read`, a nameref, an
   * integer variable, `$((x))` with x holding it. Such code written in quotes, where the parser sees only
   * data, is parsed here as the commands it would run.
   */
  private scanLiteralCode(literal: string): void {
    if (!hasSubscriptCode(literal)) return;
    this.enter();
    parseExpansions(literal, this.state, this.level + 1);
    this.leave();
  }

  /** `fields`: it holds `"$@"` or `"${a[@]}"`, which become as many words as there are elements. */
  private readDoubleQuoted(): { value: string; dynamic: boolean; literal: string; fields: boolean } {
    const s = this.src;
    const open = this.pos;
    this.pos++;
    let value = '';
    let literal = '';
    let dynamic = false;
    let fields = false;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '"') {
        this.pos++;
        return { value, dynamic, literal, fields };
      }
      if (c === '\\') {
        const next = s[this.pos + 1];
        if (next === '\n') {
          this.pos += 2;
        } else if (next === '$' || next === '`' || next === '"' || next === '\\') {
          value += next;
          literal += next;
          this.pos += 2;
        } else {
          value += c;
          literal += c;
          this.pos++;
        }
        continue;
      }
      if (c === '$') {
        const part = this.readDollar(true);
        value += part.value;
        literal += part.dynamic ? '\0' : part.value;
        dynamic ||= part.dynamic;
        fields ||= ELEMENTS.test(part.value);
        continue;
      }
      if (c === '`') {
        value += this.readBackticks(true);
        literal += '\0';
        dynamic = true;
        continue;
      }
      value += c;
      literal += c;
      this.pos++;
    }
    throw new PolicyParseError(`unterminated double quote ${this.where(open)}`);
  }

  /** At `$`: a substitution, a parameter, `$'...'`, `$"..."`, or a plain dollar sign. */
  private readDollar(inDoubleQuotes: boolean): { value: string; dynamic: boolean } {
    const s = this.src;
    const start = this.pos;
    const next = s[this.pos + 1] ?? '';
    if (next === '(') {
      if (s[this.pos + 2] === '(') {
        this.pos += 3;
        this.parseArithmetic('))');
      } else {
        this.pos += 2;
        this.parseNestedList();
      }
    } else if (next === '{') {
      this.pos += 2;
      this.parseParameterExpansion(inDoubleQuotes);
    } else if (next === '[') {
      this.pos += 2;
      this.parseArithmetic(']');
    } else if (next === "'" && !inDoubleQuotes) {
      return { value: this.readAnsiC(), dynamic: false };
    } else if (next === '"' && !inDoubleQuotes) {
      this.pos++;
      return this.readDoubleQuoted();
    } else if (NAME_START.test(next)) {
      this.pos += 2;
      while (this.pos < s.length && NAME_CHAR.test(s[this.pos] as string)) this.pos++;
    } else if (next !== '' && SPECIAL_PARAMETER.test(next)) {
      this.pos += 2;
    } else {
      this.pos++;
      return { value: '$', dynamic: false };
    }
    return { value: s.slice(start, this.pos), dynamic: true };
  }

  /** After `$(`, `<(` or `>(`: a command list of its own, with its own here-documents. */
  private parseNestedList(): void {
    const saved = this.pendingHereDocs;
    this.pendingHereDocs = [];
    this.enter();
    this.parseList(')');
    this.pos++;
    if (this.pendingHereDocs.length > 0) {
      throw new PolicyParseError('a here-document inside $( ) must have its body inside the $( ) too');
    }
    this.leave();
    this.pendingHereDocs = saved;
  }

  /** After `${`: to the matching `}`, running the substitutions inside. */
  private parseParameterExpansion(inDoubleQuotes: boolean): void {
    const s = this.src;
    const open = this.pos - 2;
    let literal = ''; // quoted text inside, for scanLiteralCode
    this.enter();
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '}') {
        this.pos++;
        this.leave();
        this.scanLiteralCode(literal);
        const content = s.slice(open + 2, this.pos - 1);
        const hazard = parameterHazard(content, s.slice(open, this.pos));
        if (hazard) this.state.hazards.push(hazard);
        // `${NAME:=value}` and `${NAME=value}` assign NAME as an assignment word would
        const assigned = /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?(?=:?=)/.exec(content)?.[0];
        if (assigned !== undefined) this.assigns(assigned);
        return;
      }
      if (c === '\\') this.pos += 2;
      else if (c === "'" && !inDoubleQuotes) {
        // Inside double quotes a single quote is (mostly) literal: treating it so finds every substitution.
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) throw new PolicyParseError(`unterminated single quote ${this.where()}`);
        literal += s.slice(this.pos + 1, end);
        this.pos = end + 1;
      } else if (c === '"') literal += this.readDoubleQuoted().literal;
      else if (c === '$') this.readDollar(inDoubleQuotes);
      else if (c === '`') this.readBackticks(inDoubleQuotes);
      else this.pos++;
    }
    throw new PolicyParseError(`unterminated "\${" ${this.where(open)}`);
  }

  /**
   * After `((`, `$((` or `$[`: to `))` or `]`. A `)` that closes the `((` alone means bash would read
   * nested subshells instead; that guess is refused rather than made.
   */
  private parseArithmetic(close: '))' | ']'): void {
    const s = this.src;
    const open = this.pos;
    const [up, down] = close === ']' ? ['[', ']'] : ['(', ')'];
    let depth = 0;
    let literal = ''; // quoted text inside, for scanLiteralCode
    this.enter();
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === up) depth++;
      else if (c === down) {
        if (depth > 0) depth--;
        else if (close === ']') {
          this.pos++;
          this.endArithmetic(open, this.pos - 1, literal, close);
          return;
        } else if (s[this.pos + 1] === ')') {
          this.pos += 2;
          this.endArithmetic(open, this.pos - 2, literal, close);
          return;
        } else if (this.pos + 1 >= s.length) {
          break;
        } else {
          throw new PolicyParseError(
            `"((" starts arithmetic, but this reads as nested subshells ${this.where()}: write "( (" or "$( (" with a space`,
          );
        }
      } else if (c === '\\') {
        this.pos += 2;
        continue;
      } else if (c === "'") {
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) throw new PolicyParseError(`unterminated single quote ${this.where()}`);
        literal += s.slice(this.pos + 1, end);
        this.pos = end + 1;
        continue;
      } else if (c === '"') {
        literal += this.readDoubleQuoted().literal;
        continue;
      } else if (c === '$') {
        this.readDollar(false);
        continue;
      } else if (c === '`') {
        this.readBackticks(false);
        continue;
      }
      this.pos++;
    }
    throw new PolicyParseError(`unterminated arithmetic ${this.where(open)}: "${close}" is missing`);
  }

  /** The arithmetic from `open` to `end` is read: what it evaluates is known only if it names no variable. */
  private endArithmetic(open: number, end: number, literal: string, close: '))' | ']'): void {
    this.leave();
    this.scanLiteralCode(literal);
    const text = this.src.slice(open, end);
    if (arithmeticReadsVariables(text)) {
      this.state.hazards.push(hazards.arithmetic(close === ']' ? `$[${text}]` : `((${text}))`));
    }
  }

  /** A `...` substitution: its text, with `\\`, `` \` ``, `\$` (and `\"` in double quotes) unescaped, is parsed again. */
  private readBackticks(inDoubleQuotes: boolean): string {
    const s = this.src;
    const open = this.pos;
    const { text: inner, end } = scanToUnescaped(s, open + 1, '`', (next) =>
      next === '`' || next === '$' || next === '\\' || (inDoubleQuotes && next === '"') ? next : undefined,
    );
    if (end >= s.length) throw new PolicyParseError(`unterminated backtick ${this.where(open)}`);
    this.pos = end + 1;
    this.enter();
    parseShell(inner, this.state, this.level + 1);
    this.leave();
    return s.slice(open, this.pos);
  }

  /** `$'...'`: the string with its backslash escapes decoded, as the command receives it. */
  private readAnsiC(): string {
    const s = this.src;
    const open = this.pos;
    this.pos += 2;
    let value = '';
    while (this.pos < s.length) {
      const c = s[this.pos] as string;
      if (c === "'") {
        this.pos++;
        // Bash ends the string at a NUL it decodes: `$'rm\0x'` is `rm`.
        const nul = value.indexOf('\0');
        return nul < 0 ? value : value.slice(0, nul);
      }
      if (c !== '\\') {
        value += c;
        this.pos++;
        continue;
      }
      const e = s[this.pos + 1] ?? '';
      this.pos += 2;
      const simple = ANSI_C_ESCAPES[e];
      if (simple !== undefined) {
        value += simple;
        continue;
      }
      const rest = s.slice(this.pos, this.pos + 8);
      const digits =
        e >= '0' && e <= '7'
          ? /^[0-7]{0,2}/.exec(rest)
          : e === 'x'
            ? /^[0-9A-Fa-f]{1,2}/.exec(rest)
            : e === 'u'
              ? /^[0-9A-Fa-f]{1,4}/.exec(rest)
              : e === 'U'
                ? /^[0-9A-Fa-f]{1,8}/.exec(rest)
                : null;
      if (digits) {
        this.pos += digits[0].length;
        if (e === 'x') value += String.fromCharCode(Number.parseInt(digits[0], 16));
        else if (e === 'u' || e === 'U') {
          const code = Number.parseInt(digits[0], 16);
          if (code <= 0x10ffff) value += String.fromCodePoint(code);
        } else value += String.fromCharCode(Number.parseInt(e + digits[0], 8) & 0xff);
      } else if (e === 'c' && rest.length > 0) {
        value += String.fromCharCode(rest.charCodeAt(0) & 0x1f);
        this.pos++;
      } else {
        value += `\\${e}`;
      }
    }
    throw new PolicyParseError(`unterminated $'...' ${this.where(open)}`);
  }

  // ---- small helpers ---------------------------------------------------------------------------------

  private skipBlanks(): void {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\\' && s[this.pos + 1] === '\n') this.pos += 2;
      else return;
    }
  }

  private skipBlanksNewlinesComments(): void {
    for (;;) {
      this.skipBlanks();
      const c = this.src[this.pos];
      if (c === '\n') this.consumeNewline();
      else if (c === '#') this.skipComment();
      else return;
    }
  }

  private skipComment(): void {
    const end = this.src.indexOf('\n', this.pos);
    this.pos = end < 0 ? this.src.length : end;
  }

  /** At the end of the input or at a character that cannot start a word. */
  private atWordEnd(): boolean {
    const c = this.src[this.pos];
    if (c === undefined) return true;
    if ((c === '<' || c === '>') && this.src[this.pos + 1] === '(') return false;
    return WORD_END.has(c);
  }

  /** `word` (unquoted) starts at the position and ends there too. */
  private reservedWordAt(word: string): boolean {
    if (!this.src.startsWith(word, this.pos)) return false;
    const after = this.src[this.pos + word.length];
    return after === undefined || WORD_END.has(after);
  }

  private enter(): void {
    if (++this.state.depth > MAX_NESTING) {
      throw new PolicyParseError(`the command line nests more than ${MAX_NESTING} levels deep`);
    }
  }

  private leave(): void {
    this.state.depth--;
  }

  /** "at line L:C" of this parser's text, for error messages. */
  private where(at = this.pos): string {
    const before = this.src.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    return `at ${line}:${column}`;
  }
}

/**
 * The text from `from` up to the first `stop` no backslash escapes, and where that stop is (`s.length` if
 * none). A backslash pair becomes what `escaped` makes of the escaped character, or stays as it is where
 * that is undefined; without `escaped` a backslash is an ordinary character (and escapes nothing).
 */
function scanToUnescaped(
  s: string,
  from: number,
  stop: string,
  escaped?: (next: string) => string | undefined,
): { text: string; end: number } {
  let text = '';
  let j = from;
  let pieceStart = j;
  while (j < s.length && s[j] !== stop) {
    if (s[j] === '\\' && escaped && j + 1 < s.length) {
      const replaced = escaped(s[j + 1] as string);
      if (replaced !== undefined) {
        text += s.slice(pieceStart, j) + replaced;
        pieceStart = j + 2;
      }
      j += 2;
      continue;
    }
    j++;
  }
  return { text: text + s.slice(pieceStart, j), end: j };
}

/** In an unquoted here-document, backslash-newline joins two lines; other backslashes stay. */
const joinContinued = (next: string): string | undefined => (next === '\n' ? '' : undefined);

const ANSI_C_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};
