import type { CliSyntax } from './cli.js';
import { PolicyConfigError, PolicyParseError } from './errors.js';
import { type Hazard, hazards } from './hazards.js';
import { PRESET_NAMES, type PresetName, type PresetSource } from './presets.js';
import { type Analysis, analyzeCommands, type CheckedCommand, type CommandSyntax } from './split.js';
import { commandName } from './wrappers.js';

export type { CliSyntax } from './cli.js';
export { PLAIN_CLI } from './cli.js';
export { PolicyConfigError, PolicyParseError } from './errors.js';
export type { Hazard } from './hazards.js';
export type { Preset, PresetName, PresetSource } from './presets.js';
export { PRESET_NAMES } from './presets.js';
export type { CommandSyntax, SimpleCommand } from './split.js';

/** A command pattern and where it was written: `host core-sw1`, `group network`, `defaults`. */
export interface PatternSpec {
  pattern: string;
  origin: string;
}

/** The command policy of one host: every level's rules together (they combine, they do not override). */
export interface PolicyRules {
  allow: PatternSpec[];
  deny: PatternSpec[];
  presets: { name: string; origin: string }[];
}

export type PolicyDecision =
  | { allowed: true; checked: number }
  | { allowed: false; command: string; rule: string; reason: string };

export interface CheckOptions {
  /** Network CLIs: a command word also matches a pattern word it abbreviates (`sh run` is `show running-config`). */
  abbreviations: boolean;
  /**
   * How to read the input. Default: `cli` when abbreviations is on, else `shell` (bash). A session in a
   * device's shell mode takes `{ abbreviations: false, syntax: 'shell' }`.
   */
  syntax?: CommandSyntax;
  /** The device CLI's syntax (prefix words, pipe, separators), from its dialect. Default: PLAIN_CLI. */
  cli?: CliSyntax;
}

type WordMatcher =
  | { kind: 'any' }
  | { kind: 'literal'; text: string }
  | { kind: 'glob'; re: RegExp; head: string /* the part before the first `*` */ };

export interface CompiledRule {
  /** As written in the config or the preset. */
  readonly pattern: string;
  /** Where it came from: `group network`, `preset read-only (host core-sw1)`. */
  readonly label: string;
  /** Why a preset denies it, for the refusal message. */
  readonly why?: string;
  /** `| include`: only a command reached through a pipe (allow rules only). */
  readonly pipeOnly: boolean;
  /** `sort > /tmp/*`: the command may write its output to a matching file (allow rules only). */
  readonly output?: WordMatcher;
  readonly match:
    | { kind: 'words'; words: WordMatcher[]; firstBase?: WordMatcher }
    | { kind: 'regex'; re: RegExp }
    | { kind: 'redirect' };
}

export interface CompiledPolicy {
  /** False when there is no rule at all: every command runs, nothing is parsed. */
  readonly active: boolean;
  /** True once any allow rule or preset exists: a command must then match an allow rule. */
  readonly allowListing: boolean;
  readonly allow: readonly CompiledRule[];
  readonly deny: readonly CompiledRule[];
  /** Where the allow rules came from, for the refusal message: `preset read-only (group network), host x`. */
  readonly allowOrigins: string;
}

/**
 * Compile once per host (and dialect); checking then costs microseconds. `dialect` supplies the presets the
 * rules name. Throws PolicyConfigError.
 */
export function compilePolicy(rules: PolicyRules, dialect?: PresetSource): CompiledPolicy {
  const allow: CompiledRule[] = [];
  const deny: CompiledRule[] = [];
  for (const { name, origin } of rules.presets) {
    if (!(PRESET_NAMES as readonly string[]).includes(name)) {
      throw new PolicyConfigError(
        `unknown command policy preset "${name}" (${origin}): the presets are ${PRESET_NAMES.join(', ')}; write preset: ${PRESET_NAMES[0]}, or list allow and deny patterns instead`,
      );
    }
    const preset = dialect?.presets[name as PresetName];
    if (!preset) {
      throw new PolicyConfigError(
        dialect
          ? `preset ${name} (${origin}): dialect ${dialect.name} has no ${name} preset (no policy.${name.replace('-', '_')} section in its file); give the host a dialect that has one, add the section to the dialect, or list allow and deny patterns instead`
          : `preset ${name} (${origin}) comes from the host's dialect, and none was given: the preset is resolved once the host's dialect is known`,
      );
    }
    const label = `preset ${name} (${origin})`;
    for (const pattern of preset.allow) allow.push(compileRule(pattern, label, 'allow'));
    for (const { pattern, why } of preset.deny) deny.push(compileRule(pattern, label, 'deny', why));
  }
  for (const { pattern, origin } of rules.allow) allow.push(compileRule(pattern, origin, 'allow'));
  for (const { pattern, origin } of rules.deny) deny.push(compileRule(pattern, origin, 'deny'));
  const allowListing = allow.length > 0;
  return {
    active: allowListing || deny.length > 0,
    allowListing,
    allow,
    deny,
    allowOrigins: [...new Set(allow.map((rule) => rule.label))].join(', '),
  };
}

/** What is wrong with a pattern (the message compilePolicy would throw), or undefined when it is fine. */
export function patternProblem(pattern: string, list: 'allow' | 'deny'): string | undefined {
  try {
    compileRule(pattern, 'this dialect', list);
    return undefined;
  } catch (error) {
    if (!(error instanceof PolicyConfigError)) throw error;
    return error.message;
  }
}

function compileRule(pattern: string, label: string, list: 'allow' | 'deny', why?: string): CompiledRule {
  let text = pattern.trim();
  let pipeOnly = false;
  if (text.startsWith('|')) {
    // A `|` prefix narrows an allow rule to filters after a pipe; a deny rule applies everywhere anyway.
    pipeOnly = list === 'allow';
    text = text.slice(1).trim();
  }
  const base = { pattern, label, pipeOnly, ...(why === undefined ? {} : { why }) };
  if (text === '') {
    throw new PolicyConfigError(
      `empty ${list} pattern "${pattern}" (${label}): write command words such as "show ip route", "| include", or re:<regex>`,
    );
  }
  if (text.startsWith('re:')) {
    try {
      return { ...base, match: { kind: 'regex', re: new RegExp(text.slice(3), 'i') } };
    } catch (error) {
      throw new PolicyConfigError(
        `invalid regular expression in ${list} pattern "${pattern}" (${label}): ${(error as Error).message}; write a JavaScript regular expression after re:, such as re:^show\\s`,
      );
    }
  }
  if (text === '>') {
    if (list === 'allow') {
      throw new PolicyConfigError(
        `">" in allow (${label}) allows nothing: ">" is a deny pattern that refuses output redirection; move it to deny`,
      );
    }
    return { ...base, match: { kind: 'redirect' } };
  }
  const words = text.split(/\s+/);
  // `WORDS > TARGET` (allow only): the command may also write its output to a file matching TARGET.
  let output: WordMatcher | undefined;
  const redirect = words.findIndex((w) => w === '>' || w === '>>');
  if (redirect >= 0 && list === 'allow') {
    const targets = words.splice(redirect);
    if (targets.length > 2 || redirect === 0) {
      throw new PolicyConfigError(
        `allow pattern "${pattern}" (${label}): write command words, then "> PATH" with one path or glob (e.g. "sort > /tmp/*"), or ">" alone for any file`,
      );
    }
    output = targets[1] === undefined ? { kind: 'any' } : compilePath(targets[1]);
  }
  while (words.length > 0 && words[words.length - 1] === '*') words.pop(); // "anything after" is implied
  const matchers = words.map(compileWord);
  const first = words[0];
  const firstBase =
    first !== undefined && list === 'deny' && first.includes('/') ? commandName(first) : undefined;
  return {
    ...base,
    ...(output && { output }),
    match: {
      kind: 'words',
      words: matchers,
      ...(firstBase && firstBase !== first ? { firstBase: compileWord(firstBase) } : {}),
    },
  };
}

/** A file a redirection may write: `*` matches within the path too; the case matters. */
function compilePath(glob: string): WordMatcher {
  if (glob === '*') return { kind: 'any' };
  const source = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { kind: 'glob', re: new RegExp(`^${source}$`, 's'), head: glob.slice(0, glob.indexOf('*')) };
}

function compileWord(word: string): WordMatcher {
  const lower = word.toLowerCase();
  if (lower === '*') return { kind: 'any' };
  const star = lower.indexOf('*');
  if (star < 0) return { kind: 'literal', text: lower };
  const source = lower
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { kind: 'glob', re: new RegExp(`^${source}$`, 's'), head: lower.slice(0, star) };
}

// ---- checking ------------------------------------------------------------------------------------------

/**
 * Whether `input` may run: every command in it (after splitting on newlines, `;`, `&&`, `||`, pipes and
 * substitutions, and looking through wrappers) must be denied by no deny rule and, once allow-listing is
 * on, match an allow rule. Input the splitter cannot read is refused, never guessed at; so is what it
 * cannot follow (see hazards.ts): under any policy what runs commands no rule can see, under an allow list
 * also what it cannot analyse.
 */
export function checkCommand(policy: CompiledPolicy, input: string, options: CheckOptions): PolicyDecision {
  if (!policy.active) return { allowed: true, checked: 0 };
  const analysis = analyze(input, options);
  if ('refusal' in analysis) return analysis.refusal;
  return checkAnalysis(policy, analysis, options.abbreviations);
}

/** The input read with the options' syntax, or the refusal when it cannot be read. */
export function analyze(
  input: string,
  options: CheckOptions,
): Analysis | { refusal: Extract<PolicyDecision, { allowed: false }> } {
  const syntax = options.syntax ?? (options.abbreviations ? 'cli' : 'shell');
  try {
    return analyzeCommands(input, syntax, options.cli);
  } catch (error) {
    if (!(error instanceof PolicyParseError)) throw error;
    return {
      refusal: {
        allowed: false,
        command: shorten(input),
        rule: '(unreadable)',
        reason: `the command policy cannot read this command line: ${error.message}`,
      },
    };
  }
}

/** Check what analyze found: the commands in order, then what the policy cannot follow. */
export function checkAnalysis(
  policy: CompiledPolicy,
  analysis: Analysis,
  abbreviations: boolean,
): PolicyDecision {
  for (const command of analysis.commands) {
    const refusal = checkOne(policy, command, abbreviations);
    if (refusal) return refusal;
  }
  for (const hazard of analysis.hazards) {
    if (hazard.refusedUnder === 'any' || policy.allowListing) return refuse(hazard);
  }
  if (policy.allowListing) {
    for (const { name, text } of analysis.functions) {
      const prepared: Prepared = {
        command: NAME_ONLY,
        words: [name.toLowerCase()],
        text: name.toLowerCase(),
      };
      if (policy.allow.some((rule) => matches(rule, prepared, abbreviations, 'allow'))) {
        return refuse(hazards.functionShadow(text, name));
      }
    }
  }
  return { allowed: true, checked: analysis.commands.length };
}

function refuse(hazard: Hazard): Extract<PolicyDecision, { allowed: false }> {
  return {
    allowed: false,
    command: shorten(hazard.text),
    rule: hazard.rule,
    reason: `not allowed: ${hazard.reason}`,
  };
}

/** A function name checked as if it were a command of its own. */
const NAME_ONLY: CheckedCommand = {
  text: '',
  words: [],
  redirectsOutput: false,
  outputTargets: [],
  viaPipe: false,
  dynamic: false,
};

interface Prepared {
  command: CheckedCommand;
  /** Lower-cased words. */
  words: string[];
  /** The first word's last path component when it differs (`/sbin/reboot`: `reboot`). */
  base?: string;
  text: string;
  /** The text with the first word replaced by `base`. */
  baseText?: string;
}

function checkOne(
  policy: CompiledPolicy,
  command: CheckedCommand,
  abbreviations: boolean,
): Extract<PolicyDecision, { allowed: false }> | undefined {
  const text = shorten(command.text);
  if (command.dynamic) {
    return {
      allowed: false,
      command: text,
      rule: '(command name known only at run time)',
      reason: `not allowed: "${text}" gets its command name only when it runs (from a variable, a substitution, a glob or braces), which the command policy cannot check; write the command name out`,
    };
  }
  const words = command.words.map((w) => w.toLowerCase());
  const prepared: Prepared = { command, words, text: command.text.toLowerCase() };
  const first = words[0];
  if (first !== undefined) {
    const base = commandName(first);
    if (base !== first) {
      prepared.base = base;
      prepared.baseText = [base, ...words.slice(1)].join(' ');
    }
  }
  for (const rule of policy.deny) {
    if (matches(rule, prepared, abbreviations, 'deny')) {
      return {
        allowed: false,
        command: text,
        rule: rule.pattern,
        reason: `"${text}" is denied by deny "${rule.pattern}" (${rule.label})${rule.why ? `: ${rule.why}` : ''}`,
      };
    }
  }
  if (!policy.allowListing) return undefined;
  const allowing = policy.allow.filter((rule) => matches(rule, prepared, abbreviations, 'allow'));
  if (allowing.length === 0) {
    return {
      allowed: false,
      command: text,
      rule: '(no allow rule)',
      reason: `not allowed: "${text}" matches no allow rule (allow rules from ${policy.allowOrigins})${command.viaPipe && abbreviations ? PIPE_HINT : ''}`,
    };
  }
  // Writing a file is more than running the command: an allow rule must permit it, target by target.
  if (
    command.redirectsOutput &&
    !allowing.some((rule) => command.outputTargets.every((target) => writes(rule, target)))
  ) {
    const targets = command.outputTargets.map((t) => t.value).join(', ') || 'a file';
    return refuse(hazards.outputFile(command.text, targets));
  }
  return undefined;
}

function writes(rule: CompiledRule, target: { value: string; dynamic: boolean }): boolean {
  const output = rule.output;
  if (!output) return false;
  if (output.kind === 'any') return true;
  // A target known only at run time, or one that climbs out of a folder, matches only "any file".
  if (target.dynamic || /(?:^|\/)\.\.(?:\/|$)/.test(target.value)) return false;
  return output.kind === 'literal' ? output.text === target.value : output.re.test(target.value);
}

const PIPE_HINT =
  '; every "|" starts a new command for the policy, also one inside a filter\'s regular expression (include up|down): quote the expression where the device accepts quotes, or filter once per command';

function matches(rule: CompiledRule, c: Prepared, abbreviations: boolean, list: 'allow' | 'deny'): boolean {
  if (rule.pipeOnly && !c.command.viaPipe) return false;
  const m = rule.match;
  switch (m.kind) {
    case 'redirect':
      return c.command.redirectsOutput;
    case 'regex':
      // A deny pattern also sees `/sbin/reboot now` as `reboot now`.
      return m.re.test(c.text) || (list === 'deny' && c.baseText !== undefined && m.re.test(c.baseText));
    case 'words': {
      const { words } = c;
      if (words.length < m.words.length) return false;
      for (let i = 1; i < m.words.length; i++) {
        if (!wordMatches(m.words[i] as WordMatcher, words[i] as string, abbreviations, list)) return false;
      }
      const pattern = m.words[0];
      if (pattern === undefined) return true; // `*`: any command
      const first = words[0] as string;
      if (wordMatches(pattern, first, abbreviations, list)) return true;
      if (list === 'allow') return false; // an allow rule names the command as it is written
      // A deny rule also catches the command by its last path component (`/sbin/reboot` for `reboot`),
      // and a deny of `/usr/bin/python3` catches `python3`.
      const base = c.base ?? first;
      return (
        (c.base !== undefined && wordMatches(pattern, base, abbreviations, list)) ||
        (m.firstBase !== undefined && wordMatches(m.firstBase, base, abbreviations, list))
      );
    }
  }
}

/**
 * With abbreviations, a command word matches a pattern word it is a prefix of (`sh` for `show`), as the
 * device would read it. A deny word also matches a command word it is a prefix of, so `deny: [conf t]`
 * written the short way still catches `configure terminal`. An allow word never does: `allow: [sh]` must
 * not allow `shutdown`.
 */
function wordMatches(m: WordMatcher, word: string, abbreviations: boolean, list: 'allow' | 'deny'): boolean {
  switch (m.kind) {
    case 'any':
      return true;
    case 'literal':
      if (word === m.text) return true;
      if (!abbreviations || word === '') return false;
      return m.text.startsWith(word) || (list === 'deny' && word.startsWith(m.text));
    case 'glob':
      if (m.re.test(word)) return true;
      if (!abbreviations || word === '') return false;
      // `word` is a prefix of some word the glob matches: a prefix of the head, or the head and more.
      return m.head.startsWith(word) || word.startsWith(m.head);
  }
}

function shorten(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 200)}...`;
}
