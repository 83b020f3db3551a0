import { followBuiltin } from './builtins.js';
import { PolicyParseError } from './errors.js';
import { APPENDED, describe, type Follow, hazard, scriptFile, scriptOf, values } from './follow.js';
import { hazards } from './hazards.js';
import { assignmentFollows } from './variables.js';
import type { Word } from './word.js';

/** How a command that runs another one takes its options. Options end at the first operand or `--`. */
interface WrapperSpec {
  /** Short options that take a value, attached (`-uroot`) or as the next word (`-u root`). */
  valueShort?: string;
  /** Short options whose value may only be attached (`-hHOST`, xargs `-i{}`). */
  optionalShort?: string;
  /** Short options without a value. Any other short option is refused: the command could not be found. */
  flagShort?: string;
  /** Long options that take a value (`--user root` or `--user=root`). */
  valueLong?: string[];
  /** Long options without a value, or with an attached one only (`--preserve-env=A,B`). */
  flagLong?: string[];
  /** Options (letters or long names) whose value is a shell command line (`su -c`, `env -S`). */
  scriptOptions?: string[];
  /** The command line in an option's value, where only some values hold one (`ssh -o ProxyCommand=CMD`). */
  scriptInValue?: (option: string, value: string) => string | undefined;
  /** Options after which the operands are not a command (`sudo -e FILE`, `ionice -p PID`). */
  noCommandOptions?: string[];
  /** Options that set xargs' replace string (`-I {}`): a command named by it is only known at run time. */
  replaceOptions?: string[];
  /** Options that start a shell when no command follows (`sudo -s`, `sudo -i`). */
  shellOptions?: string[];
  /** Operands before the command: timeout's DURATION, chroot's NEWROOT, flock's FILE, ssh's DESTINATION. */
  operands?: number;
  /** `NAME=value` words before the command set the environment. */
  assignments?: boolean;
  /** The command words are joined with spaces and run by a shell (`watch`, `ssh`). */
  joined?: boolean;
  /** `nice -5`: an option that is a number. */
  numericOption?: boolean;
  /** `env -` is `env -i`. */
  dashAlone?: boolean;
  /** Without a command it starts a shell that reads stdin (`su`, `ssh HOST`, `chroot DIR`, `exec <file`). */
  shellWithoutCommand?: boolean;
  /** Options may follow the operands too, until the first word that is not one (`ssh host -p 22 cmd`). */
  optionsAfterOperands?: boolean;
}

const WRAPPERS: Record<string, WrapperSpec> = {
  sudo: {
    valueShort: 'aCcDgpRrTtUu',
    optionalShort: 'h',
    flagShort: 'ABbEeHiKklNnPSsVv',
    valueLong: [
      'close-from',
      'chdir',
      'group',
      'host',
      'prompt',
      'chroot',
      'role',
      'type',
      'command-timeout',
      'other-user',
      'user',
      'login-class',
      'auth-type',
    ],
    flagLong: [
      'askpass',
      'background',
      'bell',
      'edit',
      'preserve-env',
      'set-home',
      'help',
      'login',
      'remove-timestamp',
      'reset-timestamp',
      'list',
      'no-update',
      'non-interactive',
      'preserve-groups',
      'stdin',
      'shell',
      'version',
      'validate',
    ],
    noCommandOptions: ['e', 'edit'],
    shellOptions: ['s', 'i', 'shell', 'login'],
    assignments: true,
  },
  doas: { valueShort: 'Cu', flagShort: 'Lns', shellOptions: ['s'] },
  pkexec: { valueLong: ['user'], flagLong: ['disable-internal-agent', 'keep-cwd', 'help', 'version'] },
  env: {
    valueShort: 'CuS',
    flagShort: 'iv0',
    valueLong: ['unset', 'chdir', 'split-string'],
    flagLong: [
      'ignore-environment',
      'null',
      'block-signal',
      'default-signal',
      'ignore-signal',
      'list-signal-handling',
      'debug',
      'help',
      'version',
    ],
    scriptOptions: ['S', 'split-string'],
    assignments: true,
    dashAlone: true,
  },
  nohup: { flagLong: ['help', 'version'] },
  time: {
    valueShort: 'fo',
    flagShort: 'apqvV',
    valueLong: ['format', 'output'],
    flagLong: ['append', 'portability', 'quiet', 'verbose', 'help', 'version'],
  },
  exec: { valueShort: 'a', flagShort: 'cl', shellWithoutCommand: true },
  command: { flagShort: 'pvV' },
  builtin: {},
  nice: { valueShort: 'n', valueLong: ['adjustment'], flagLong: ['help', 'version'], numericOption: true },
  ionice: {
    valueShort: 'cnpPu',
    flagShort: 'tVh',
    valueLong: ['class', 'classdata', 'pid', 'pgid', 'uid'],
    flagLong: ['ignore', 'help', 'version'],
    noCommandOptions: ['p', 'P', 'u', 'pid', 'pgid', 'uid'],
  },
  timeout: {
    valueShort: 'ks',
    flagShort: 'v',
    valueLong: ['kill-after', 'signal'],
    flagLong: ['foreground', 'preserve-status', 'verbose', 'help', 'version'],
    operands: 1,
  },
  stdbuf: { valueShort: 'ioe', valueLong: ['input', 'output', 'error'], flagLong: ['help', 'version'] },
  setsid: { flagShort: 'cfw', flagLong: ['ctty', 'fork', 'wait', 'help', 'version'] },
  xargs: {
    valueShort: 'aEILnPsd',
    optionalShort: 'eil',
    flagShort: '0oprtx',
    valueLong: ['arg-file', 'delimiter', 'max-args', 'max-procs', 'max-chars', 'process-slot-var'],
    flagLong: [
      'null',
      'eof',
      'replace',
      'max-lines',
      'interactive',
      'no-run-if-empty',
      'verbose',
      'show-limits',
      'exit',
      'open-tty',
      'help',
      'version',
    ],
    replaceOptions: ['I', 'i', 'replace'],
  },
  watch: {
    valueShort: 'nq',
    optionalShort: 'd',
    flagShort: 'bcCeghprtvwx',
    valueLong: ['interval', 'equexit'],
    flagLong: [
      'beep',
      'color',
      'no-color',
      'differences',
      'errexit',
      'chgexit',
      'exec',
      'precise',
      'no-rerun',
      'no-title',
      'no-wrap',
      'help',
      'version',
    ],
    joined: true,
  },
  busybox: {},
  toybox: {},
  chroot: {
    valueLong: ['groups', 'userspec'],
    flagLong: ['skip-chdir', 'help', 'version'],
    operands: 1,
    shellWithoutCommand: true,
  },
  flock: {
    valueShort: 'wEc',
    flagShort: 'sexnouFhV',
    valueLong: ['timeout', 'conflict-exit-code', 'command'],
    flagLong: [
      'shared',
      'exclusive',
      'nonblock',
      'nb',
      'unlock',
      'close',
      'no-fork',
      'verbose',
      'help',
      'version',
    ],
    scriptOptions: ['c', 'command'],
    operands: 1,
  },
  ssh: {
    // ProxyCommand, LocalCommand and KnownHostsCommand run on this host, through a shell.
    scriptInValue: (option, value) =>
      option === 'o' ? /^\s*(?:proxy|local|knownhosts)command\s*[= ]\s*(.*)$/is.exec(value)?.[1] : undefined,
    valueShort: 'BbcDEeFIiJLlmOoPpQRSWw',
    flagShort: '46AaCfGgKkMNnqsTtVvXxYy',
    operands: 1,
    joined: true,
    shellWithoutCommand: true,
    optionsAfterOperands: true,
  },
};

const SHELLS = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'mksh',
  'ash',
  'rbash',
  'yash',
  'fish',
  'csh',
  'tcsh',
]);

/** The last path component: `/sbin/reboot` runs `reboot`. */
export function commandName(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash < 0 || slash === word.length - 1 ? word : word.slice(slash + 1);
}

export interface FollowContext {
  /** More words are added at run time, from input (the command xargs runs). */
  appended?: boolean;
}

/** What the command `words` runs in turn, and what its `NAME=value` words make bash run or evaluate. */
export function follow(words: Word[], assignments: Word[] = [], context: FollowContext = {}): Follow[] {
  const found: Follow[] = [];
  const place = words.length > 0 ? 'environment' : 'shell';
  for (const word of assignments) found.push(...assignmentFollows(word, place));
  const all = context.appended ? [...words, APPENDED] : words;
  const first = all[0];
  if (!first || first.dynamic) return found;
  const name = commandName(first.value);
  if (SHELLS.has(name)) return found.concat(followShell(all));
  const builtin = followBuiltin(name, all);
  if (builtin) return found.concat(builtin);
  switch (name) {
    case 'find':
      return found.concat(followFind(all));
    case 'su':
    case 'runuser':
      return found.concat(followSu(name, all));
    case 'parallel':
      return found.concat(followParallel(all));
    case 'scp':
    case 'sftp':
    case 'rsync':
      return found.concat(followTransfer(name, all));
    case 'coreutils': {
      // the multi-call binary: coreutils --coreutils-prog=rm ...
      const prog = /^--coreutils-prog=(.+)$/s.exec(all[1]?.value ?? '')?.[1];
      return prog === undefined
        ? found
        : found.concat({ kind: 'command', words: [{ ...(all[1] as Word), value: prog }, ...all.slice(2)] });
    }
  }
  const spec = WRAPPERS[name];
  return spec ? found.concat(followWrapper(name, spec, all)) : found;
}

function unknownOption(name: string, option: string): PolicyParseError {
  return new PolicyParseError(
    `${name} option "${option}" is not known to the command policy, so it cannot tell which command ${name} runs; write the command without it`,
  );
}

/** env -S splits its string itself: `\_` separates words and `\c` ends the string, unlike a shell. */
function envSplitString(text: string): string {
  const end = text.indexOf('\\c');
  return (end < 0 ? text : text.slice(0, end)).replaceAll('\\_', ' ');
}

function followWrapper(name: string, spec: WrapperSpec, words: Word[]): Follow[] {
  const found: Follow[] = [];
  let noCommand = false;
  let shell = false;
  let replace: string | undefined;
  const option = (key: string, value: Word | undefined) => {
    if (spec.scriptOptions?.includes(key) && value !== undefined) {
      found.push(
        name === 'env' ? scriptOf([{ ...value, value: envSplitString(value.value) }]) : scriptOf([value]),
      );
    }
    const inValue = value === undefined ? undefined : spec.scriptInValue?.(key, value.value);
    if (inValue !== undefined) found.push(scriptOf([{ ...(value as Word), value: inValue }]));
    if (spec.noCommandOptions?.includes(key)) noCommand = true;
    if (spec.shellOptions?.includes(key)) shell = true;
    if (spec.replaceOptions?.includes(key)) replace = value?.value || '{}';
  };
  let i = 1;
  let operands = spec.operands ?? 0;
  while (i < words.length) {
    const word = words[i] as Word;
    const w = word.value;
    if (w === '--') {
      i++;
      break;
    }
    // env and sudo take every NAME=value word before the command as an environment variable
    if (spec.assignments && w.includes('=') && !w.startsWith('-')) {
      found.push(...assignmentFollows(word, 'environment'));
      i++;
      continue;
    }
    if (spec.dashAlone && w === '-') {
      i++;
      continue;
    }
    if (w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      const long = eq < 0 ? w.slice(2) : w.slice(2, eq);
      if (spec.valueLong?.includes(long)) {
        option(long, eq < 0 ? words[i + 1] : { ...word, value: w.slice(eq + 1) });
        i += eq < 0 ? 2 : 1;
        continue;
      }
      if (spec.flagLong?.includes(long)) {
        option(long, eq < 0 ? undefined : { ...word, value: w.slice(eq + 1) });
        i++;
        continue;
      }
      throw unknownOption(name, `--${long}`);
    }
    if (w.startsWith('-') && w.length > 1) {
      if (spec.numericOption && /^-\d+$/.test(w)) {
        i++;
        continue;
      }
      let step = 1;
      for (let j = 1; j < w.length; j++) {
        const letter = w[j] as string;
        if (spec.valueShort?.includes(letter)) {
          const attached = w.slice(j + 1);
          if (attached) option(letter, { ...word, value: attached });
          else {
            option(letter, words[i + 1]);
            step = 2;
          }
          break;
        }
        if (spec.optionalShort?.includes(letter)) {
          option(letter, { ...word, value: w.slice(j + 1) });
          break;
        }
        if (!spec.flagShort?.includes(letter)) throw unknownOption(name, `-${letter}`);
        option(letter, undefined);
      }
      i += step;
      continue;
    }
    // ssh: options may follow the destination
    if (spec.optionsAfterOperands && operands > 0 && !noCommand) {
      operands--;
      i++;
      continue;
    }
    break;
  }
  if (noCommand) return found;
  if (!spec.optionsAfterOperands) i += operands;
  // A word before the command that may become several words or none moves the command.
  const before = words.slice(1, Math.min(i, words.length));
  if (before.some((w) => w.fields)) return [...found, hazard(hazards.splitWords(describe(words)))];
  if (name === 'flock' && (words[i]?.value === '-c' || words[i]?.value === '--command')) {
    const script = words[i + 1];
    if (script) found.push(scriptOf([script]));
    return found;
  }
  const command = words.slice(i);
  if (command.length === 0) {
    if (shell || spec.shellWithoutCommand) found.push({ kind: 'stdin' });
    return found;
  }
  if (spec.joined) {
    found.push(scriptOf(command));
    return found;
  }
  // sudo -s/-i hands the command to a shell's -c as one line
  if (shell) found.push(scriptOf(command));
  if (replace !== undefined) {
    // Every word holding xargs' replace string is only known at run time; no words are appended then.
    const marker = replace;
    const marked = command.map((w) => (w.value.includes(marker) ? { ...w, dynamic: true } : w));
    found.push({ kind: 'command', words: marked });
    return found;
  }
  found.push({ kind: 'command', words: command, ...(name === 'xargs' && { appended: true }) });
  return found;
}

/** `bash [options] -c STRING`, `bash` reading stdin, or `bash FILE`. */
function followShell(words: Word[]): Follow[] {
  const found: Follow[] = [];
  const text = describe(words);
  let script = false;
  let stdin = false;
  let i = 1;
  for (; i < words.length; i++) {
    const word = words[i] as Word;
    const w = word.value;
    if (word.dynamic) return [{ kind: 'command', words: words.slice(i) }]; // options known only at run time
    if (w === '--' || w === '-') {
      i++;
      break;
    }
    if (w.startsWith('--')) {
      if (w === '--rcfile' || w === '--init-file') {
        const file = words[++i];
        if (file) found.push(scriptFile(file, text));
      }
      continue;
    }
    if (!/^[-+][A-Za-z]/.test(w)) break;
    for (const letter of w.slice(1)) {
      if (letter === 'c') script = true;
      else if (letter === 's') stdin = true;
      else if (letter === 'o' || letter === 'O') i++;
    }
  }
  const operand = words[i];
  if (operand?.dynamic) return [...found, { kind: 'command', words: words.slice(i) }];
  if (script) return operand ? [...found, scriptOf([operand])] : found;
  if (stdin || !operand) return [...found, { kind: 'stdin' }];
  return [...found, scriptFile(operand, text)];
}

const EXEC_ACTIONS = new Set(['-exec', '-execdir', '-ok', '-okdir']);

/** `find ... -exec CMD ARGS ;` (and -execdir, -ok, -okdir). A word holding `{}` is only known at run time. */
function followFind(words: Word[]): Follow[] {
  // A word that may become several words could become `-exec ...`: the actions cannot be told.
  const expands = (w: Word) => w === APPENDED || /[$`{]/.test(w.value) || globMatchesAction(w.value);
  if (words.slice(1).some((w) => w.fields && expands(w))) {
    return [hazard(hazards.splitWords(describe(words)))];
  }
  const found: Follow[] = [];
  for (let i = 1; i < words.length; i++) {
    if (!EXEC_ACTIONS.has(words[i]?.value as string)) continue;
    const start = i + 1;
    let end = start;
    while (end < words.length && words[end]?.value !== ';' && words[end]?.value !== '+') end++;
    const command = words
      .slice(start, end)
      .map((w) => (w.value.includes('{}') ? { ...w, dynamic: true } : w));
    if (command.length > 0) found.push({ kind: 'command', words: command });
    i = end;
  }
  return found;
}

/** Whether a glob (`*`, `?`, `[...]`) could match one of find's actions that run a command. */
function globMatchesAction(glob: string): boolean {
  const source = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.')
    .replaceAll('[!', '[^');
  try {
    const re = new RegExp(`^${source}$`);
    return [...EXEC_ACTIONS].some((action) => re.test(action));
  } catch {
    return true;
  }
}

/** `su [options] [-] [USER [ARGS]]`: `-c CMD` anywhere; `-s SHELL` runs SHELL; runuser also takes `-u USER COMMAND`. */
function followSu(name: string, words: Word[]): Follow[] {
  const found: Follow[] = [];
  let direct = false;
  let hasScript = false;
  let i = 1;
  for (; i < words.length; i++) {
    const word = words[i] as Word;
    const w = word.value;
    if (w === '--') {
      i++;
      break;
    }
    const long = /^--(command|session-command)(?:=(.*))?$/s.exec(w);
    if (long) {
      const script = long[2] !== undefined ? { ...word, value: long[2] } : words[++i];
      if (script) found.push(scriptOf([script]));
      hasScript = true;
      continue;
    }
    if (/^-[A-Za-z]*[cC]$/.test(w)) {
      const script = words[++i];
      if (script) found.push(scriptOf([script]));
      hasScript = true;
      continue;
    }
    if (/^-[A-Za-z]*[cC]./.test(w)) {
      found.push(scriptOf([{ ...word, value: w.slice(w.search(/[cC]/) + 1) }]));
      hasScript = true;
      continue;
    }
    if (name === 'runuser' && (w === '-u' || w === '--user')) {
      direct = true;
      i++;
      continue;
    }
    // The login shell it starts is a program of the caller's choosing.
    const shellOption = /^--shell=(.*)$/s.exec(w);
    if (shellOption || w === '-s' || w === '--shell') {
      const program = shellOption ? { ...word, value: shellOption[1] as string } : words[++i];
      if (program) found.push({ kind: 'command', words: [program] });
      continue;
    }
    if (/^-[gGw]$/.test(w) || /^--(group|supp-group|whitelist-environment)$/.test(w)) i++;
  }
  if (direct) {
    // runuser -u USER [--] COMMAND: the first operand after the options
    const rest = words.slice(i).filter((w) => !w.value.startsWith('-'));
    if (rest.length > 0) found.push({ kind: 'command', words: words.slice(words.indexOf(rest[0] as Word)) });
    return found;
  }
  if (!hasScript) found.push({ kind: 'stdin' }); // an interactive shell reads stdin
  return found;
}

/**
 * File transfers that start a local program: scp/sftp `-o ProxyCommand=...`, `-S PROGRAM` (instead of
 * ssh), sftp `-D PROGRAM`; rsync `-e`/`--rsh COMMAND`.
 */
function followTransfer(name: string, words: Word[]): Follow[] {
  const found: Follow[] = [];
  const ssh = WRAPPERS.ssh as WrapperSpec;
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as Word;
    const w = word.value;
    if (w === '--') break;
    const long = /^--rsh(?:=(.*))?$/s.exec(w);
    const short = /^-([oSDe])(.*)$/s.exec(w);
    if (name === 'rsync' ? !long && short?.[1] !== 'e' : !short || short[1] === 'e') continue;
    const attached = long ? long[1] : short?.[2];
    const value = attached ? { ...word, value: attached } : words[++i];
    if (!value) break;
    if (short?.[1] === 'o') {
      const script = ssh.scriptInValue?.('o', value.value);
      if (script !== undefined) found.push(scriptOf([{ ...value, value: script }]));
    } else if (short?.[1] === 'S' || short?.[1] === 'D') found.push({ kind: 'command', words: [value] });
    else found.push(scriptOf([value]));
  }
  return found;
}

/** GNU parallel's options this policy knows; any other is refused, as for the wrappers above. */
const PARALLEL_VALUE = new Set(['j', 'n', 'N', 'L', 'I', 'a', 'S', 'd', 'C', 'E', 'P']);
const PARALLEL_FLAG = new Set(['k', 'u', 'v', 'q', 'X', 'm', '0', 'g', 't', 'r']);
const PARALLEL_VALUE_LONG = new Set([
  'jobs',
  'max-args',
  'max-lines',
  'arg-file',
  'sshlogin',
  'delimiter',
  'colsep',
  'eof',
  'timeout',
  'retries',
  'joblog',
  'results',
  'halt',
  'delay',
  'tmpdir',
  'workdir',
  'replace',
  'max-procs',
]);
const PARALLEL_FLAG_LONG = new Set([
  'keep-order',
  'ungroup',
  'verbose',
  'quote',
  'xargs',
  'null',
  'group',
  'tag',
  'line-buffer',
  'dry-run',
  'eta',
  'progress',
  'bar',
  'will-cite',
  'no-notice',
  'pipe',
  'shuf',
  'no-run-if-empty',
]);
const SOURCES = new Set([':::', '::::', ':::+', '::::+']);
/** `{}`, `{.}`, `{/}`, `{//}`, `{/.}`, `{#}`, `{%}`, `{3}`, `{3.}`: where parallel puts its input. */
const PARALLEL_REPLACEMENT = /\{\d*(?:\.|\/|\/\/|\/\.|#|%)?\}/g;

/**
 * `parallel [options] [COMMAND] ::: ARGS`: COMMAND runs through a shell with each input in its replacement
 * strings (or appended); without a COMMAND, each input is itself a command line.
 */
function followParallel(words: Word[]): Follow[] {
  const text = describe(words);
  let i = 1;
  let replace: string | undefined;
  for (; i < words.length; i++) {
    const w = (words[i] as Word).value;
    if (w === '--') {
      i++;
      break;
    }
    if (SOURCES.has(w) || !w.startsWith('-') || w.length < 2) break;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const long = eq < 0 ? w.slice(2) : w.slice(2, eq);
      if (PARALLEL_VALUE_LONG.has(long)) {
        const value = eq < 0 ? words[++i]?.value : w.slice(eq + 1);
        if (long === 'replace') replace = value;
      } else if (!PARALLEL_FLAG_LONG.has(long)) throw unknownOption('parallel', `--${long}`);
      continue;
    }
    const letter = w[1] as string;
    if (PARALLEL_VALUE.has(letter)) {
      const value = w.length > 2 ? w.slice(2) : words[++i]?.value;
      if (letter === 'I') replace = value;
    } else if (!PARALLEL_FLAG.has(letter) || w.length > 2) throw unknownOption('parallel', w);
  }
  if (words.slice(1, i).some((w) => w.fields)) return [hazard(hazards.splitWords(text))];
  let end = i;
  while (end < words.length && !SOURCES.has((words[end] as Word).value)) end++;
  const command = words.slice(i, end);
  if (command.length === 0) {
    // Each input is a command line: visible only when given after ::: in the input itself.
    const inputs = words.slice(end);
    if (inputs.length === 0 || inputs.some((w) => w.value === '::::' || w.value === '::::+')) {
      return [hazard(hazards.dynamicScript(text))];
    }
    return inputs.filter((w) => !SOURCES.has(w.value)).map((w) => scriptOf([w]));
  }
  if (command.some((w) => w.dynamic)) return [hazard(hazards.dynamicScript(text))];
  // The input, quoted by parallel, stands where the replacement strings are, or after the command.
  const input = '"$__parallel_input"';
  let line = values(command).join(' ');
  const before = line;
  line = line.replace(PARALLEL_REPLACEMENT, input);
  if (replace) line = line.replaceAll(replace, input);
  if (line === before) line = `${line} ${input}`;
  return [{ kind: 'script', text: line }];
}
