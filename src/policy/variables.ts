import { arithmeticReadsVariables } from './evaluation.js';
import type { Follow } from './follow.js';
import { hazards } from './hazards.js';
import type { Word } from './word.js';

/**
 * Variables that change what runs. Assigning one is checked the way bash will use it: a command line it
 * runs is parsed, a string it expands has its substitutions parsed, and what the policy cannot follow (a
 * value from a variable, a command table) is a hazard.
 */

/** Defines what a command name runs: `BASH_CMDS[ls]=/bin/rm`, `BASH_ALIASES[ls]=...`. */
const COMMAND_TABLES = new Set(['BASH_CMDS', 'BASH_ALIASES']);
/** Bash runs the value as a command line (before each prompt of an interactive shell). */
const COMMAND_LINES = new Set(['PROMPT_COMMAND']);
/** Bash expands the value, running its substitutions: prompts, `set -x` traces, startup file names. */
const EXPANDED = /^(?:PS[0-4]|BASH_ENV|ENV)$/;
/** The value names a program that is run (`sudo -s` runs $SHELL). */
const PROGRAMS = new Set(['SHELL']);
/**
 * Decide what a command name runs or how a line is read: command lookup, the dynamic loader, word
 * splitting, shell options, startup files. An allow list refuses setting them.
 */
const LOOKUP =
  /^(?:PATH|LD_[A-Z_]+|IFS|SHELLOPTS|BASHOPTS|CDPATH|GLOBIGNORE|EXECIGNORE|BASH_LOADABLES_PATH|BASH_XTRACEFD|BASH_COMPAT|POSIXLY_CORRECT|HOME|TMPDIR|FUNCNEST|BASH_ARGV0|BASH_ENV|ENV|PS[0-4]|PROMPT_COMMAND|SHELL|BASH_CMDS|BASH_ALIASES)$/;
/** Harmless in a command's environment: what an allow list lets through in front of a command. */
const SAFE_ENVIRONMENT = /^(?:LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|COLUMNS|LINES|NO_COLOR)$/;

const TARGET = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(.*)\])?$/s;

/**
 * Where an assignment is made. `environment`: in front of a command, or given to env or sudo, so the
 * command (and what it runs) reads it. `shell`: a shell variable (alone, or by declare, export, local ...).
 */
export type AssignmentPlace = 'environment' | 'shell';

/** What an assignment word (`NAME=value`, `NAME[sub]=value`, `NAME+=value`) makes bash run or evaluate. */
export function assignmentFollows(word: Word, place: AssignmentPlace): Follow[] {
  const eq = word.value.indexOf('=');
  const target = word.value.slice(0, eq).replace(/\+$/, '');
  const value = word.value.slice(eq + 1);
  const parsed = TARGET.exec(target);
  if (!parsed) {
    // env and sudo take any NAME=value; an exported `BASH_FUNC_name%%` defines a function in a child bash.
    if (/[$`]/.test(target)) return [{ kind: 'hazard', hazard: hazards.unknownVariable(word.value) }];
    if (target.startsWith('BASH_FUNC_')) {
      return [{ kind: 'hazard', hazard: hazards.commandTable(word.value, target) }];
    }
    return [];
  }
  const name = parsed[1] as string;
  const found: Follow[] = subscriptFollows(parsed[2], word.value);
  if (COMMAND_TABLES.has(name)) {
    found.push({ kind: 'hazard', hazard: hazards.commandTable(word.value, name) });
    return found;
  }
  if (COMMAND_LINES.has(name)) {
    found.push(word.dynamic ? dynamic(word) : { kind: 'script', text: value });
  } else if (EXPANDED.test(name)) {
    found.push(word.dynamic ? dynamic(word) : { kind: 'expansions', text: value });
  } else if (PROGRAMS.has(name)) {
    found.push(
      word.dynamic
        ? dynamic(word)
        : { kind: 'command', words: [{ value, dynamic: false, plain: false, fields: false }] },
    );
  }
  if (LOOKUP.test(name)) {
    found.push({ kind: 'hazard', hazard: hazards.variable(word.value, name) });
  } else if (place === 'environment' && !SAFE_ENVIRONMENT.test(name)) {
    found.push({ kind: 'hazard', hazard: hazards.environment(word.value, name) });
  } else if (place === 'shell' && environmentStyle(name)) {
    found.push({ kind: 'hazard', hazard: hazards.upperCaseVariable(word.value, name) });
  }
  return found;
}

/**
 * A variable written from data (`printf -v NAME`, `read NAME`, `mapfile NAME`, `getopts ... NAME`): the
 * value is not in the input, so a variable bash runs or expands cannot be written this way at all.
 */
export function targetFollows(word: Word, text: string): Follow[] {
  if (word.dynamic) return [{ kind: 'hazard', hazard: hazards.indirection(text) }];
  const parsed = TARGET.exec(word.value);
  if (!parsed) return [];
  const name = parsed[1] as string;
  const found = subscriptFollows(parsed[2], text);
  if (COMMAND_TABLES.has(name) || COMMAND_LINES.has(name) || EXPANDED.test(name) || PROGRAMS.has(name)) {
    found.push({ kind: 'hazard', hazard: hazards.codeFromData(text, name) });
  } else if (LOOKUP.test(name)) {
    found.push({ kind: 'hazard', hazard: hazards.variable(text, name) });
  } else if (environmentStyle(name)) {
    found.push({ kind: 'hazard', hazard: hazards.upperCaseVariable(text, name) });
  }
  return found;
}

/** A subscript bash evaluates as arithmetic (an indexed array's): known only if it names no variable. */
export function subscriptFollows(subscript: string | undefined, text: string): Follow[] {
  if (subscript === undefined || subscript === '@' || subscript === '*') return [];
  return arithmeticReadsVariables(subscript) ? [{ kind: 'hazard', hazard: hazards.arithmetic(text) }] : [];
}

/** Upper case, as environment variables are: programs may read it to decide what to run. */
function environmentStyle(name: string): boolean {
  return !/[a-z]/.test(name) && !SAFE_ENVIRONMENT.test(name);
}

function dynamic(word: Word): Follow {
  return { kind: 'hazard', hazard: hazards.dynamicScript(word.value) };
}
