import { jsonEncodedBytes, shapeOutput } from '../expect/output.js';
import type { OutputPage, OutputStore } from '../expect/output-store.js';
import {
  compileGrep,
  grepLines,
  linesOf,
  type OutputView,
  sliceLines,
  tailLines,
} from '../expect/output-view.js';
import type { CommandRecord } from '../session/command.js';
import { clip } from './result-budget.js';

/**
 * How the command tools show a command: its summary, status line and output. Nothing here masks secrets:
 * every tool result is masked as a whole on its way out (tool-result.ts).
 */

/** What every tool says about a command. */
export function summary(record: CommandRecord) {
  return {
    commandId: record.id,
    session: record.session,
    command: record.command,
    status: record.status,
    exitCode: record.outcome?.exitCode ?? null,
    startedAt: record.startedAt.toISOString(),
    ...(record.finishedAt && { finishedAt: record.finishedAt.toISOString() }),
    durationMs: Math.round(record.durationMs),
    totalBytes: record.output.totalBytes,
    ...(failureOf(record) !== undefined && { error: failureOf(record) as string }),
  };
}

/** The device's error line, or why a failed command failed. */
export function failureOf(record: CommandRecord): string | undefined {
  return record.outcome?.error ?? record.cause;
}

/** One line about a command; `commandChars` clips a long command line (lists). */
export function summaryLine(record: CommandRecord, commandChars = Number.POSITIVE_INFINITY): string {
  const s = summary(record);
  const exit = s.exitCode === null ? '' : `, exit ${s.exitCode}`;
  return `${s.commandId} on ${s.session}: ${s.status}${exit}, ${s.totalBytes} bytes, ${s.durationMs} ms: ${clip(s.command, commandChars)}`;
}

/**
 * The output of a command for execute_command: all of it when it fits `budget` (JSON-encoded), else head
 * and tail; while it runs, what it printed so far from the start, with where to read on. A finished output
 * that comes back whole counts as read (`read` is told), so it may leave memory.
 */
export async function outputOf(
  record: CommandRecord,
  budget: number,
  read?: (record: CommandRecord) => void,
) {
  if (record.outputGone !== undefined) {
    return {
      output: '',
      truncated: record.output.totalBytes > 0,
      omittedBytes: record.output.totalBytes,
      note: record.outputGone,
    };
  }
  if (record.finished) {
    const shaped = shapeOutput(await record.output.capture(), budget);
    if (!shaped.truncated) read?.(record);
    return {
      output: shaped.output,
      truncated: shaped.truncated,
      omittedBytes: shaped.omittedBytes,
      ...(shaped.truncated && { note: 'get_command_status with an offset reads the output page by page' }),
    };
  }
  const page = await readFitting(record.output, 0, budget, budget);
  return {
    output: page.output,
    truncated: !page.complete,
    omittedBytes: page.totalBytes - page.nextOffset,
    nextOffset: page.nextOffset,
  };
}

/**
 * A page of a command's output by byte offset, for get_command_status, send_input and send_keys: complete
 * once the command has ended too; `note` says why the output is gone, when it is.
 */
export async function outputPage(
  record: CommandRecord,
  offset: number,
  maxBytes: number,
  budget = maxBytes,
): Promise<OutputPage & { note?: string }> {
  if (record.outputGone !== undefined) {
    // How it ended is still known; only the output is gone, and the page says why.
    const total = record.output.totalBytes;
    return {
      output: '',
      offset: total,
      nextOffset: total,
      totalBytes: total,
      complete: true,
      note: record.outputGone,
    };
  }
  const p = await readFitting(record.output, offset, maxBytes, budget);
  return {
    output: p.output,
    offset: p.offset,
    nextOffset: p.nextOffset,
    totalBytes: p.totalBytes,
    ...(p.gap && { gap: p.gap }),
    complete: p.complete && record.finished,
  };
}

/**
 * A page of at most `maxBytes` bytes from `offset` that takes at most `budget` bytes JSON-encoded (control
 * characters take up to six bytes each there): a page that does not fit is read again, shorter.
 */
export async function readFitting(
  store: OutputStore,
  offset: number,
  maxBytes: number,
  budget: number,
): Promise<OutputPage> {
  let want = Math.max(4, Math.min(maxBytes, budget));
  let page = await store.read(offset, want);
  for (let attempt = 0; attempt < 8; attempt++) {
    const size = jsonEncodedBytes(page.output);
    if (size <= budget || want === 4) return page;
    want = Math.max(4, Math.floor((want * budget) / size / 1.05));
    page = await store.read(offset, want);
  }
  return page;
}

/** get_command_status's ways to read by line, besides a page by byte offset. */
export interface LineRequest {
  offset?: number;
  from_line?: number;
  lines?: number;
  tail?: number;
  grep?: string;
  context?: number;
  max_matches?: number;
}

/** grep shows at most this many matching lines unless asked otherwise. */
export const DEFAULT_MAX_MATCHES = 100;

/**
 * The line view a call asks for, or undefined for a page by byte offset; an Error names parameters that
 * do not go together.
 */
export function lineViewOf(request: LineRequest): 'slice' | 'tail' | 'grep' | undefined {
  const views = (['from_line', 'tail', 'grep'] as const).filter((k) => request[k] !== undefined);
  if (views.length > 1) {
    throw new Error(`give one of from_line, tail and grep, not ${views.join(' and ')}`);
  }
  const view = views[0];
  const stray = (names: (keyof LineRequest)[], needs: string) => {
    const given = names.filter((k) => request[k] !== undefined);
    if (given.length > 0)
      throw new Error(`${given.join(' and ')} go${given.length > 1 ? '' : 'es'} with ${needs}`);
  };
  if (view !== 'from_line') stray(['lines'], 'from_line');
  if (view !== 'grep') stray(['context', 'max_matches'], 'grep');
  if ((view === 'from_line' || view === 'tail') && request.offset !== undefined) {
    throw new Error(
      `offset reads by byte (or says where grep starts); ${view} finds its own place: leave offset out`,
    );
  }
  return view === 'from_line' ? 'slice' : view;
}

/** A line view of a command's output within `budget` (bytes of output, JSON-encoded). */
export async function lineView(
  record: CommandRecord,
  view: 'slice' | 'tail' | 'grep',
  request: LineRequest,
  budget: number,
): Promise<OutputView> {
  if (record.outputGone !== undefined) {
    const total = record.output.totalBytes;
    const lines = linesOf(record.output.lineCount);
    return {
      output: '',
      offset: total,
      nextOffset: total,
      totalBytes: total,
      totalLines: lines,
      notes: [record.outputGone],
    };
  }
  const limits = { budget };
  if (view === 'slice') return sliceLines(record.output, request.from_line ?? 1, request.lines, limits);
  if (view === 'tail') return tailLines(record.output, request.tail ?? 10, limits);
  // Compiled first: a pattern RE2 does not take is an error, not an empty result.
  const pattern = compileGrep(request.grep ?? '');
  return grepLines(
    record.output,
    pattern,
    {
      offset: request.offset ?? 0,
      context: request.context ?? 0,
      maxMatches: request.max_matches ?? DEFAULT_MAX_MATCHES,
    },
    limits,
  );
}

export function statusText(record: CommandRecord): string {
  const status = record.status;
  const waiting = record.live.waiting;
  if (status === 'awaiting_input' && waiting) {
    return `waits for input (${waiting.kind}): "${waiting.prompt}"; answer with send_input(command_id="${record.id}")`;
  }
  if (status === 'running') {
    return `still running in the background as ${record.id}; get_command_status reads on, interrupt_command_by_id stops it`;
  }
  if (status === 'failed') return `failed: ${record.cause}`;
  if (status === 'interrupted' && record.cause) {
    return `interrupted: ${record.cause}; exit status ${record.outcome?.exitCode ?? 'none'}`;
  }
  return `${status}; exit status ${record.outcome?.exitCode ?? 'none'}`;
}

/** A command that was interrupted and has ended (or not, within the wait): its final status and output. */
export async function interruptedResult(
  record: CommandRecord,
  budget: number,
  read?: (record: CommandRecord) => void,
) {
  const shaped = await outputOf(record, budget, read);
  const structured = {
    commandId: record.id,
    command: record.command,
    status: record.status,
    exitCode: record.outcome?.exitCode ?? null,
    output: shaped.output,
  };
  const body = shaped.output.endsWith('\n') || !shaped.output ? shaped.output : `${shaped.output}\n`;
  return { structured, text: `${body}[${record.id} ${statusText(record)}]` };
}
