import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ServerLimits } from '../config/limits.js';
import { KEY_NAMES_SUMMARY, parseKeys } from '../expect/keys.js';
import type { CommandRecord } from '../session/command.js';
import type { SessionManager } from '../session/manager.js';
import type { Session } from '../session/session.js';
import { redact, redactLines, registerSecret } from '../util/secrets.js';
import { failure, interruptedResult, ok, statusText, summary, summaryLine } from './results.js';
import { commandId, commandStatus, commandSummary, sessionAddress, waiting } from './schemas.js';
import { noSession, targetOf } from './tools.js';

/** How long send_input and send_keys wait for the command to react before they answer. */
const REACTION_MS = { default: 1000, max: 30_000 };

/**
 * Tools for commands by id: status and paging, history, interrupt, input, keys and the terminal screen.
 * All read the manager's one command registry, so they agree with each other and with get_active_commands.
 */
export function registerCommandTools(server: McpServer, manager: SessionManager, limits: ServerLimits): void {
  const recordOf = (id: string): CommandRecord => {
    const record = manager.command(id);
    if (!record) throw new Error(manager.commands.whyUnknown(id));
    return record;
  };

  const page = async (
    record: CommandRecord,
    offset: number,
    maxBytes: number,
  ): Promise<{
    output: string;
    offset: number;
    nextOffset: number;
    totalBytes: number;
    gap?: { from: number; to: number };
    complete: boolean;
    note?: string;
  }> => {
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
    const p = await record.output.read(offset, maxBytes);
    return {
      output: redact(p.output),
      offset: p.offset,
      nextOffset: p.nextOffset,
      totalBytes: p.totalBytes,
      ...(p.gap && { gap: p.gap }),
      complete: p.complete && record.finished,
    };
  };

  server.registerTool(
    'get_command_status',
    {
      title: 'Status and output of a command',
      description:
        'Status, real exit status, timings and a page of output of a command (running or finished). Output is read by byte offset: start at 0 (default) and pass nextOffset back until complete is true, so any length can be read page by page.',
      inputSchema: {
        command_id: commandId,
        offset: z.number().int().min(0).default(0).describe('Byte offset in the output to read from.'),
        max_bytes: z
          .number()
          .int()
          .min(64)
          .optional()
          .describe(`Most bytes of output in this answer (default and cap: ${limits.maxResultBytes}).`),
      },
      outputSchema: {
        ...commandSummary.shape,
        waiting,
        error: z.string().optional(),
        output: z.string(),
        offset: z.number().int(),
        nextOffset: z.number().int().describe('Pass as offset to read on.'),
        gap: z
          .object({ from: z.number().int(), to: z.number().int() })
          .optional()
          .describe('Bytes at the start of this page that were not kept (past the spill limit).'),
        complete: z.boolean().describe('The command has ended and all its output has been read.'),
        note: z.string().optional().describe('Why the output is no longer kept, when it is not.'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const record = recordOf(args.command_id);
        const maxBytes = Math.min(args.max_bytes ?? limits.maxResultBytes, limits.maxResultBytes);
        const window = await page(record, args.offset, maxBytes);
        if (window.complete) manager.commands.markRead(record);
        const structured = {
          ...summary(record),
          ...(record.live.waiting && { waiting: record.live.waiting }),
          ...window,
        };
        const gapText = window.gap ? `[${window.gap.to - window.gap.from} bytes not kept here]\n` : '';
        const goneText = window.note ? `[${window.note}]\n` : '';
        const more = window.complete
          ? ''
          : `\n[bytes ${window.offset}-${window.nextOffset} of ${window.totalBytes}; read on with offset=${window.nextOffset}]`;
        return ok(
          structured,
          `${goneText}${gapText}${window.output}${more}\n[${record.id}: ${statusText(record)}]`,
        );
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'list_running_commands',
    {
      title: 'Commands still running',
      description: 'Commands running or waiting for input, in all sessions, with their ids.',
      inputSchema: {},
      outputSchema: { commands: z.array(commandSummary.extend({ waiting })) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const running = manager.running();
      const commands = running.map((r) => ({
        ...summary(r),
        ...(r.live.waiting && { waiting: r.live.waiting }),
      }));
      return ok(
        { commands },
        running.length === 0 ? 'No command is running.' : running.map(summaryLine).join('\n'),
      );
    },
  );

  server.registerTool(
    'list_command_history',
    {
      title: 'Recent commands',
      description: 'The most recent commands of all sessions, newest first, running or finished.',
      inputSchema: {
        limit: z.number().int().min(1).max(100).default(20).describe('How many commands (newest first).'),
      },
      outputSchema: { commands: z.array(commandSummary) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const history = manager.history(args.limit);
      return ok(
        { commands: history.map(summary) },
        history.length === 0 ? 'No commands yet.' : history.map(summaryLine).join('\n'),
      );
    },
  );

  server.registerTool(
    'interrupt_command_by_id',
    {
      title: 'Interrupt a command by id',
      description:
        'Send Ctrl+C to a running command and wait until it has ended: the answer has its final status (interrupted, exit status 130) and its output. Its session stays usable.',
      inputSchema: { command_id: commandId },
      outputSchema: {
        commandId: z.string(),
        interrupted: z.boolean(),
        command: z.string().optional(),
        status: commandStatus,
        exitCode: z.number().int().nullable().optional(),
        output: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      try {
        const record = recordOf(args.command_id);
        const interrupted = await manager.interruptAndWait(record.id);
        if (!interrupted) {
          return ok(
            { commandId: record.id, interrupted, status: record.status },
            `${record.id} is not running (${record.status}); nothing was sent.`,
          );
        }
        const result = await interruptedResult(record, limits.maxResultBytes, (r) =>
          manager.commands.markRead(r),
        );
        return ok({ interrupted, ...result.structured }, result.text);
      } catch (error) {
        return failure(error);
      }
    },
  );

  /** Write to a running command, wait a moment for it to react, and say what it printed meanwhile. */
  const typeInto = async (record: CommandRecord, text: string, waitMs: number, secret = false) => {
    const before = record.output.totalBytes;
    if (!manager.write(record.id, text, secret)) {
      throw new Error(`${record.id} is not running (${record.status}); there is nothing to type into`);
    }
    // Let the program react: it ends, asks again, or keeps printing.
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, waitMs)));
    await record.settle(Math.max(0, waitMs - 200));
    const after = await page(record, before, limits.maxResultBytes);
    return {
      structured: {
        ...summary(record),
        ...(record.live.waiting && { waiting: record.live.waiting }),
        output: after.output,
        nextOffset: after.nextOffset,
      },
      text: `${after.output}${after.output.endsWith('\n') || !after.output ? '' : '\n'}[${record.id}: ${statusText(record)}]`,
    };
  };

  const reactionOutput = {
    ...commandSummary.shape,
    waiting,
    output: z.string().describe('What the command printed after the input (up to the wait).'),
    nextOffset: z.number().int(),
  };
  const waitMs = z
    .number()
    .int()
    .min(0)
    .max(REACTION_MS.max)
    .default(REACTION_MS.default)
    .describe(
      'Milliseconds to wait for the command to react (it ends sooner if the command ends or asks again).',
    );

  server.registerTool(
    'send_input',
    {
      title: 'Answer a command that waits for input',
      description:
        'Type text into a running command (its answer to a prompt: a yes/no, a value, a password) and press Enter. With secret=true the text is a secret: it is masked in every result and log and never echoed back.',
      inputSchema: {
        command_id: commandId,
        text: z.string().describe('What to type.'),
        secret: z.boolean().default(false).describe('The text is a password or another secret.'),
        newline: z.boolean().default(true).describe('Press Enter after the text.'),
        wait_ms: waitMs,
      },
      outputSchema: reactionOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      try {
        if (args.secret) registerSecret(args.text, 'input');
        const record = recordOf(args.command_id);
        const lineEnding = manager.sessionOf(record)?.dialect?.lineEnding ?? '\n';
        const { structured, text } = await typeInto(
          record,
          args.text + (args.newline ? lineEnding : ''),
          args.wait_ms,
          args.secret,
        );
        return ok(structured, text);
      } catch (error) {
        return failure(error);
      }
    },
  );

  const target = {
    command_id: commandId.optional().describe('The command to address (or give host).'),
    ...sessionAddress,
    host: sessionAddress.host.optional(),
  };
  /** A command id, or the running command of a host's session. */
  const addressed = async (args: {
    command_id?: string;
    host?: string;
    username?: string;
    port?: number;
  }) => {
    if (args.command_id !== undefined) {
      const record = recordOf(args.command_id);
      return { record, session: manager.sessionOf(record) };
    }
    if (args.host === undefined)
      throw new Error('Give command_id, or host (with username and port if needed).');
    const session = await manager.find(targetOf({ ...args, host: args.host }));
    if (!session) throw noSession(args.host);
    return { record: session.current, session };
  };

  server.registerTool(
    'send_keys',
    {
      title: 'Send keys to a running program',
      description: `Send keystrokes to the running command of a session (or by command id), e.g. "q", "<ctrl-c>", ":wq<enter>", "<down><down><enter>". Named keys: ${KEY_NAMES_SUMMARY}. Then read_screen shows the result.`,
      inputSchema: {
        ...target,
        keys: z.string().min(1).describe('Text with named keys in angle brackets.'),
        wait_ms: waitMs,
      },
      outputSchema: reactionOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      try {
        const { record, session } = await addressed(args);
        if (!record || !session)
          throw new Error(
            'No command is running there: send_keys types into a running program; use execute_command to run one.',
          );
        const snapshot = await session.readScreen();
        const bytes = parseKeys(args.keys, { applicationCursor: snapshot?.applicationCursor ?? false });
        const { structured, text } = await typeInto(record, bytes, args.wait_ms);
        return ok(structured, text);
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'read_screen',
    {
      title: 'Read the terminal screen',
      description:
        'The screen of a session as a person would see it (rendered by a terminal emulator): for full-screen programs such as top, less, vim or installers started with a terminal (execute_command with pty, or a known full-screen program), and for device CLIs.',
      inputSchema: target,
      outputSchema: {
        session: z.string(),
        commandId: z.string().optional(),
        lines: z.array(z.string()),
        cursor: z.object({ row: z.number().int(), col: z.number().int() }),
        cols: z.number().int(),
        rows: z.number().int(),
        alternateScreen: z.boolean(),
        title: z.string().optional(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const { record, session } = await addressed(args);
        if (!session) throw noSession(args.host ?? args.command_id ?? '');
        const s = await session.readScreen();
        if (!s) throw noScreen(session);
        const lines = redactLines(s.lines);
        return ok(
          {
            session: session.id,
            ...(record && { commandId: record.id }),
            lines,
            cursor: s.cursor,
            cols: s.cols,
            rows: s.rows,
            alternateScreen: s.alternateScreen,
            ...(s.title !== undefined && { title: redact(s.title) }),
          },
          `${lines.join('\n').replace(/\n+$/, '')}\n[screen ${s.cols}x${s.rows} of ${session.id}, cursor ${s.cursor.row},${s.cursor.col}]`,
        );
      } catch (error) {
        return failure(error);
      }
    },
  );
}

function noScreen(session: Session): Error {
  return new Error(
    `${session.id} has no screen yet: nothing has run there with a terminal. Run the program with execute_command(..., pty=true) (full-screen programs such as top get one anyway).`,
  );
}
