import { PolicyParseError } from './errors.js';

/**
 * How a network device's command line is read for the policy. The policy knows no device: each dialect
 * file describes its CLI (its `policy:` section), and src/dialect compiles that into this.
 */
export interface CliSyntax {
  /** Words that run the rest of the line as a command of its own: both are checked. */
  runPrefixes: readonly string[];
  /** Words that run the rest of the line as a shell command line (the Unix shell under a CLI): parsed as one. */
  shellPrefixes: readonly string[];
  /** The character that starts an output filter (checked as a command reached through a pipe); '' for none. */
  pipe: string;
  /** Characters that end one command and start another on the same line. */
  separators: readonly string[];
}

/** A CLI with the usual `|` filters and `;` between commands, and no prefix words. */
export const PLAIN_CLI: CliSyntax = { runPrefixes: [], shellPrefixes: [], pipe: '|', separators: [';'] };

/** Most prefix words one command may stack (`do do do show`): the wrapper limit of the shell side. */
const MAX_PREFIXES = 16;

/** One command as the device reads it, before the policy looks at it. */
export interface CliCommand {
  text: string;
  words: string[];
  redirectsOutput: boolean;
  outputTargets: { value: string; dynamic: boolean }[];
  viaPipe: boolean;
}

/**
 * A device runs each line as a command; the pipe character starts an output filter and a separator starts
 * another command. Double quotes keep both inside an argument (`match "a|b"`); single quotes and
 * backslashes mean nothing to most CLIs, so they are not special here. `onShell` receives the command line
 * after a shell prefix.
 */
export function splitCli(
  input: string,
  syntax: CliSyntax,
  out: CliCommand[],
  onShell: (line: string) => void,
): void {
  const breaks = new Set([...syntax.separators, ...(syntax.pipe ? [syntax.pipe] : [])]);
  const lower = {
    ...syntax,
    runPrefixes: syntax.runPrefixes.map((p) => p.toLowerCase()),
    shellPrefixes: syntax.shellPrefixes.map((p) => p.toLowerCase()),
  };
  for (const line of input.split(/\r\n|\r|\n/)) {
    let quoted = false;
    let start = 0;
    let viaPipe = false;
    for (let i = 0; i <= line.length; i++) {
      const c = line[i] as string;
      if (c === '"') {
        quoted = !quoted;
        continue;
      }
      if (i < line.length && (quoted || !breaks.has(c))) continue;
      if (quoted) throw new PolicyParseError(`unterminated double quote in "${line}"`);
      segment(line.slice(start, i), viaPipe, lower, out, onShell);
      viaPipe = c === syntax.pipe && syntax.pipe !== '';
      start = i + 1;
    }
  }
}

function segment(
  text: string,
  viaPipe: boolean,
  syntax: CliSyntax,
  out: CliCommand[],
  onShell: (line: string) => void,
): void {
  // `?` asks the CLI for help and is not part of the line it runs: `rel?oad` runs `reload`.
  const line = text.replaceAll('?', '');
  const redirect = unquotedIndex(line, '>');
  const words = (redirect < 0 ? line : line.slice(0, redirect))
    .replaceAll('"', '')
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0 && redirect < 0) return;
  const redirection = redirect < 0 ? '' : collapse(line.slice(redirect));
  const target = redirection.replace(/^>+\s*/, '');
  // A prefix word runs the rest of the line: the line is checked as written and as the rest.
  let prefixes = 0;
  while (prefixes < words.length - 1 && isPrefix(words[prefixes] as string, syntax.runPrefixes)) prefixes++;
  if (prefixes > MAX_PREFIXES) {
    throw new PolicyParseError(
      `more than ${MAX_PREFIXES} ${syntax.runPrefixes.map((p) => `"${p}"`).join(' or ')} prefixes on one command: write it directly`,
    );
  }
  for (let i = 0; i <= prefixes; i++) {
    const view = words.slice(i);
    out.push({
      text: [...view, redirection].join(' ').trim(),
      words: view,
      redirectsOutput: redirect >= 0,
      outputTargets: redirect >= 0 ? [{ value: target, dynamic: false }] : [],
      viaPipe,
    });
  }
  if (words.length > prefixes + 1 && isPrefix(words[prefixes] as string, syntax.shellPrefixes)) {
    const after = /\S+/g;
    for (let i = 0; i <= prefixes; i++) after.exec(line);
    onShell(line.slice(after.lastIndex));
  }
}

/**
 * A prefix word (`prefixes` in lower case) as typed, or abbreviated to two letters or more: the device may
 * accept the short form.
 */
function isPrefix(word: string, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0 || word.length > 32) return false;
  const lower = word.toLowerCase();
  for (const p of prefixes) if (lower === p || (lower.length >= 2 && p.startsWith(lower))) return true;
  return false;
}

function unquotedIndex(text: string, char: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (!quoted && text[i] === char) return i;
  }
  return -1;
}

function collapse(text: string): string {
  return /\s\s|[^\S ]|^\s|\s$/.test(text) ? text.replace(/\s+/g, ' ').trim() : text;
}
