import { defaultPlatformPolicy, type PlatformPolicy } from '../policy/platform.js';
import { type Preset, patternProblem } from '../policy/policy.js';
import { closest } from '../util/suggest.js';
import { formatFieldPath } from '../util/zod-issues.js';
import { compilePattern } from './pattern.js';
import { regexErrorHint, regexPitfalls } from './regex-pitfalls.js';
import type { DialectFile } from './schema.js';
import { Template } from './template.js';

export interface Responder {
  pattern: RegExp;
  /** A pattern with values filled in per command ({{nonce}}): `pattern` is then its stand-in. */
  template?: Template;
  send?: string;
  secret?: string;
}

export interface ModeDef {
  name: string;
  /** Rendered with the values learned at open, then anchored to the whole last line. */
  prompt: Template;
  contextLines: RegExp[];
}

export interface Transition {
  from: string;
  to: string;
  send: Template;
  expect: Responder[];
  failure: RegExp[];
}

/** One command of a config_session operation, sent only when its conditions hold. */
export interface ConfigStep {
  send: Template;
  when: string[];
  unless: string[];
  capture: RegExp[];
  failure: RegExp[];
  optional: boolean;
}

/** The `config_session` section compiled: how the configure tools hold, show, commit and undo a change. */
export interface ConfigSession {
  description: string;
  baseMode: string;
  mode: string;
  candidate: boolean;
  requires: { send: Template; missing: RegExp[]; why: string }[];
  checkpoint: ConfigStep[];
  checkpointName?: Template;
  enter: ConfigStep[];
  load: Template;
  rejected: RegExp[];
  forbidden: RegExp[];
  diff: ConfigStep[];
  noDiff: RegExp[];
  check: ConfigStep[];
  commit: ConfigStep[];
  commitConfirmed?: ConfigStep[];
  confirm?: ConfigStep[];
  discard: ConfigStep[];
  discardEnter?: ConfigStep[];
  rollback?: ConfigStep[];
  rollbackDefault?: string;
  state: ConfigStep[];
  pendingConfirm: RegExp[];
  pendingCandidate: RegExp[];
  stateDiff: ConfigStep[];
  lineByLine?: { enter: ConfigStep[]; commit: ConfigStep[] };
  secrets: RegExp[];
}

/** A dialect with `extends` resolved and every template and pattern compiled once, ready for the runner. */
export interface Dialect {
  name: string;
  /** Ships with this program: its patterns (also those built at run time) use V8's regex engine. */
  trusted: boolean;
  description: string;
  source: string;
  channel: NonNullable<DialectFile['channel']>;
  lineEnding: string;
  completion:
    | {
        strategy: 'marker';
        send: Template;
        /** `match` with {{marker}} as a named group `marker`, compiled once (global: see the runner). */
        match: RegExp;
      }
    | { strategy: 'prompt'; send: Template };
  echo: boolean;
  /** Keywords may be abbreviated (network CLIs): the command policy matches prefixes. */
  abbreviations: boolean;
  promptLearn?: RegExp;
  modes: ModeDef[];
  privilegedMode?: string;
  transitions: Transition[];
  defaults: Record<string, string>;
  onOpen: { send: Template; capture: { name: string; pattern: RegExp }[]; optional: boolean }[];
  /** Answers to what comes before the first prompt. */
  login: { pattern: RegExp; send: string }[];
  onClose: Template[];
  /** Ends what the session started on the host, from a second channel, when it is closed. */
  onCloseExec?: Template;
  pagers: Responder[];
  inputPrompts: Responder[];
  /** `replace` may hold {{nonce}}, a value fresh for each command (see input_prompts). */
  commandRewrite: { match: RegExp; replace: Template }[];
  inputWait: { quietMs: number; prompts: { kind: string; pattern: RegExp }[]; stdinProbe?: Template };
  terminal?: { wrap: Template; programs: string[]; cols: number; rows: number; interrupt?: string };
  errors: RegExp[];
  withSecret: Record<string, string>;
  interrupt: { send?: string; exec?: Template; forceExec?: Template; graceMs: number };
  detect: {
    greeting?: RegExp;
    prompt?: RegExp;
    probes: { send: string; expect: RegExp }[];
  };
  /** How the command policy reads this platform's command lines, and its presets (the `policy:` section). */
  policy: PlatformPolicy;
  /**
   * Each mode's prompt with the learned values replaced by the patterns prompt_learn captures them with
   * (named groups): a prompt whose values changed (the host was renamed) still matches one of these.
   */
  promptShapes: { name: string; prompt: RegExp }[];
  /** How configuration changes are made safely; undefined: this platform has no configuration sessions. */
  configSession?: ConfigSession;
}

/** Markers are made of these characters, so the group can be this narrow. */
const MARKER_GROUP = '(?<marker>[0-9A-Za-z]{8,64})';

/**
 * A child's fields replace its parent's; `modes` and `defaults` merge key by key. Detection rules are not
 * inherited: a dialect that extends another is chosen by name, or it would tie with its parent. Examples
 * are not either: they state what the file that holds them must match, and are checked there.
 */
export function mergeDialectFiles(parent: DialectFile, child: DialectFile): DialectFile {
  return {
    ...parent,
    ...child,
    modes: { ...parent.modes, ...child.modes },
    defaults: { ...parent.defaults, ...child.defaults },
    policy: mergePolicy(parent.policy, child.policy),
    detect: child.detect,
    examples: child.examples,
  };
}

type PolicySection = NonNullable<DialectFile['policy']>;

/** A child's policy fields replace its parent's, except the read-only lists, which add to the parent's. */
function mergePolicy(parent?: PolicySection, child?: PolicySection): PolicySection | undefined {
  if (!parent || !child) return child ?? parent;
  const merged: PolicySection = { ...parent, ...child };
  const [p, c] = [parent.read_only, child.read_only];
  if (p && c) {
    const known = new Set(p.deny.map((d) => d.pattern));
    merged.read_only = {
      description: c.description ?? p.description,
      allow: [...new Set([...p.allow, ...c.allow])],
      filters: [...new Set([...p.filters, ...c.filters])],
      deny: [...p.deny, ...c.deny.filter((d) => !known.has(d.pattern))],
    };
  }
  return merged;
}

/** A problem with one field; `path` lets the loader point at its line and column. */
export class DialectFieldError extends Error {
  constructor(
    readonly path: (string | number)[],
    /** What is wrong, and what to do about it, without the field. */
    readonly problem: string,
  ) {
    super(`${formatFieldPath(path)}: ${problem}`);
  }
}

/** Every field problem compiling found, so an author fixes them in one go. */
export class DialectCompileError extends Error {
  constructor(readonly problems: DialectFieldError[]) {
    super(problems.map((p) => p.message).join('\n'));
  }
}

export interface CompileOptions {
  /** Receives what loads but is likely wrong (a regex habit from another language); nothing if unset. */
  warn?: (warning: DialectFieldError) => void;
  /** A built-in dialect: its patterns use V8's regex engine; others get a linear-time one (pattern.ts). */
  trusted?: boolean;
}

/** "transitions[0].failure[1]" → ['transitions', 0, 'failure', 1] */
function fieldPath(where: string): (string | number)[] {
  return where
    .split(/[.[\]]/)
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** Stands in for a pattern that did not compile, so compiling goes on and finds the other problems. */
const NEVER = /(?!)/;

type PatternCompiler = (source: string, where: string, flags?: string) => RegExp;

function responders(list: DialectFile['pagers'], where: string, pattern: PatternCompiler): Responder[] {
  return (list ?? []).map((r, i) => {
    const at = `${where}[${i}].pattern`;
    // {{nonce}} (and learned values) are filled in per command; checked now with stand-ins.
    const template = r.pattern.includes('{{') ? new Template(r.pattern) : undefined;
    const standIns = template && Object.fromEntries([...template.names].map((n) => [n, 'probe']));
    return {
      pattern: pattern(template ? template.render(standIns ?? {}) : r.pattern, at),
      ...(template && { template }),
      send: r.send,
      secret: r.secret,
    };
  });
}

/**
 * Check what only the merged dialect can show, and compile it. Throws a DialectCompileError naming every
 * field that is wrong.
 */
export function compileDialect(file: DialectFile, source: string, options: CompileOptions = {}): Dialect {
  const problems: DialectFieldError[] = [];
  const template = (text: string, where: string): Template => {
    try {
      return new Template(text);
    } catch (error) {
      problems.push(new DialectFieldError(fieldPath(where), (error as Error).message));
      return new Template('');
    }
  };
  const pattern: PatternCompiler = (text, where, flags = '') => {
    for (const pitfall of options.warn ? regexPitfalls(text) : []) {
      options.warn?.(new DialectFieldError(fieldPath(where), pitfall));
    }
    try {
      const compiled = compilePattern(text, flags, options.trusted === true);
      if (compiled.backtracking) {
        options.warn?.(
          new DialectFieldError(
            fieldPath(where),
            'uses lookaround or a back-reference, which the linear-time engine cannot run: it backtracks, on bounded input (prefer a pattern without them)',
          ),
        );
      }
      return compiled.regexp;
    } catch (error) {
      const hint = regexErrorHint(text);
      problems.push(
        new DialectFieldError(fieldPath(where), `${(error as Error).message}${hint ? ` — ${hint}` : ''}`),
      );
      return NEVER;
    }
  };
  // Without these three nothing else can be compiled: stop at them.
  const missing = (field: string) =>
    new DialectCompileError([
      new DialectFieldError(
        [field.split(' ')[0] as string],
        `${field} is required (here or in the dialect it extends)`,
      ),
    ]);
  if (!file.channel) throw missing('channel');
  if (!file.completion) throw missing('completion');
  if (!file.interrupt) throw missing('interrupt');
  if (file.channel.type === 'exec' && !file.channel.command)
    problems.push(new DialectFieldError(['channel', 'command'], 'an exec channel needs it'));
  if (file.interrupt.send === undefined && file.interrupt.exec === undefined) {
    problems.push(new DialectFieldError(['interrupt'], 'give `send` or `exec`'));
  }

  let completion: Dialect['completion'];
  if (file.completion.strategy === 'marker') {
    if (!file.completion.match.includes('{{marker}}'))
      problems.push(new DialectFieldError(['completion', 'match'], 'must contain {{marker}}'));
    completion = {
      strategy: 'marker',
      send: template(file.completion.send, 'completion.send'),
      match: pattern(file.completion.match.replaceAll('{{marker}}', MARKER_GROUP), 'completion.match', 'g'),
    };
  } else {
    if (!file.prompt_learn)
      problems.push(...missing('prompt_learn (for completion.strategy prompt)').problems);
    if (!file.modes || Object.keys(file.modes).length === 0)
      problems.push(...missing('modes (for completion.strategy prompt)').problems);
    completion = { strategy: 'prompt', send: template(file.completion.send, 'completion.send') };
  }

  const learnable = new Set([
    ...[...(file.prompt_learn ?? '').matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((m) => m[1] as string),
    ...Object.keys(file.defaults ?? {}),
  ]);
  const modes = Object.entries(file.modes ?? {}).map(([modeName, m]) => {
    const prompt = template(m.prompt, `modes.${modeName}.prompt`);
    // Validate the regex now with stand-in values, so a typo is reported at load, not on first use.
    const probeVars = Object.fromEntries([...prompt.names].map((n) => [n, 'probe']));
    const before = problems.length;
    pattern(prompt.render(probeVars), `modes.${modeName}.prompt`);
    const badRegex = problems.length > before;
    // Mode prompts are filled in when the first prompt is learned: only its groups and defaults exist then.
    const unknown = [...prompt.names].filter((value) => !learnable.has(value));
    for (const value of unknown) {
      const guess = closest(value, learnable);
      problems.push(
        new DialectFieldError(
          ['modes', modeName, 'prompt'],
          `{{${value}}} is neither a named group of prompt_learn nor in defaults (known: ${[...learnable].join(', ') || 'none'}) — ${
            guess
              ? `did you mean {{${guess}}}?`
              : `capture it in prompt_learn with (?<${value}>...), or give it under defaults`
          }`,
        ),
      );
    }
    return {
      name: modeName,
      // A prompt that is no regex, or has a value nobody gives, cannot be shaped either: reported above.
      prompt: badRegex || unknown.length > 0 ? new Template('') : prompt,
      contextLines: m.context_lines.map((c, i) => pattern(c, `modes.${modeName}.context_lines[${i}]`)),
    };
  });
  const modeNames = new Set(modes.map((m) => m.name));
  const unknownMode = (name: string) => {
    const guess = closest(name, modeNames);
    return `no mode named "${name}" — ${guess ? `did you mean "${guess}"? ` : ''}modes: ${[...modeNames].join(', ') || 'none'}`;
  };
  const transitions = (file.transitions ?? []).map((t, i) => {
    for (const end of ['from', 'to'] as const) {
      if (!modeNames.has(t[end]))
        problems.push(new DialectFieldError(['transitions', i, end], unknownMode(t[end])));
    }
    return {
      from: t.from,
      to: t.to,
      send: template(t.send, `transitions[${i}].send`),
      expect: responders(t.expect, `transitions[${i}].expect`, pattern),
      failure: t.failure.map((f, j) => pattern(f, `transitions[${i}].failure[${j}]`, 'm')),
    };
  });
  if (file.privileged_mode && !modeNames.has(file.privileged_mode)) {
    problems.push(new DialectFieldError(['privileged_mode'], unknownMode(file.privileged_mode)));
  }

  const dialect: Dialect = {
    name: file.name,
    trusted: options.trusted === true,
    description: file.description ?? '',
    source,
    channel: file.channel,
    lineEnding: file.line_ending ?? '\n',
    completion,
    echo: file.echo ?? false,
    abbreviations: file.abbreviations ?? false,
    promptLearn: file.prompt_learn === undefined ? undefined : pattern(file.prompt_learn, 'prompt_learn'),
    modes,
    privilegedMode: file.privileged_mode,
    transitions,
    defaults: file.defaults ?? {},
    onOpen: (file.on_open ?? []).map((s, i) => ({
      send: template(s.send, `on_open[${i}].send`),
      capture: Object.entries(s.capture ?? {}).map(([capture, source]) => ({
        name: capture,
        pattern: pattern(source, `on_open[${i}].capture.${capture}`),
      })),
      optional: s.optional,
    })),
    login: (file.login ?? []).map((l, i) => ({
      pattern: pattern(l.pattern, `login[${i}].pattern`),
      send: l.send,
    })),
    onClose: (file.on_close ?? []).map((s, i) => template(s.send, `on_close[${i}].send`)),
    ...(file.on_close_exec !== undefined && { onCloseExec: template(file.on_close_exec, 'on_close_exec') }),
    pagers: responders(file.pagers, 'pagers', pattern),
    inputPrompts: responders(file.input_prompts, 'input_prompts', pattern),
    commandRewrite: (file.command_rewrite ?? []).map((r, i) => ({
      match: pattern(r.match, `command_rewrite[${i}].match`),
      replace: template(r.replace, `command_rewrite[${i}].replace`),
    })),
    inputWait: {
      quietMs: file.input_wait?.quiet_ms ?? 400,
      prompts: (file.input_wait?.prompts ?? []).map((p, i) => ({
        kind: p.kind,
        pattern: pattern(p.pattern, `input_wait.prompts[${i}].pattern`, 'i'),
      })),
      ...(file.input_wait?.stdin_probe !== undefined && {
        stdinProbe: template(file.input_wait.stdin_probe, 'input_wait.stdin_probe'),
      }),
    },
    terminal:
      file.terminal === undefined
        ? undefined
        : {
            wrap: template(file.terminal.wrap, 'terminal.wrap'),
            programs: file.terminal.programs,
            cols: file.terminal.cols,
            rows: file.terminal.rows,
            ...(file.terminal.interrupt !== undefined && { interrupt: file.terminal.interrupt }),
          },
    errors: (file.errors ?? []).map((e, i) => pattern(e, `errors[${i}]`, 'm')),
    withSecret: file.with_secret ?? {},
    interrupt: {
      send: file.interrupt.send,
      exec: file.interrupt.exec === undefined ? undefined : template(file.interrupt.exec, 'interrupt.exec'),
      forceExec:
        file.interrupt.force_exec === undefined
          ? undefined
          : template(file.interrupt.force_exec, 'interrupt.force_exec'),
      graceMs: file.interrupt.grace_ms,
    },
    detect: {
      greeting:
        file.detect?.greeting === undefined
          ? undefined
          : pattern(file.detect.greeting, 'detect.greeting', 'm'),
      prompt: file.detect?.prompt === undefined ? undefined : pattern(file.detect.prompt, 'detect.prompt'),
      probes: (file.detect?.probes ?? []).map((p, i) => ({
        send: p.send,
        expect: pattern(p.expect, `detect.probes[${i}].expect`, 'm'),
      })),
    },
    policy: platformPolicy(file, modeNames, problems),
    promptShapes: promptShapes(file, modes, pattern),
    ...(file.config_session && {
      configSession: configSession(file.config_session, modeNames, problems, template, pattern),
    }),
  };
  // A mode prompt is compiled twice (with stand-in values, and as a shape): report its problem once.
  const unique = [...new Map(problems.map((p) => [p.message, p])).values()];
  if (unique.length > 0) throw new DialectCompileError(unique);
  return dialect;
}

type ConfigSessionFile = NonNullable<DialectFile['config_session']>;
type StepsFile = ConfigSessionFile['enter'];

/** The `config_session:` section compiled; its modes must exist. */
function configSession(
  section: ConfigSessionFile,
  modeNames: Set<string>,
  problems: DialectFieldError[],
  template: (text: string, where: string) => Template,
  pattern: PatternCompiler,
): ConfigSession {
  const at = 'config_session';
  for (const field of ['base_mode', 'mode'] as const) {
    if (!modeNames.has(section[field])) {
      problems.push(
        new DialectFieldError(
          [at, field],
          `no mode named "${section[field]}" — modes: ${[...modeNames].join(', ') || 'none'}`,
        ),
      );
    }
  }
  const patterns = (list: string[], where: string) =>
    list.map((p, i) => pattern(p, `${at}.${where}[${i}]`, 'm'));
  const steps = (list: StepsFile | undefined, where: string): ConfigStep[] =>
    (list ?? []).map((step, i) => {
      const w = `${at}.${where}[${i}]`;
      if (typeof step === 'string') {
        return { send: template(step, w), when: [], unless: [], capture: [], failure: [], optional: false };
      }
      return {
        send: template(step.send, `${w}.send`),
        when: step.when ?? [],
        unless: step.unless ?? [],
        capture: patterns(step.capture ?? [], `${where}[${i}].capture`),
        failure: patterns(step.failure ?? [], `${where}[${i}].failure`),
        optional: step.optional,
      };
    });
  return {
    description: section.description ?? '',
    baseMode: section.base_mode,
    mode: section.mode,
    candidate: section.candidate,
    requires: section.requires.map((r, i) => ({
      send: template(r.send, `${at}.requires[${i}].send`),
      missing: patterns(r.missing, `requires[${i}].missing`),
      why: r.why,
    })),
    checkpoint: steps(section.checkpoint, 'checkpoint'),
    ...(section.checkpoint_name !== undefined && {
      checkpointName: template(section.checkpoint_name, `${at}.checkpoint_name`),
    }),
    enter: steps(section.enter, 'enter'),
    load: template(section.load, `${at}.load`),
    rejected: patterns(section.rejected, 'rejected'),
    forbidden: patterns(section.forbidden, 'forbidden'),
    diff: steps(section.diff, 'diff'),
    noDiff: patterns(section.no_diff, 'no_diff'),
    check: steps(section.check, 'check'),
    commit: steps(section.commit, 'commit'),
    ...(section.commit_confirmed && { commitConfirmed: steps(section.commit_confirmed, 'commit_confirmed') }),
    ...(section.confirm && { confirm: steps(section.confirm, 'confirm') }),
    discard: steps(section.discard, 'discard'),
    ...(section.discard_enter && { discardEnter: steps(section.discard_enter, 'discard_enter') }),
    ...(section.rollback && { rollback: steps(section.rollback, 'rollback') }),
    ...(section.rollback_default !== undefined && { rollbackDefault: section.rollback_default }),
    state: steps(section.state, 'state'),
    pendingConfirm: patterns(section.pending_confirm, 'pending_confirm'),
    pendingCandidate: patterns(section.pending_candidate, 'pending_candidate'),
    stateDiff: steps(section.state_diff, 'state_diff'),
    ...(section.line_by_line && {
      lineByLine: {
        enter: steps(section.line_by_line.enter, 'line_by_line.enter'),
        commit: steps(section.line_by_line.commit, 'line_by_line.commit'),
      },
    }),
    secrets: patterns(section.secrets, 'secrets'),
  };
}

/** The `policy:` section as the command policy takes it; pattern mistakes are reported where written. */
function platformPolicy(
  file: DialectFile,
  modeNames: Set<string>,
  problems: DialectFieldError[],
): PlatformPolicy {
  const section = file.policy;
  const fallback = defaultPlatformPolicy(file.abbreviations ?? false);
  if (!section) return fallback;
  for (const [i, mode] of (section.shell_modes ?? []).entries()) {
    if (!modeNames.has(mode)) {
      problems.push(
        new DialectFieldError(
          ['policy', 'shell_modes', i],
          `no mode named "${mode}" — modes: ${[...modeNames].join(', ') || 'none'}`,
        ),
      );
    }
  }
  const presets: { 'read-only'?: Preset } = {};
  const readOnly = section.read_only;
  if (readOnly) {
    const check = (pattern: string, list: 'allow' | 'deny', where: (string | number)[]) => {
      const problem = patternProblem(pattern, list);
      if (problem) problems.push(new DialectFieldError(['policy', 'read_only', ...where], problem));
    };
    for (const [i, pattern] of readOnly.allow.entries()) check(pattern, 'allow', ['allow', i]);
    for (const [i, filter] of readOnly.filters.entries()) check(`| ${filter}`, 'allow', ['filters', i]);
    for (const [i, { pattern }] of readOnly.deny.entries()) check(pattern, 'deny', ['deny', i, 'pattern']);
    presets['read-only'] = {
      description: readOnly.description ?? `${file.name}: commands that only read state`,
      allow: [...readOnly.allow, ...readOnly.filters.map((filter) => `| ${filter}`)],
      deny: readOnly.deny.map(({ pattern, why }) => ({ pattern, why })),
    };
  }
  return {
    syntax: section.syntax ?? fallback.syntax,
    cli: {
      runPrefixes: section.run_prefixes ?? [],
      shellPrefixes: section.shell_prefixes ?? [],
      pipe: section.pipe ?? '|',
      separators: section.separators ?? [';'],
    },
    shellModes: section.shell_modes ?? [],
    presets,
  };
}

/**
 * Mode prompts with every learned value as the pattern prompt_learn captures it by: the first use of a
 * value is a named group, later uses refer back to it. Values that only come from `defaults` stay fixed.
 */
function promptShapes(
  file: DialectFile,
  modes: ModeDef[],
  pattern: PatternCompiler,
): Dialect['promptShapes'] {
  if (!file.prompt_learn) return [];
  const groups = namedGroupSources(file.prompt_learn);
  return modes.map((mode) => {
    const seen = new Set<string>();
    const vars: Record<string, string> = { ...(file.defaults ?? {}) };
    let source = '';
    // Render part by part so each value can become a group or a back-reference where it stands.
    for (const part of mode.prompt.parts) {
      if (typeof part === 'string') {
        source += part;
        continue;
      }
      const group = groups.get(part.name);
      if (group === undefined) {
        source += mode.prompt.renderPart(part, vars);
      } else if (seen.has(part.name)) {
        source += `\\k<${part.name}>`;
      } else {
        seen.add(part.name);
        source += `(?<${part.name}>${group})`;
      }
    }
    return { name: mode.name, prompt: pattern(`^(?:${source})$`, `modes.${mode.name}.prompt`) };
  });
}

/**
 * The source of each named group in a regular expression: `(?<host>[a-z]+)` gives host → `[a-z]+`. Groups
 * inside are kept as plain groups; escapes and character classes are skipped while counting parentheses.
 */
export function namedGroupSources(source: string): Map<string, string> {
  const found = new Map<string, string>();
  const opener = /<(?<name>[A-Za-z_]\w*)>/y;
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '\\') {
      i++;
      continue;
    }
    if (source[i] !== '(' || source[i + 1] !== '?') continue;
    opener.lastIndex = i + 2;
    const m = opener.exec(source);
    if (!m?.groups) continue;
    const start = opener.lastIndex;
    let depth = 1;
    let inClass = false;
    let j = start;
    for (; j < source.length && depth > 0; j++) {
      const c = source[j];
      if (c === '\\') j++;
      else if (inClass) inClass = c !== ']';
      else if (c === '[') inClass = true;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    }
    if (depth === 0 && !found.has(m.groups.name as string)) {
      // Inner named groups would clash with the names used around them: make them plain groups.
      found.set(m.groups.name as string, source.slice(start, j - 1).replace(/\(\?<([A-Za-z_]\w*)>/g, '(?:'));
    }
  }
  return found;
}
