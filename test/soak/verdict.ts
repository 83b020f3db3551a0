// Puts every result in exactly one class: completed with its whole output, failed with a cause, interrupted
// by this suite, or running with an id (then followed to its end); anything else is a problem.
import { BACKGROUND_FINAL_MS, CALL_GRACE_MS } from './config.js';
import { type Call, type SoakServer, textOf } from './server.js';
import type { Tally } from './tally.js';
import { sessionId, sleep, type Target, tokensIn } from './target.js';

export interface Judge {
  server: SoakServer;
  tally: Tally;
}

/** What a command should produce, and when it was asked for. */
export interface Expectation {
  target: Target;
  command: string;
  /** Its whole output when it completes. */
  output: string;
  /** When the call that started it was sent (for "was closed" and the background bound). */
  sentAt: number;
}

/** The execute_command fields this suite looks at. */
export interface ExecuteResult {
  commandId: string;
  status: string;
  exitCode: number | null;
  output: string;
  /** Present (true) only when part of the output was left out; likewise omittedBytes only when > 0. */
  truncated?: boolean;
  omittedBytes?: number;
  durationMs: number;
  sessionReset?: boolean;
  error?: string;
  note?: string;
}

export interface StatusResult {
  /** The text block, which may say more than the structured fields. */
  text: string;
  status: string;
  exitCode: number | null;
  output: string;
  nextOffset: number;
  totalBytes: number;
  complete: boolean;
  gap?: { from: number; to: number };
  error?: string;
}

interface Final {
  commandId: string;
  status: string;
  exitCode: number | null;
  output: string;
  cause?: string;
  /** When the final state was seen. */
  at: number;
  /** The answer's text block, shown when the structured fields lack a cause. */
  text?: string;
}

export type Started =
  | { running: false; result?: ExecuteResult }
  | { running: true; commandId: string; result: ExecuteResult };

/** Judge an execute_command answer, following a running command to its end. */
export async function judgeExecute(j: Judge, exp: Expectation, call: Call): Promise<Started> {
  const started = await judgeStart(j, exp, call);
  if (started.running) await follow(j, exp, started.commandId);
  return started;
}

/** Judge an execute_command answer except a running one, which the caller follows (or interrupts first). */
export async function judgeStart(j: Judge, exp: Expectation, call: Call): Promise<Started> {
  if (!answered(j, exp, call)) return { running: false };
  const r = call.result;
  if (r.isError) {
    judgeError(j, exp, textOf(r));
    return { running: false };
  }
  const s = r.structuredContent as unknown as ExecuteResult;
  if (s.status === 'running') {
    if (!s.commandId) {
      j.tally.problem('unexplained', `running without a commandId: ${exp.command}`);
      return { running: false, result: s };
    }
    j.tally.ok('running');
    return { running: true, commandId: s.commandId, result: s };
  }
  let output = s.output;
  if (s.status === 'completed' && (s.truncated || (s.omittedBytes ?? 0) > 0)) {
    const whole = await readAll(j, exp, s.commandId);
    if (whole === undefined) return { running: false, result: s };
    output = whole;
  }
  judgeFinal(j, exp, {
    commandId: s.commandId,
    status: s.status,
    exitCode: s.exitCode,
    output,
    cause: s.error || s.note,
    at: Date.now(),
    text: textOf(r),
  });
  return { running: false, result: s };
}

/** False (and counted) when the call itself gave no answer. */
export function answered(
  j: Judge,
  exp: Pick<Expectation, 'command'>,
  call: Call,
): call is Extract<Call, { ok: true }> {
  if (call.ok) return true;
  if (call.timedOut)
    j.tally.problem('lost', `no answer within ${call.ms} ms: ${exp.command}`, 'no answer in time');
  else j.tally.problem('unexplained', `call failed (${call.error}): ${exp.command}`, 'call failed');
  return false;
}

/** A tool error: fine when it names its cause. */
export function judgeError(j: Judge, exp: Expectation, text: string): void {
  if (!text.trim()) j.tally.problem('unexplained', `error without a message: ${exp.command}`, 'empty error');
  else if (/was closed/i.test(text))
    j.tally.closedSeen(sessionId(exp.target), exp.sentAt, Date.now(), `${text} (${exp.command})`);
  else j.tally.failedWithCause(text);
}

/**
 * Poll get_command_status until the command has ended and all its output was read (page by page, from
 * byte 0), then judge it. It must end within BACKGROUND_FINAL_MS from when it was started; once it has,
 * its pages are read on as long as they come (under load, each page waits its turn).
 */
export async function follow(
  j: Judge,
  exp: Expectation,
  commandId: string,
  o: { maxBytes?: number; pollMs?: [number, number] } = {},
): Promise<void> {
  const [pollMin, pollMax] = o.pollMs ?? [150, 600];
  const deadline = exp.sentAt + BACKGROUND_FINAL_MS;
  let offset = 0;
  let output = '';
  let last = 'no answer yet';
  let pages = 0;
  // The bound is on reaching a final state; a finished output is read on while each page brings more.
  for (let final = false; (final || Date.now() < deadline) && pages < MAX_PAGES; pages++) {
    const s = await readStatus(j, exp, commandId, offset, o.maxBytes);
    if (!s) return;
    last = `${s.status}, read ${s.nextOffset} of ${s.totalBytes} bytes`;
    output += s.output;
    offset = s.nextOffset;
    final = s.status !== 'running' && s.status !== 'awaiting_input';
    if (s.status === 'awaiting_input') {
      j.tally.problem('unexplained', `${commandId} awaits input: ${exp.command}`, 'awaits input');
      return;
    }
    if (final && s.complete) {
      const at = Date.now();
      const f = {
        commandId,
        status: s.status,
        exitCode: s.exitCode,
        output,
        cause: s.error,
        at,
        text: s.text,
      };
      return judgeFinal(j, exp, f);
    }
    // A full page means more is there now; otherwise wait for the command, as an agent polling would.
    if (offset >= s.totalBytes) {
      if (final) break; // finished, everything read, yet not complete: judged below
      await sleep(pollMin + Math.random() * (pollMax - pollMin));
    }
  }
  j.tally.problem(
    'lost',
    `${commandId} did not end within ${BACKGROUND_FINAL_MS} ms or its output within ${MAX_PAGES} pages (last seen ${last}, ${pages} pages): ${exp.command}`,
    'never ended',
  );
}

/** Pages one follow() reads at most: 20,000 lines in 512-byte pages stay far below it. */
const MAX_PAGES = 5_000;

/** All of a finished command's output, page by page; undefined (and counted) when it cannot be read. */
async function readAll(j: Judge, exp: Expectation, commandId: string): Promise<string | undefined> {
  let output = '';
  for (let offset = 0, pages = 0; pages < 1000; pages++) {
    const s = await readStatus(j, exp, commandId, offset);
    if (!s) return undefined;
    output += s.output;
    offset = s.nextOffset;
    if (s.complete) return output;
  }
  j.tally.problem('lost', `${commandId}: output never complete after 1000 pages: ${exp.command}`);
  return undefined;
}

/** One get_command_status page; undefined (and counted) when it is not there. */
export async function readStatus(
  j: Judge,
  exp: Expectation,
  commandId: string,
  offset: number,
  maxBytes?: number,
): Promise<StatusResult | undefined> {
  j.tally.called('get_command_status');
  const args = { command_id: commandId, offset, ...(maxBytes !== undefined && { max_bytes: maxBytes }) };
  const call = await j.server.call('get_command_status', args, CALL_GRACE_MS);
  if (!answered(j, { command: `get_command_status ${commandId}` }, call)) return undefined;
  const r = call.result;
  if (r.isError) {
    const text = textOf(r);
    const [kind, what] = /no longer kept/i.test(text)
      ? (['lost', 'output evicted before it was read'] as const)
      : /no command/i.test(text)
        ? (['lost', 'command forgotten'] as const)
        : (['unexplained', 'get_command_status error'] as const);
    j.tally.problem(kind, `${commandId} not retrievable (${text}): ${exp.command}`, what);
    return undefined;
  }
  const s = { ...(r.structuredContent as unknown as StatusResult), text: textOf(r) };
  if (s.gap) {
    j.tally.problem('lost', `${commandId}: bytes ${s.gap.from}-${s.gap.to} not kept: ${exp.command}`, 'gap');
    return undefined;
  }
  return s;
}

/** A command that ended: completed with exactly its output, failed with a cause, or interrupted by us. */
export function judgeFinal(j: Judge, exp: Expectation, f: Final): void {
  const what = `${f.commandId} ${f.status} exit ${f.exitCode} (${exp.command})`;
  const foreign = tokensIn(f.output).filter((t) => !tokensIn(exp.command).includes(t));
  if (foreign.length > 0) {
    j.tally.problem(
      'misattributed',
      `${what} printed ${foreign.slice(0, 3).join(', ')}: ${clip(f.output)}`,
      "another command's token",
    );
    return;
  }
  if (f.status === 'interrupted' && f.cause && /was closed/i.test(f.cause)) {
    j.tally.closedSeen(sessionId(exp.target), exp.sentAt, f.at, `${f.cause} (${what})`);
    return;
  }
  if (f.status === 'interrupted' || (f.status === 'completed' && f.exitCode === 130)) {
    j.tally.interrupted(f.commandId, `${what}: ${clip(f.output)}`);
    return;
  }
  if (f.status === 'failed') {
    if (!f.cause)
      j.tally.problem(
        'unexplained',
        `${what} failed without a cause; text: ${clip(f.text ?? '')}`,
        'failed, no cause in the result',
      );
    else if (/was closed/i.test(f.cause))
      j.tally.closedSeen(sessionId(exp.target), exp.sentAt, f.at, `${f.cause} (${what})`);
    else j.tally.failedWithCause(f.cause);
    return;
  }
  if (f.status !== 'completed') {
    j.tally.problem('unexplained', `${what}: status ${f.status}`, 'unknown status');
    return;
  }
  if (/return: can only/.test(f.output)) {
    j.tally.problem(
      'stray',
      `${what} shows the interrupt trap firing: ${clip(f.output)}`,
      'trap error line in output',
    );
  } else if (f.exitCode !== 0) {
    j.tally.problem('unexplained', `${what}: ${clip(f.output)}`, 'unexpected exit status');
  } else if (f.output === exp.output) {
    j.tally.ok('completed');
  } else if (exp.output.startsWith(f.output)) {
    j.tally.problem(
      'lost',
      `${what}: ${f.output.length} of ${exp.output.length} bytes: ${clip(f.output)}`,
      'output cut short',
    );
  } else {
    j.tally.problem(
      'misattributed',
      `${what}: expected ${clip(exp.output)}, got ${clip(f.output)}`,
      'wrong output',
    );
  }
}

function clip(text: string): string {
  return JSON.stringify(text.length > 160 ? `${text.slice(0, 80)}...${text.slice(-60)}` : text);
}
