import { PolicyParseError } from './errors.js';
import type { Word } from './shell-parser.js';

/**
 * What a command runs in turn, so that a rule about `reboot` also sees `sudo -u root -- reboot`,
 * `timeout 5 reboot`, `bash -c 'reboot'` and `find / -exec reboot \;`.
 */
export type Follow =
  /** A command it runs with these words (the wrapped command). */
  | { kind: 'command'; words: Word[] }
  /** A shell command line it runs (`bash -c STR`, `eval`, `watch`, `ssh host CMD`). */
  | { kind: 'script'; text: string }
  /** It runs what it reads on stdin, as a shell does: here-documents and here-strings given to it. */
  | { kind: 'stdin' }
  /** A string bash expands later (a prompt such as PS4): its substitutions run then. */
  | { kind: 'expansions'; text: string };

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
  /** Without a command it starts a shell that reads stdin (`su`, `ssh HOST`, `chroot DIR`). */
  shellWithoutCommand?: boolean;
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
  exec: { valueShort: 'a', flagShort: 'cl' },
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
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
/** Variables whose value bash runs as a command line. */
const COMMAND_VARIABLES = /^PROMPT_COMMAND=/;
/** Variables whose value bash expands later, running its substitutions (prompts, `set -x` traces, startup file names). */
const EXPANDED_VARIABLES = /^(?:PS[0-4]|BASH_ENV|ENV)=/;

/** The last path component: `/sbin/reboot` runs `reboot`. */
export function commandName(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash < 0 || slash === word.length - 1 ? word : word.slice(slash + 1);
}

/** What the command `words` runs in turn, and what its `NAME=value` words hand to a shell. */
export function follow(words: Word[], assignments: Word[] = []): Follow[] {
  const found: Follow[] = [];
  for (const word of assignments) codeVariable(word, found);
  const first = words[0];
  if (!first || first.dynamic) return found;
  const name = commandName(first.value);
  if (SHELLS.has(name)) return found.concat(followShell(words));
  switch (name) {
    case 'eval':
      if (words.length > 1) found.push({ kind: 'script', text: values(words.slice(1)).join(' ') });
      return found;
    case 'source':
    case '.':
      found.push({ kind: 'stdin' }); // `source /dev/stdin <<EOF` runs the here-document
      return found;
    case 'trap': {
      // trap [--] ACTION SIGNAL...: ACTION runs later, on the signal or at exit
      const operands = words.slice(words[1]?.value === '--' ? 2 : 1);
      if (operands.length >= 2 && operands[0]?.value !== '-' && !operands[0]?.value.startsWith('-')) {
        found.push({ kind: 'script', text: operands[0]?.value ?? '' });
      }
      return found;
    }
    case 'alias':
      for (const word of words.slice(1)) {
        const eq = word.value.indexOf('=');
        if (eq > 0) found.push({ kind: 'script', text: word.value.slice(eq + 1) });
      }
      return found;
    case 'hash': {
      // hash -p PATH NAME: NAME now runs PATH
      const p = words.findIndex((w) => w.value === '-p');
      const path = p > 0 ? words[p + 1] : undefined;
      if (path) found.push({ kind: 'command', words: [path] });
      return found;
    }
    case 'export':
    case 'declare':
    case 'typeset':
    case 'local':
    case 'readonly':
      for (const word of words.slice(1)) codeVariable(word, found);
      return found;
    case 'find':
      return found.concat(followFind(words));
    case 'su':
    case 'runuser':
      return found.concat(followSu(name, words));
  }
  const spec = WRAPPERS[name];
  return spec ? found.concat(followWrapper(name, spec, words)) : found;
}

function codeVariable(word: Word, found: Follow[]): void {
  const text = word.value.slice(word.value.indexOf('=') + 1);
  if (COMMAND_VARIABLES.test(word.value)) found.push({ kind: 'script', text });
  else if (EXPANDED_VARIABLES.test(word.value)) found.push({ kind: 'expansions', text });
}

function values(words: Word[]): string[] {
  return words.map((w) => w.value);
}

function unknownOption(name: string, option: string): PolicyParseError {
  return new PolicyParseError(
    `${name} option "${option}" is not known to the command policy, so it cannot tell which command ${name} runs; write the command without it`,
  );
}

function followWrapper(name: string, spec: WrapperSpec, words: Word[]): Follow[] {
  const found: Follow[] = [];
  let noCommand = false;
  let shell = false;
  let replace: string | undefined;
  const option = (key: string, value: string | undefined) => {
    if (spec.scriptOptions?.includes(key) && value !== undefined) found.push({ kind: 'script', text: value });
    const inValue = value === undefined ? undefined : spec.scriptInValue?.(key, value);
    if (inValue !== undefined) found.push({ kind: 'script', text: inValue });
    if (spec.noCommandOptions?.includes(key)) noCommand = true;
    if (spec.shellOptions?.includes(key)) shell = true;
    if (spec.replaceOptions?.includes(key)) replace = value || '{}';
  };
  let i = 1;
  while (i < words.length) {
    const word = words[i] as Word;
    const w = word.value;
    if (w === '--') {
      i++;
      break;
    }
    if (spec.assignments && ASSIGNMENT.test(w)) {
      codeVariable(word, found);
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
        option(long, eq < 0 ? words[i + 1]?.value : w.slice(eq + 1));
        i += eq < 0 ? 2 : 1;
        continue;
      }
      if (spec.flagLong?.includes(long)) {
        option(long, eq < 0 ? undefined : w.slice(eq + 1));
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
          if (attached) option(letter, attached);
          else {
            option(letter, words[i + 1]?.value);
            step = 2;
          }
          break;
        }
        if (spec.optionalShort?.includes(letter)) {
          option(letter, w.slice(j + 1));
          break;
        }
        if (!spec.flagShort?.includes(letter)) throw unknownOption(name, `-${letter}`);
        option(letter, undefined);
      }
      i += step;
      continue;
    }
    break;
  }
  if (noCommand) return found;
  i += spec.operands ?? 0;
  if (name === 'flock' && (words[i]?.value === '-c' || words[i]?.value === '--command')) {
    const script = words[i + 1];
    if (script) found.push({ kind: 'script', text: script.value });
    return found;
  }
  const command = words.slice(i);
  if (command.length === 0) {
    if (shell || spec.shellWithoutCommand) found.push({ kind: 'stdin' });
    return found;
  }
  if (spec.joined) {
    found.push({ kind: 'script', text: values(command).join(' ') });
    return found;
  }
  const head = command[0] as Word;
  if (replace !== undefined && head.value.includes(replace)) {
    command[0] = { ...head, dynamic: true }; // the name comes from xargs' input
  }
  found.push({ kind: 'command', words: command });
  return found;
}

/** `bash [options] -c STRING`, `bash` reading stdin, or `bash FILE` (a script file is not checked). */
function followShell(words: Word[]): Follow[] {
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
      if (w === '--rcfile' || w === '--init-file') i++;
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
  if (operand?.dynamic) return [{ kind: 'command', words: words.slice(i) }];
  if (script) return operand ? [{ kind: 'script', text: operand.value }] : [];
  return stdin || !operand ? [{ kind: 'stdin' }] : [];
}

/** `find ... -exec CMD ARGS ;` (and -execdir, -ok, -okdir). `{}` as the name is only known at run time. */
function followFind(words: Word[]): Follow[] {
  const found: Follow[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i]?.value;
    if (w !== '-exec' && w !== '-execdir' && w !== '-ok' && w !== '-okdir') continue;
    const start = i + 1;
    let end = start;
    while (end < words.length && words[end]?.value !== ';' && words[end]?.value !== '+') end++;
    const command = words.slice(start, end);
    const head = command[0];
    if (head) {
      if (head.value.includes('{}')) command[0] = { ...head, dynamic: true };
      found.push({ kind: 'command', words: command });
    }
    i = end;
  }
  return found;
}

/** `su [options] [-] [USER [ARGS]]`: `-c CMD` anywhere; runuser also takes `-u USER COMMAND`. */
function followSu(name: string, words: Word[]): Follow[] {
  const found: Follow[] = [];
  let direct = false;
  let hasScript = false;
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i]?.value ?? '';
    if (w === '--') {
      i++;
      break;
    }
    const long = /^--(command|session-command)(?:=(.*))?$/s.exec(w);
    if (long) {
      const text = long[2] ?? words[++i]?.value;
      if (text !== undefined) found.push({ kind: 'script', text });
      hasScript = true;
      continue;
    }
    if (/^-[A-Za-z]*[cC]$/.test(w)) {
      const text = words[++i]?.value;
      if (text !== undefined) found.push({ kind: 'script', text });
      hasScript = true;
      continue;
    }
    if (/^-[A-Za-z]*[cC]./.test(w)) {
      found.push({ kind: 'script', text: w.slice(w.search(/[cC]/) + 1) });
      hasScript = true;
      continue;
    }
    if (name === 'runuser' && (w === '-u' || w === '--user')) {
      direct = true;
      i++;
      continue;
    }
    if (/^-[sgGw]$/.test(w) || /^--(shell|group|supp-group|whitelist-environment)$/.test(w)) i++;
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
