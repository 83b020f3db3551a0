import { type CliCommand, type CliSyntax, PLAIN_CLI, splitCli } from './cli.js';
import { PolicyParseError } from './errors.js';
import { APPENDED, describe } from './follow.js';
import { type Hazard, hazards } from './hazards.js';
import { type ParseState, parseExpansions, parseShell, type RawCommand } from './shell-parser.js';
import type { Word } from './word.js';
import { follow } from './wrappers.js';

export { PolicyParseError } from './errors.js';

/** One command the input would run, as the policy checks it. */
export interface SimpleCommand {
  /** The words joined by single spaces (quotes removed, escapes decoded, whitespace collapsed). */
  text: string;
  /** The command name and its arguments, without leading `NAME=value` assignments. */
  words: string[];
  /** Its output goes to a file: `>`, `>>` (and `&>`, `>|`, `<>`, `>&file` in a shell); not /dev/null. */
  redirectsOutput: boolean;
  /** Reached through a pipe (`show run | include x`: `include x` is). */
  viaPipe: boolean;
  /** The name is only known when it runs (`$cmd`, `$(...)`, a glob, braces): no rule can judge it. */
  dynamic: boolean;
}

/** A command with where its output goes, for allow rules that permit writing some files. */
export interface CheckedCommand extends SimpleCommand {
  /** Each output redirection's target, and whether it is only known at run time. */
  outputTargets: { value: string; dynamic: boolean }[];
}

/** Everything the policy needs to know about one input. */
export interface Analysis {
  commands: CheckedCommand[];
  /** What the policy cannot follow; see hazards.ts for which policies refuse which. */
  hazards: Hazard[];
  /** Functions the input defines (name, and the definition for messages). */
  functions: { name: string; text: string }[];
}

/**
 * How the input is read. `shell`: bash syntax (hosts with a Unix shell). `cli`: a network device's command line, one
 * command a line, the pipe and separators its syntax names, double quotes only, no substitutions.
 */
export type CommandSyntax = 'shell' | 'cli';

/** Most wrappers one command may stack (`sudo nice timeout 5 env A=1 cmd` is four). */
export const MAX_WRAPPERS = 16;

/**
 * Every command `input` would run. Throws PolicyParseError when it cannot tell with certainty: unbalanced
 * quotes or parentheses, nesting too deep, a wrapper option it does not know, a control character.
 * `cli` describes the device's command line (default: `|` pipes and `;`, no prefix words).
 */
export function splitCommands(
  input: string,
  syntax: CommandSyntax = 'shell',
  cli: CliSyntax = PLAIN_CLI,
): SimpleCommand[] {
  return analyzeCommands(input, syntax, cli).commands.map(
    ({ text, words, redirectsOutput, viaPipe, dynamic }) => ({
      text,
      words,
      redirectsOutput,
      viaPipe,
      dynamic,
    }),
  );
}

/** The commands `input` would run and what in it the policy cannot follow. Throws PolicyParseError. */
export function analyzeCommands(input: string, syntax: CommandSyntax, cli: CliSyntax = PLAIN_CLI): Analysis {
  refuseControlCharacters(input, syntax);
  const state: ParseState = { commands: [], depth: 0, hazards: [], functions: [] };
  const out: CheckedCommand[] = [];
  if (syntax === 'cli') {
    const found: CliCommand[] = [];
    // A shell prefix's command line is parsed in order with the device commands around it.
    splitCli(input, cli, found, (line) => {
      for (const c of found.splice(0)) out.push({ ...c, dynamic: false });
      splitShell(line, state, out, 1);
    });
    for (const c of found) out.push({ ...c, dynamic: false });
  } else {
    splitShell(input.replace(/\r\n?/g, '\n'), state, out, 0);
  }
  return { commands: out, hazards: state.hazards, functions: state.functions };
}

// Line editing on a terminal or device CLI (backspace, Ctrl+U, Ctrl+W, escape sequences, and Tab's
// completion on a CLI) can turn what the policy reads into a different command: such input is refused.
const SHELL_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;
const CLI_CONTROL = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

function refuseControlCharacters(input: string, syntax: CommandSyntax): void {
  const match = (syntax === 'cli' ? CLI_CONTROL : SHELL_CONTROL).exec(input);
  if (!match) return;
  const code = (match[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  throw new PolicyParseError(
    `control character U+${code} at offset ${match.index}: a ${syntax === 'cli' ? 'device command line' : 'terminal'} could edit the line with it, so the command policy refuses it${code === '0009' ? ' (a Tab completes words on a device: type spaces)' : ''}`,
  );
}

// ---- shell -----------------------------------------------------------------------------------------

function splitShell(input: string, state: ParseState, out: CheckedCommand[], level: number): void {
  const from = state.commands.length;
  parseShell(input, state, level);
  // Commands found inside strings (bash -c, eval, here-documents fed to a shell) are appended to
  // state.commands as they are parsed, so one pass over the growing list sees them all.
  for (let i = from; i < state.commands.length; i++) {
    expand(state.commands[i] as RawCommand, state, out);
  }
}

interface Pending {
  words: Word[];
  assignments: Word[];
  appended: boolean;
}

/** The command as written, then each command it runs in turn (wrappers), checked as commands of their own. */
function expand(raw: RawCommand, state: ParseState, out: CheckedCommand[]): void {
  if (raw.words.length === 0 && raw.redirectsOutput) {
    // `> file` alone still writes a file
    out.push({
      text: raw.outputs.join(' '),
      words: [],
      redirectsOutput: true,
      outputTargets: raw.outputTargets,
      viaPipe: raw.viaPipe,
      dynamic: false,
    });
  }
  // Collect the command and what it runs first, then describe them: hostile input (200,000 `sudo`s)
  // fails at the wrapper limit before any large text is built.
  const views: Word[][] = [];
  const scripts: { kind: 'script' | 'expansions'; text: string }[] = [];
  let stdin = false;
  const pending: Pending[] = [{ words: raw.words, assignments: raw.assignments, appended: false }];
  for (let hops = 0; pending.length > 0; hops++) {
    if (hops > MAX_WRAPPERS) {
      throw new PolicyParseError(
        `more than ${MAX_WRAPPERS} wrapper commands around one command: write it directly`,
      );
    }
    const { words, assignments, appended } = pending.pop() as Pending;
    if (words.length > 0) views.push(words);
    for (const next of follow(words, assignments, { appended })) {
      if (next.kind === 'command') {
        pending.push({ words: next.words, assignments: [], appended: next.appended ?? false });
      } else if (next.kind === 'stdin') stdin = true;
      else if (next.kind === 'hazard') state.hazards.push(next.hazard);
      else scripts.push(next);
    }
  }
  for (const words of views) out.push(checkedCommand(words, raw));
  for (const { kind, text } of scripts) {
    if (kind === 'script') parseShell(text, state, raw.level + 1);
    else parseExpansions(text, state, raw.level + 1);
  }
  // Input on another descriptor may be read as commands later (`exec 3<<<'...'; bash <&3`): parse it.
  for (const body of raw.otherInputs) parseShell(body, state, raw.level + 1);
  if (stdin) readsCommands(raw, views[0] ?? [], state);
}

/** A shell (or `source`, `exec`) runs what it reads on stdin: here-documents are parsed, the rest is unseen. */
function readsCommands(raw: RawCommand, words: Word[], state: ParseState): void {
  for (const body of raw.stdin) parseShell(body, state, raw.level + 1);
  const text = describe(words);
  if (raw.stdinRedirect === 'descriptor') state.hazards.push(hazards.descriptorInput(text));
  else if (raw.stdinRedirect === 'file') state.hazards.push(hazards.scriptFile(text));
  else if (raw.viaPipe && raw.stdin.length === 0) state.hazards.push(hazards.scriptFromPipe(text));
}

function checkedCommand(all: Word[], raw: RawCommand): CheckedCommand {
  const words = all.filter((w) => w !== APPENDED);
  const values = words.map((w) => w.value);
  return {
    text: words.length > 0 ? collapse(values.join(' ')) : '(a command xargs reads from its input)',
    words: values,
    redirectsOutput: raw.redirectsOutput,
    outputTargets: raw.outputTargets,
    viaPipe: raw.viaPipe,
    dynamic: (all[0] as Word).dynamic,
  };
}

function collapse(text: string): string {
  return /\s\s|[^\S ]|^\s|\s$/.test(text) ? text.replace(/\s+/g, ' ').trim() : text;
}
