import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { shapeOutput } from '../expect/output.js';
import type { CommandRecord } from '../session/command.js';
import { log } from '../util/log.js';
import { redact } from '../util/secrets.js';

export function ok(structured: Record<string, unknown>, text: string): CallToolResult {
  return { content: [{ type: 'text', text: redact(text) }], structuredContent: structured };
}

export function failure(error: unknown): CallToolResult {
  const err = error as Error & { hint?: string };
  const message = err.hint ? `${err.message}\n${err.hint}` : err.message;
  log.info(`tool error: ${message}`);
  return { content: [{ type: 'text', text: redact(message) }], isError: true };
}

/** What every tool says about a command, masked. */
export function summary(record: CommandRecord) {
  return {
    commandId: record.id,
    session: record.session,
    command: redact(record.command),
    status: record.status,
    exitCode: record.outcome?.exitCode ?? null,
    startedAt: record.startedAt.toISOString(),
    ...(record.finishedAt && { finishedAt: record.finishedAt.toISOString() }),
    durationMs: record.durationMs,
    totalBytes: record.output.totalBytes,
  };
}

export function summaryLine(record: CommandRecord): string {
  const s = summary(record);
  const exit = s.exitCode === null ? '' : `, exit ${s.exitCode}`;
  return `${s.commandId} on ${s.session}: ${s.status}${exit}, ${s.totalBytes} bytes, ${Math.round(s.durationMs)} ms: ${s.command}`;
}

/**
 * The output of a command for execute_command: all of it when it fits `budget` (JSON-encoded), else head
 * and tail; while it runs, what it printed so far from the start, with where to read on.
 */
export async function outputOf(record: CommandRecord, budget: number) {
  if (record.finished) {
    const shaped = shapeOutput(record.output.finish(), budget);
    return {
      output: redact(shaped.output),
      truncated: shaped.truncated,
      omittedBytes: shaped.omittedBytes,
      ...(shaped.truncated && { note: 'get_command_status with an offset reads the output page by page' }),
    };
  }
  const page = await record.output.read(0, budget);
  return {
    output: redact(page.output),
    truncated: !page.complete,
    omittedBytes: page.totalBytes - page.nextOffset,
    nextOffset: page.nextOffset,
  };
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
  if (status === 'failed') return `failed: ${record.error ?? record.outcome?.note ?? 'its shell was lost'}`;
  return `${status}; exit status ${record.outcome?.exitCode ?? 'none'}`;
}
