import { arithmeticReadsVariables } from './evaluation.js';
import { describe, type Follow, hazard, scriptFile, scriptOf } from './follow.js';
import { hazards } from './hazards.js';
import { assignmentFollows, subscriptFollows, targetFollows } from './variables.js';
import type { Word } from './word.js';

/**
 * Bash builtins that run a string, evaluate a name or arithmetic, or change what a command name runs.
 * Undefined for any other command.
 */
export function followBuiltin(name: string, words: Word[]): Follow[] | undefined {
  if (!BUILTINS.has(name)) return undefined;
  const text = describe(words);
  const args = words.slice(1);
  switch (name) {
    case 'eval': {
      const script = args[0]?.value === '--' ? args.slice(1) : args;
      return script.length > 0 ? [scriptOf(script)] : [];
    }
    case 'source':
    case '.': {
      const file = args[0]?.value === '--' ? args[1] : args[0];
      return file ? [scriptFile(file, text)] : [];
    }
    case 'trap':
      return followTrap(args);
    case 'alias': {
      const definitions = args.filter((w) => w.value.includes('=') && !w.value.startsWith('-'));
      if (definitions.length === 0) return [];
      return [
        hazard(hazards.alias(text)),
        ...definitions.map((w) => {
          const value = w.value.slice(w.value.indexOf('=') + 1);
          return scriptOf([{ ...w, value }]);
        }),
      ];
    }
    case 'shopt':
      return args.some((w) => /^-\w*s/.test(w.value)) && args.some((w) => w.value === 'expand_aliases')
        ? [hazard(hazards.alias(text))]
        : [];
    case 'hash': {
      // hash -p PATH NAME: NAME now runs PATH
      const p = words.findIndex((w) => w.value === '-p');
      const path = p > 0 ? words[p + 1] : undefined;
      return path ? [{ kind: 'command', words: [path] }] : [];
    }
    case 'declare':
    case 'typeset':
    case 'local':
    case 'readonly':
    case 'export':
      return followDeclare(args, text);
    case 'printf': {
      const target = optionValue(args, 'v', '');
      return target ? targetFollows(target, text) : [];
    }
    case 'read':
      return followTargets(args, 'adinNptu', text, 'all');
    case 'mapfile':
    case 'readarray': {
      const found = followTargets(args, 'CcdnOsu', text, 'first');
      const callback = optionValue(args, 'C', 'cdnOsu');
      if (callback) found.push(scriptOf([callback]));
      return found;
    }
    case 'getopts':
      return args[1] ? targetFollows(args[1], text) : [];
    case 'wait': {
      const target = optionValue(args, 'p', 'fn');
      return target ? targetFollows(target, text) : [];
    }
    case 'let':
      return args.some((w) => arithmeticReadsVariables(w.value)) ? [hazard(hazards.arithmetic(text))] : [];
    case 'test':
    case '[':
      return followTestNames(args, text);
    case 'unset':
      return args.filter((w) => !/^-[fvn]+$/.test(w.value)).flatMap((w) => nameFollows(w, text));
    case 'compgen':
    case 'complete':
      return followCompletion(args, text);
    case 'enable':
      return args.some((w) => /^-\w*f/.test(w.value)) ? [hazard(hazards.loadsBuiltin(text))] : [];
    case 'fc':
      // fc -l lists; anything else edits and runs commands from the history
      return args.some((w) => /^-\w*l/.test(w.value)) ? [] : [hazard(hazards.history(text))];
    case 'bind':
      return args.some((w) => /^-\w*x/.test(w.value)) ? [hazard(hazards.keyBinding(text))] : [];
    default:
      return undefined;
  }
}

const BUILTINS = new Set([
  'eval',
  'source',
  '.',
  'trap',
  'alias',
  'shopt',
  'hash',
  'declare',
  'typeset',
  'local',
  'readonly',
  'export',
  'printf',
  'read',
  'mapfile',
  'readarray',
  'getopts',
  'wait',
  'let',
  'test',
  '[',
  'unset',
  'compgen',
  'complete',
  'enable',
  'fc',
  'bind',
]);

/** `trap [--] ACTION SIGNAL...`: ACTION runs later, on the signal or at exit; `-` alone resets. */
function followTrap(args: Word[]): Follow[] {
  let i = 0;
  if (args[0]?.value === '--') i = 1;
  else if (args[0] && /^-[lpP]+$/.test(args[0].value)) return []; // lists traps
  const action = args[i];
  // One operand only resets (or prints) that signal; an action needs a signal after it.
  if (!action || args.length <= i + 1 || action.value === '-') return [];
  if (i === 0 && /^\d+$/.test(action.value)) return []; // a signal number first: reset
  return [scriptOf([action])];
}

function followDeclare(args: Word[], text: string): Follow[] {
  const found: Follow[] = [];
  for (const word of args) {
    const w = word.value;
    if (/^[-+][A-Za-z]+$/.test(w)) {
      // -n: a nameref, every later use is an indirection; -i: every later assignment is arithmetic
      if (w.includes('n')) found.push(hazard(hazards.indirection(text)));
      if (w.includes('i')) found.push(hazard(hazards.arithmetic(text)));
      continue;
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*(?:\[[^=]*\])?\+?=/s.test(w)) found.push(...assignmentFollows(word, 'shell'));
    else found.push(...nameFollows(word, text));
  }
  return found;
}

/** A name an argument gives a builtin (`unset NAME`, `declare NAME`): a subscript in it is evaluated. */
function nameFollows(word: Word, text: string): Follow[] {
  if (word.dynamic) return [hazard(hazards.indirection(text))];
  return subscriptFollows(/^[A-Za-z_][A-Za-z0-9_]*\[(.*)\]$/s.exec(word.value)?.[1], text);
}

/** `test -v NAME` and `-R NAME` evaluate NAME's subscript. */
function followTestNames(args: Word[], text: string): Follow[] {
  const found: Follow[] = [];
  for (let i = 0; i < args.length - 1; i++) {
    const w = args[i]?.value;
    if (w === '-v' || w === '-R') found.push(...nameFollows(args[i + 1] as Word, text));
  }
  return found;
}

/**
 * The variables a builtin writes (read NAMES, mapfile ARRAY), after options whose letters in `valued` take
 * a value.
 */
function followTargets(args: Word[], valued: string, text: string, which: 'all' | 'first'): Follow[] {
  const found: Follow[] = [];
  const targets: Word[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as Word;
    const w = word.value;
    if (w === '--') {
      targets.push(...args.slice(i + 1));
      break;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const letter = w[j] as string;
        if (!valued.includes(letter)) continue;
        const attached = w.slice(j + 1);
        const value = attached ? { ...word, value: attached } : args[++i];
        if (letter === 'a' && value) targets.push(value); // read -a ARRAY
        break;
      }
      continue;
    }
    targets.push(word);
  }
  for (const target of which === 'first' ? targets.slice(0, 1) : targets) {
    found.push(...targetFollows(target, text));
  }
  return found;
}

/** The value of option `-letter` (attached or next), before the operands; `valued` lists the other letters taking one. */
function optionValue(args: Word[], letter: string, valued: string): Word | undefined {
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as Word;
    const w = word.value;
    if (w === '--' || !w.startsWith('-') || w.length < 2) return undefined;
    for (let j = 1; j < w.length; j++) {
      const c = w[j] as string;
      if (c !== letter && !valued.includes(c)) continue;
      const attached = w.slice(j + 1);
      const value = attached ? { ...word, value: attached } : args[i + 1];
      if (c === letter) return value;
      if (!attached) i++;
      break;
    }
  }
  return undefined;
}

/** compgen/complete: -W's word list is expanded, -C's command runs, -F's function runs, -V names a variable. */
function followCompletion(args: Word[], text: string): Follow[] {
  const found: Follow[] = [];
  const valued = 'oAGWFCXPSV';
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as Word;
    const w = word.value;
    if (w === '--' || !w.startsWith('-') || w.length < 2) break;
    for (let j = 1; j < w.length; j++) {
      const c = w[j] as string;
      if (!valued.includes(c)) continue;
      const attached = w.slice(j + 1);
      const value = attached ? { ...word, value: attached } : args[++i];
      if (!value) break;
      if (c === 'W')
        found.push(
          value.dynamic ? hazard(hazards.dynamicScript(text)) : { kind: 'expansions', text: value.value },
        );
      else if (c === 'C') found.push(scriptOf([value]));
      else if (c === 'F') found.push({ kind: 'command', words: [value] });
      else if (c === 'V') found.push(...targetFollows(value, text));
      break;
    }
  }
  return found;
}
