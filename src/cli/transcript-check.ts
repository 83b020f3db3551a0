import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createManager } from '../server/server.js';
import type { CommandRecord } from '../session/command.js';
import { parseTranscript, SECRET_PLACEHOLDER, type TranscriptResult } from '../transcript/format.js';
import { parseReplaySource } from '../transcript/load.js';
import { describeMiss, type ReplayMiss, startReplay } from '../transcript/replay.js';
import { parseCollector } from '../transcript/scrapli-collector.js';
import { parseYamlSource } from '../util/yaml-source.js';

/** One recorded command run again through a dialect, and how its result compares with the recording. */
export interface CommandCheck {
  command: string;
  problems: string[];
  mode?: string;
}

export interface TranscriptCheck {
  file: string;
  /** The dialect that drove the session (the one given, or the one detected). */
  dialect?: string;
  /** Why the session could not be opened (or detection failed), if it could not. */
  openError?: string;
  commands: CommandCheck[];
  /** What the dialect sent that the recording never saw. */
  misses: ReplayMiss[];
}

export interface CheckOptions {
  /** A dialect name or a dialect file's path; undefined: detected, as the server would. */
  dialect?: string;
  /** How fast the recording plays (0: no pauses). */
  speed?: number;
  /** Seconds one command may take before it counts as hanging. */
  timeoutS?: number;
}

const DEFAULT_TIMEOUT_S = 15;
/** Any enable or sudo secret: the replay accepts whatever is typed where the recording has a placeholder. */
const REPLAY_SECRET = 'replayed-secret';

/**
 * Replay a transcript to a dialect, as the server would drive a real device: open a session (detecting the
 * dialect when none is given), run each recorded command, and compare mode, error and output with the
 * recorded result. Nothing leaves 127.0.0.1; ~/.ssh is not read or written.
 */
export async function checkTranscript(file: string, options: CheckOptions = {}): Promise<TranscriptCheck> {
  const text = await readFile(file, 'utf8');
  const model = parseReplaySource(text, file);
  const recorded = /^(?:\s*#.*\n|\s*\n)*transcript\s*:/.test(text)
    ? recordedCommands(text, file)
    : collectorCommands(text, file);
  const replay = await startReplay(model, { speed: options.speed ?? 0 });
  const home = mkdtempSync(path.join(tmpdir(), 'mcp-ssh-dialect-test-'));
  let dialect = options.dialect;
  const dialectDirs: string[] = [];
  if (dialect && /[/\\]|\.ya?ml$/.test(dialect)) {
    dialectDirs.push(path.dirname(path.resolve(dialect)));
    dialect = path.basename(dialect).replace(/\.ya?ml$/, '');
  }
  const { manager } = createManager({
    dialectDirs,
    sshPaths: { home, sshConfig: path.join(home, 'config'), knownHosts: path.join(home, 'known_hosts') },
  });
  const check: TranscriptCheck = { file, commands: [], misses: [] };
  const target = { host: replay.host, port: replay.port, username: 'replay', password: 'replay' };
  const timeoutMs = (options.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000;
  try {
    for (const { command, enter, answers, expected, within } of recorded) {
      let record: CommandRecord;
      try {
        record = await manager.execute(target, command, {
          timeoutMs,
          ...(dialect && { dialect }),
          ...(enter !== undefined && { privileged: true, secrets: { enable: REPLAY_SECRET } }),
        });
      } catch (error) {
        // Before the first command ran, nothing else can: the session did not open.
        if (check.commands.length === 0) {
          check.openError = (error as Error).message;
          break;
        }
        check.commands.push({ command, problems: [`could not run: ${(error as Error).message}`] });
        continue;
      }
      check.dialect ??= record.dialect;
      // A question the recording answered is answered the same way.
      for (const answer of answers) {
        if (record.finished || !record.live.waiting) break;
        manager.write(record.id, answer);
        await record.settle(timeoutMs);
      }
      if (!record.finished) {
        manager.interrupt(record.id);
        await record.done;
      }
      check.commands.push(await compare({ command, expected, within, answers, sent: true }, record));
    }
    if (recorded.length === 0) check.openError = 'the file records no commands (command/result events)';
  } finally {
    manager.closeAll();
    await manager.dispose();
    check.misses = replay.misses();
    await replay.close();
    rmSync(home, { recursive: true, force: true });
  }
  return check;
}

interface RecordedCommand {
  command: string;
  /** A collector file records answers, not results: the output must be found in the recorded answer. */
  within?: boolean;
  enter?: string;
  /** What was typed while it ran, after the command itself: answers to its questions (pager keys aside). */
  answers: string[];
  /** The command's own line was seen among the inputs (those before it entered a mode). */
  sent: boolean;
  expected?: TranscriptResult;
}

function recordedCommands(text: string, file: string): RecordedCommand[] {
  const commands: RecordedCommand[] = [];
  for (const event of parseTranscript(text, file).events) {
    const last = commands.at(-1);
    if ('command' in event) {
      commands.push({
        command: event.command,
        answers: [],
        sent: false,
        ...(event.enter && { enter: event.enter }),
      });
    } else if ('result' in event && last) {
      last.expected = event.result;
    } else if ('in' in event && last && last.expected === undefined) {
      if (!last.sent) last.sent = event.in.replace(/\r?\n$/, '') === last.command;
      else if (event.in !== ' ') last.answers.push(event.in.replace(SECRET_PLACEHOLDER, REPLAY_SECRET));
    }
  }
  return commands;
}

/**
 * The commands of a collector file: what the device answered at its first prompt after the session was
 * set up, each answer without its closing prompt line.
 */
function collectorCommands(text: string, file: string): RecordedCommand[] {
  const data = parseCollector(parseYamlSource(text, file));
  const answers = data.events[data.initial_privilege_level]?.post_on_open ?? {};
  return Object.entries(answers).flatMap(([input, event]) => {
    if (event.type !== 'standard' || !event.returns_prompt || event.closes_connection) return [];
    if (event.result_privilege_level !== data.initial_privilege_level) return [];
    const output = event.channel_output.split('\n').slice(0, -1).join('\n');
    return [{ command: input, within: true, answers: [], sent: true, expected: { output } }];
  });
}

/** Lines compared without CRs, trailing spaces, and blank lines at either end. */
function normalized(text: string): string[] {
  const lines = text
    .replace(/\r/g, '')
    .split('\n')
    .map((line) => line.trimEnd());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

async function compare(
  { command, expected, within }: RecordedCommand,
  record: CommandRecord,
): Promise<CommandCheck> {
  const outcome = record.outcome;
  const problems: string[] = [];
  const actualMode = outcome?.mode;
  const check: CommandCheck = { command, problems, ...(actualMode && { mode: actualMode }) };
  if (!expected) return check;
  const why = record.error ?? outcome?.note;
  if (expected.status === 'closed') {
    if (!outcome?.shellLost) problems.push(`the device should have closed the session; it ${record.status}`);
    return check;
  }
  if (record.status !== 'completed') {
    problems.push(`${record.status}${why ? `: ${why}` : ''}`);
    return check;
  }
  if (expected.mode !== undefined && actualMode !== expected.mode) {
    problems.push(`mode: expected ${expected.mode}, got ${actualMode ?? 'none'}`);
  }
  const error = outcome?.error;
  if (expected.error !== undefined && !error?.includes(expected.error.trim())) {
    problems.push(`error: expected "${expected.error.trim()}", got ${error ? `"${error}"` : 'none'}`);
  } else if (expected.error === undefined && error !== undefined) {
    problems.push(`error: expected none, got "${error}"`);
  }
  if (expected.output !== undefined) {
    const want = normalized(expected.output);
    const captured = await record.output.capture();
    const got = normalized(captured.head + captured.tail);
    if (within) {
      const missing = got.find((line) => !want.includes(line));
      if (missing !== undefined)
        problems.push(`output line ${JSON.stringify(missing)} is not in the recorded answer`);
      return check;
    }
    const at = firstDifference(want, got);
    if (at !== undefined) {
      problems.push(
        `output line ${at + 1}: expected ${JSON.stringify(want[at] ?? '(end of output)')}, got ${JSON.stringify(got[at] ?? '(end of output)')}`,
      );
    }
  }
  return check;
}

function firstDifference(a: string[], b: string[]): number | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return undefined;
}

/** A report for a person: one line per command, then what the dialect sent that was never recorded. */
export function formatCheck(check: TranscriptCheck): string {
  const lines = [`${check.file}${check.dialect ? ` with ${check.dialect}` : ''}:`];
  if (check.openError) lines.push(`  FAIL  the session did not open: ${check.openError}`);
  for (const c of check.commands) {
    if (c.problems.length === 0) lines.push(`  ok    ${c.command}${c.mode ? ` (${c.mode})` : ''}`);
    else lines.push(`  FAIL  ${c.command}: ${c.problems.join('; ')}`);
  }
  const passed = check.commands.filter((c) => c.problems.length === 0).length;
  lines.push(`  ${passed} of ${check.commands.length} commands as recorded`);
  const unseen = check.misses.filter((m) => m.answer !== 'prompt');
  if (unseen.length > 0) {
    lines.push(`  the dialect sent ${unseen.length} input(s) the recording never saw:`);
    for (const miss of unseen.slice(0, 10)) lines.push(`    ${describeMiss(miss)}`);
  }
  return lines.join('\n');
}

export function checkPassed(check: TranscriptCheck): boolean {
  return check.openError === undefined && check.commands.every((c) => c.problems.length === 0);
}
