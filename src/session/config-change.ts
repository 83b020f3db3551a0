import type { ConfigSession, ConfigStep, Dialect } from '../dialect/dialect.js';
import type { ExpectRunner, RunOptions } from '../expect/runner.js';

/**
 * Configuration changes the safe way, driven entirely by a dialect's `config_session` section: enter a
 * private or exclusive candidate, load the lines one by one (the first the device rejects stops the
 * change), show the diff the device computes, commit (confirmed) or discard, and leave the device in its
 * base mode whatever happened. No device word is written here: every command and pattern is the dialect's.
 */

/** Bad input, or an operation the platform cannot do: the message says what to do instead. */
export class ConfigChangeError extends Error {}

/** The connection or shell went away in the middle of an operation. */
export class ConfigConnectionLostError extends ConfigChangeError {}

export type ConfigOutcome =
  | 'committed'
  | 'pending_confirm'
  | 'dry_run'
  | 'no_change'
  | 'rejected'
  | 'declined'
  | 'cancelled';

export interface ConfigureRequest {
  lines: string[];
  dryRun?: boolean;
  /** Commit confirmed: the device rolls back by itself after this many minutes unless confirmed. */
  confirmMinutes?: number;
  comment?: string;
  /** The platform cannot hold a change (no candidate, no checkpoint): apply the lines as typed. */
  lineByLine?: boolean;
  /** Asked with the diff before committing; not approved: the change is discarded. */
  approve?: (diff: string) => Promise<{ approved: boolean; why?: string }>;
  /** Checked between lines: an abort stops loading and discards what was loaded. */
  signal?: AbortSignal;
}

export interface RejectedLine {
  /** 1-based position in `lines`. */
  index: number;
  line: string;
  /** The device's own words. */
  error: string;
}

export interface ConfigResult {
  outcome: ConfigOutcome;
  /** The diff the device computed (masked where the dialect marks secrets). */
  diff: string;
  /** The lines that are now in the configuration (none unless committed, or applied line by line). */
  committed: string[];
  commitId?: string;
  checkpoint?: string;
  confirmMinutes?: number;
  rejected?: RejectedLine;
  /** Name of the device-side session the change was made in, where the platform names one. */
  sessionName?: string;
  notes: string[];
}

export interface ConfigState {
  pendingConfirm: boolean;
  pendingCandidate: boolean;
  /** Values the state patterns captured (minutes_left, session...). */
  details: Record<string, string>;
  diff?: string;
}

export interface OperationResult {
  /** What the device answered to the operation's steps, in order (masked). */
  output: string;
  values: Record<string, string>;
  notes: string[];
}

export interface ConfigChangeOptions {
  /** Secrets and template values for mode changes (enable). */
  run: Pick<RunOptions, 'secrets' | 'vars' | 'askSecret'>;
  /** Bounds each step and each line; a commit on a big device takes a while. */
  stepTimeoutMs: number;
  /** A name for the device-side session of this operation (configure session NAME). */
  sessionName: string;
  /** The checkpoint the last change on this session saved, if any. */
  lastCheckpoint?: string;
}

/** Characters that would let a line or a value smuggle a second command onto the device. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** What a checkpoint or session name may be: it is pasted into commands. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;
/** Output kept per step: diffs of a few thousand lines. */
const STEP_OUTPUT_BYTES = 1024 * 1024;

/** The config_session of a dialect, or an error that says this host has none. */
export function configSessionOf(dialect: Dialect): ConfigSession {
  const section = dialect.configSession;
  if (!section) {
    throw new ConfigChangeError(
      `this host speaks the ${dialect.name} dialect, which has no configuration sessions (no config_session section): use execute_command, or a dialect that declares config_session`,
    );
  }
  return section;
}

/** Check a request before anything is sent: what to fix is said here, not by the device. */
export function checkConfigureRequest(request: ConfigureRequest, section: ConfigSession): void {
  if (request.lines.length === 0)
    throw new ConfigChangeError('lines is empty: give at least one configuration line');
  request.lines.forEach((line, i) => {
    if (CONTROL.test(line)) {
      throw new ConfigChangeError(
        `lines[${i}] holds a line break or control character: give one configuration line per list entry`,
      );
    }
    if (line.trim() === '') throw new ConfigChangeError(`lines[${i}] is empty: leave it out`);
    if (section.forbidden.some((p) => p.test(line))) {
      throw new ConfigChangeError(
        `lines[${i}] ("${line.slice(0, 80)}") would commit, discard or leave the configuration session behind the diff: leave it out (configure commits, dry_run and discard_changes discard)`,
      );
    }
  });
  if (request.comment !== undefined && CONTROL.test(request.comment)) {
    throw new ConfigChangeError('comment holds a line break or control character: give it on one line');
  }
  const minutes = request.confirmMinutes;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440)) {
    throw new ConfigChangeError('confirm_minutes must be a whole number of minutes from 1 to 1440');
  }
  if (request.dryRun && minutes !== undefined) {
    throw new ConfigChangeError('dry_run discards the change: leave confirm_minutes out, or dry_run');
  }
  if (minutes !== undefined && !section.commitConfirmed) {
    throw new ConfigChangeError('this platform has no commit confirmed: leave confirm_minutes out');
  }
  if (request.dryRun && !section.candidate) {
    throw new ConfigChangeError(
      'this platform applies each line as it is typed (no candidate configuration), so dry_run cannot show a diff without changing the device; leave dry_run out (the change is made under a checkpoint and can be rolled back)',
    );
  }
}

/** A name the dialect pastes into a command: refused unless it is one plain word. */
export function checkName(value: string, what: string): string {
  if (!NAME.test(value)) {
    throw new ConfigChangeError(
      `${what} must be one word of letters, digits and . _ : / @ + - (at most 128 characters)`,
    );
  }
  return value;
}

/** Masks the `secret` group of the dialect's secret patterns in every line of `text`. */
export function maskConfigSecrets(text: string, section: ConfigSession): string {
  if (section.secrets.length === 0 || text === '') return text;
  return text
    .split('\n')
    .map((line) => {
      let out = line;
      for (const pattern of section.secrets) {
        const m = pattern.exec(out);
        const secret = m?.groups?.secret;
        if (!m || secret === undefined || secret === '') continue;
        const at = m.index + m[0].lastIndexOf(secret);
        out = `${out.slice(0, at)}***${out.slice(at + secret.length)}`;
      }
      return out;
    })
    .join('\n');
}

/** HH:MM:SS for a number of minutes. */
function hms(minutes: number): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(minutes / 60))}:${two(minutes % 60)}:00`;
}

class StepFailed extends ConfigChangeError {}

/** Drives one session's runner through a dialect's config_session. One instance per operation. */
export class ConfigChange {
  private readonly section: ConfigSession;
  private readonly vars: Record<string, string>;
  private readonly notes: string[] = [];

  constructor(
    private readonly runner: ExpectRunner,
    private readonly options: ConfigChangeOptions,
  ) {
    this.section = configSessionOf(runner.dialect);
    this.vars = {
      ...runner.dialect.defaults,
      ...runner.vars,
      session: checkName(options.sessionName, 'the session name'),
    };
  }

  /** Load, show, and commit or discard one change. */
  async configure(request: ConfigureRequest): Promise<ConfigResult> {
    const s = this.section;
    checkConfigureRequest(request, s);
    const v = this.vars;
    if (request.comment !== undefined && request.comment !== '') v.comment = request.comment;
    if (request.confirmMinutes !== undefined) {
      v.minutes = String(request.confirmMinutes);
      v.seconds = String(request.confirmMinutes * 60);
      v.hms = hms(request.confirmMinutes);
    }
    await this.toBase();
    const blocked = await this.missingRequirement();
    const lineByLine = blocked !== undefined;
    if (blocked !== undefined && !(request.lineByLine && s.lineByLine)) {
      throw new ConfigChangeError(
        `${blocked}${s.lineByLine ? '. Or, only if the user asks for it, pass line_by_line: true to apply the lines one by one with no diff and no undo' : ''}`,
      );
    }
    // A new commit would confirm a pending one by the way (or be refused): settle that first.
    const before = await this.state(false);
    if (before.pendingConfirm) {
      throw new ConfigChangeError(
        `a commit confirmed is waiting for confirmation on this device${describe(before.details)}: confirm_commit keeps it, rollback or waiting for its timer undoes it; then configure again`,
      );
    }
    const base: ConfigResult = {
      outcome: 'committed',
      diff: '',
      committed: [],
      ...(request.confirmMinutes !== undefined && !lineByLine && { confirmMinutes: request.confirmMinutes }),
      notes: this.notes,
    };
    if (lineByLine) return this.applyLineByLine(request, base);

    const noted = this.notes.length;
    await this.runSteps(s.checkpoint, 'checkpoint');
    // A refused (optional) checkpoint step saved nothing: name no checkpoint then.
    const checkpoint = this.notes.length === noted ? this.checkpoint() : this.vars.checkpoint;
    if (checkpoint) base.checkpoint = checkpoint;
    await this.runSteps(s.enter, 'enter');
    this.expectCandidate('entering the configuration session');
    const sessionName = s.enter.some((step) => step.send.names.has('session')) ? v.session : undefined;
    if (sessionName) base.sessionName = sessionName;

    const rejected = await this.loadLines(request);
    if (rejected === 'cancelled') {
      await this.abandon();
      return { ...base, outcome: 'cancelled', confirmMinutes: undefined };
    }
    if (rejected) {
      await this.abandon();
      return { ...base, outcome: 'rejected', rejected, confirmMinutes: undefined };
    }
    const diff = this.masked(await this.runSteps(s.diff, 'diff'));
    base.diff = diff;
    await this.runSteps(s.check, 'check');
    const shown = diff.trim();
    // A no_diff pattern must match the whole diff: a header alone means nothing changed, not a header on top.
    const unchanged =
      shown === '' ||
      s.noDiff.some((p) => {
        const m = p.exec(shown);
        return m !== null && m.index === 0 && m[0].length === shown.length;
      });
    if (request.dryRun || unchanged) {
      await this.abandon();
      return {
        ...base,
        outcome: request.dryRun ? 'dry_run' : 'no_change',
        confirmMinutes: undefined,
        ...(!s.candidate && { checkpoint }),
      };
    }
    if (request.approve) {
      const answer = await request.approve(diff);
      if (!answer.approved) {
        await this.abandon();
        if (answer.why) this.notes.push(answer.why);
        return { ...base, outcome: 'declined', confirmMinutes: undefined };
      }
    }
    const confirmed = request.confirmMinutes !== undefined;
    try {
      await this.runSteps(confirmed ? (s.commitConfirmed as ConfigStep[]) : s.commit, 'commit');
    } catch (error) {
      if (error instanceof ConfigConnectionLostError) {
        throw new ConfigConnectionLostError(
          `${error.message} during the commit${confirmed ? `: the device rolls the change back by itself after ${request.confirmMinutes} min unless confirm_commit confirms it; get_config_state shows whether it is pending` : '; get_config_state shows what the device holds now'}`,
        );
      }
      await this.abandon();
      throw error;
    }
    try {
      await this.toBase();
    } catch (error) {
      // Committed already: the result stands; the next operation starts a new shell.
      if (!(error instanceof ConfigConnectionLostError)) throw error;
      this.notes.push(`the connection dropped after the commit (${error.message})`);
    }
    const commitId = v.commit_id;
    return {
      ...base,
      outcome: confirmed ? 'pending_confirm' : 'committed',
      committed: this.maskedLines(request.lines),
      ...(commitId !== undefined && { commitId }),
    };
  }

  /** Confirm a commit confirmed. */
  async confirm(): Promise<OperationResult> {
    const steps = this.section.confirm;
    if (!steps) throw new ConfigChangeError('this platform has no commit confirmed, so nothing to confirm');
    await this.toBase();
    const state = await this.state(false);
    if (!state.pendingConfirm) {
      throw new ConfigChangeError('no commit is waiting for confirmation on this device: nothing to confirm');
    }
    // Confirm what is pending, by the names state found (a session with a commit timer, say).
    Object.assign(this.vars, state.details);
    const output = await this.runAll(steps, 'confirm');
    await this.toBase();
    return { output, values: state.details, notes: this.notes };
  }

  /** Drop an uncommitted candidate (what another session or an interrupted change left). */
  async discard(): Promise<OperationResult & { discarded: boolean }> {
    const s = this.section;
    if (!s.candidate) {
      throw new ConfigChangeError(
        'this platform applies each line as it is typed: nothing uncommitted is held to discard (rollback returns to a checkpoint)',
      );
    }
    await this.toBase();
    const state = await this.state(true);
    if (!state.pendingCandidate && s.pendingCandidate.length > 0) {
      return {
        output: '',
        values: state.details,
        notes: ['no uncommitted change is pending'],
        discarded: false,
      };
    }
    let output = await this.runAll(s.discardEnter ?? s.enter, 'enter');
    this.expectCandidate('entering the configuration session');
    output += await this.runAll(s.discard, 'discard');
    await this.toBase();
    return { output, values: state.details, notes: this.notes, discarded: true };
  }

  /** Undo the last commit, or return to a named checkpoint. */
  async rollback(name?: string): Promise<OperationResult & { checkpoint: string }> {
    const steps = this.section.rollback;
    if (!steps) throw new ConfigChangeError('this platform declares no rollback in its config_session');
    const target = name ?? this.options.lastCheckpoint ?? this.section.rollbackDefault;
    if (target === undefined) {
      throw new ConfigChangeError(
        'no checkpoint is known for this host (none was saved by a change on this session): give checkpoint, as a configure result named it',
      );
    }
    this.vars.name = checkName(target, 'checkpoint');
    await this.toBase();
    const state = await this.state(false);
    if (state.pendingConfirm && this.section.confirm) {
      this.notes.push('a commit confirmed was pending; the rollback commit replaces it');
    }
    let output: string;
    try {
      output = await this.runAll(steps, 'rollback');
    } catch (error) {
      if (!(error instanceof ConfigConnectionLostError)) await this.abandon();
      throw error;
    }
    await this.toBase();
    return { output, values: { ...state.details }, notes: this.notes, checkpoint: target };
  }

  /** Whether a candidate or a confirm timer is pending, and the candidate's diff. */
  async state(withDiff = true): Promise<ConfigState> {
    const s = this.section;
    await this.toBase();
    const details: Record<string, string> = {};
    const text = await this.runAll(s.state, 'state', details);
    const matchAll = (patterns: RegExp[], where: string) => {
      for (const p of patterns) {
        const m = p.exec(where);
        if (m) {
          for (const [k, value] of Object.entries(m.groups ?? {})) {
            if (value !== undefined) details[k] = value;
          }
          return true;
        }
      }
      return false;
    };
    const pendingConfirm = matchAll(s.pendingConfirm, text);
    let pendingCandidate = matchAll(s.pendingCandidate, text);
    let diff: string | undefined;
    // The diff steps may enter the candidate: only when asked for (get_config_state, discard).
    if (withDiff) {
      Object.assign(this.vars, details);
      const shown = await this.runSteps(s.stateDiff, 'state_diff');
      await this.toBase();
      if (s.stateDiff.length > 0) {
        pendingCandidate ||= matchAll(s.pendingCandidate, shown);
        if (pendingCandidate && shown.trim() !== '') diff = this.masked(shown);
      }
    }
    return { pendingConfirm, pendingCandidate, details, ...(diff !== undefined && { diff }) };
  }

  /** Lines applied as typed, for a platform that cannot hold a change, when the caller asked for it. */
  private async applyLineByLine(request: ConfigureRequest, base: ConfigResult): Promise<ConfigResult> {
    const steps = this.section.lineByLine as NonNullable<ConfigSession['lineByLine']>;
    this.notes.push('applied line by line: no candidate, no diff from the device, no undo');
    await this.runSteps(steps.enter, 'line_by_line.enter');
    this.expectCandidate('entering configuration mode');
    const rejected = await this.loadLines(request);
    const applied = rejected === 'cancelled' || rejected === undefined ? undefined : rejected.index - 1;
    if (rejected) {
      await this.toBase();
      const done = request.lines.slice(0, applied ?? 0);
      if (done.length > 0)
        this.notes.push(`${done.length} line(s) before it took effect and were not undone`);
      return {
        ...base,
        outcome: rejected === 'cancelled' ? 'cancelled' : 'rejected',
        committed: this.maskedLines(done),
        ...(rejected !== 'cancelled' && { rejected }),
      };
    }
    await this.runSteps(steps.commit, 'line_by_line.commit');
    await this.toBase();
    return { ...base, outcome: 'committed', committed: this.maskedLines(request.lines) };
  }

  /** The first requirement the device does not meet, as the dialect words it. */
  private async missingRequirement(): Promise<string | undefined> {
    for (const requirement of this.section.requires) {
      const command = requirement.send.render(this.vars);
      const text = await this.send(command, { optional: true, failure: [] });
      if (requirement.missing.some((p) => p.test(text))) return requirement.why;
    }
    return undefined;
  }

  /** Each line through the dialect's `load`; the first rejected one stops it. */
  private async loadLines(request: ConfigureRequest): Promise<RejectedLine | 'cancelled' | undefined> {
    const s = this.section;
    for (const [i, line] of request.lines.entries()) {
      if (request.signal?.aborted) return 'cancelled';
      const command = s.load.render({ ...this.vars, line });
      // A line that asks a question (confirm, yes/no) is not a configuration line: stop it there.
      let asked: string | undefined;
      const outcome = await this.runner.run(command, {
        ...this.runOptions(),
        onWaiting: (waiting) => {
          if (!waiting || asked !== undefined) return;
          asked = waiting.prompt;
          this.runner.interrupt();
        },
      });
      this.lost(outcome.shellLost, `loading line ${i + 1}`);
      const text = outcome.output.head + outcome.output.tail;
      const error =
        (asked !== undefined
          ? `the device asked "${asked.trim()}"; a configuration line must not ask`
          : undefined) ??
        outcome.error ??
        firstLine(text, s.rejected) ??
        (outcome.timedOut ? `no prompt within ${this.options.stepTimeoutMs} ms` : undefined) ??
        (this.runner.mode !== s.mode
          ? `the line left the configuration session (the prompt is now in ${this.runner.mode ?? 'an unknown'} mode)`
          : undefined);
      if (error !== undefined) return { index: i + 1, line: this.masked(line), error: this.masked(error) };
    }
    return undefined;
  }

  /** Drop what was loaded and go back to base mode; problems are noted, never thrown over the first. */
  private async abandon(): Promise<void> {
    try {
      if (!this.section.candidate) {
        // No candidate to drop: discard returns to the checkpoint, from base mode.
        await this.toBase();
        await this.runSteps(this.section.discard, 'discard');
      } else if (this.runner.mode === this.section.mode) {
        await this.runSteps(this.section.discard, 'discard');
      }
    } catch (error) {
      this.notes.push(`discarding the change failed: ${(error as Error).message}`);
    }
    try {
      await this.toBase();
    } catch (error) {
      this.notes.push(`returning to ${this.section.baseMode} mode failed: ${(error as Error).message}`);
    }
  }

  private async toBase(): Promise<void> {
    if (this.runner.isClosed) throw new ConfigConnectionLostError('the connection to the device was lost');
    if (this.runner.mode === this.section.baseMode) return;
    try {
      await this.runner.enterMode(this.section.baseMode, this.runOptions());
    } catch (error) {
      if (this.runner.isClosed) {
        throw new ConfigConnectionLostError(
          `the connection to the device was lost (${(error as Error).message})`,
        );
      }
      throw error;
    }
  }

  private expectCandidate(what: string): void {
    if (this.runner.mode !== this.section.mode) {
      throw new ConfigChangeError(
        `${what}: the device answered in ${this.runner.mode ?? 'an unknown'} mode, not ${this.section.mode} mode`,
      );
    }
  }

  private checkpoint(): string | undefined {
    return this.vars.checkpoint ?? this.section.checkpointName?.render(this.vars);
  }

  /** Run steps; the answer of the last one sent. */
  private async runSteps(steps: ConfigStep[], what: string): Promise<string> {
    let last = '';
    for (const step of steps) {
      const text = await this.runStep(step, what);
      if (text !== undefined) last = text;
    }
    return last;
  }

  /** Run steps; every answer, in order. */
  private async runAll(
    steps: ConfigStep[],
    what: string,
    captured?: Record<string, string>,
  ): Promise<string> {
    const out: string[] = [];
    for (const step of steps) {
      const text = await this.runStep(step, what, captured);
      if (text) out.push(text);
    }
    return this.masked(out.join('\n'));
  }

  private async runStep(
    step: ConfigStep,
    what: string,
    captured?: Record<string, string>,
  ): Promise<string | undefined> {
    const given = (name: string) => this.vars[name] !== undefined && this.vars[name] !== '';
    if (!step.when.every(given) || step.unless.some(given)) return undefined;
    let command: string;
    try {
      command = step.send.render(this.vars);
    } catch (error) {
      throw new ConfigChangeError(
        `the dialect's ${what} step "${step.send.source}": ${(error as Error).message}`,
      );
    }
    const text = await this.send(command, step);
    for (const pattern of step.capture) {
      for (const [name, value] of Object.entries(pattern.exec(text)?.groups ?? {})) {
        if (value === undefined) continue;
        this.vars[name] = value;
        if (captured) captured[name] = value;
      }
    }
    return text;
  }

  /** One dialect command; its answer, or StepFailed with the device's words. */
  private async send(command: string, step: Pick<ConfigStep, 'failure' | 'optional'>): Promise<string> {
    const outcome = await this.runner.run(command, this.runOptions());
    this.lost(outcome.shellLost, `at "${command}"`);
    const text = (outcome.output.head + outcome.output.tail).replace(/\s+$/, '');
    const error =
      outcome.error ??
      firstLine(text, step.failure) ??
      (outcome.timedOut ? `no prompt within ${this.options.stepTimeoutMs} ms` : undefined);
    if (error !== undefined) {
      if (step.optional) {
        this.notes.push(`"${command}" was refused: ${this.masked(error)}`);
        return text;
      }
      throw new StepFailed(`"${command}" failed: ${this.masked(error)}`);
    }
    return text;
  }

  private lost(shellLost: boolean, where: string): void {
    if (shellLost || this.runner.isClosed) {
      throw new ConfigConnectionLostError(`the connection to the device was lost ${where}`);
    }
  }

  private runOptions(): RunOptions {
    return {
      ...this.options.run,
      timeoutMs: this.options.stepTimeoutMs,
      maxOutputBytes: STEP_OUTPUT_BYTES,
    };
  }

  private masked(text: string): string {
    return maskConfigSecrets(text, this.section);
  }

  private maskedLines(lines: string[]): string[] {
    return lines.map((line) => this.masked(line));
  }
}

/** The first line any pattern matches, trimmed. */
function firstLine(text: string, patterns: RegExp[]): string | undefined {
  if (patterns.length === 0) return undefined;
  for (const line of text.split('\n')) {
    if (patterns.some((p) => p.test(line))) return line.trim();
  }
  return undefined;
}

function describe(details: Record<string, string>): string {
  const parts = Object.entries(details).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
