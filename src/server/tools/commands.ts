import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { RESULT_CEILING, type ServerLimits } from '../../config/limits.js';
import { parseKeys } from '../../expect/keys.js';
import type { CommandRecord } from '../../session/command.js';
import type { RunRequest, SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import { redact, redactLines, registerSecret } from '../../util/secrets.js';
import {
  DEFAULT_MAX_MATCHES,
  failureOf,
  interruptedResult,
  lineView,
  lineViewOf,
  outputOf,
  outputPage,
  statusText,
  summary,
  summaryLine,
} from '../command-view.js';
import { callBudget, clip, contentRoom, entryRoom, jsonBytes, listPage } from '../result-budget.js';
import {
  commandId,
  commandStatus,
  commandSummary,
  connectionInput,
  listOffset,
  listPaging,
  sessionAddress,
  waiting,
} from '../schemas.js';
import type { SecretPrompter } from '../secret-prompt.js';
import {
  cancellation,
  noSession,
  refuseToolSecrets,
  registerToolSecrets,
  secretAsker,
  targetOf,
} from '../tool-args.js';
import { addTool, type Extra } from '../tool-result.js';

/** A list shows this much of a command line; get_command_status shows it whole. */
const LISTED_COMMAND_CHARS = 500;
/** Progress notifications at most this often. */
const PROGRESS_INTERVAL_MS = 500;
/** How long send_input and send_keys wait for the command to react before they answer. */
const REACTION_MS = { default: 1000, max: 30_000 };

const connection = connectionInput({
  password: 'Login password (also tried as key passphrase); better in the config file.',
  keyFilename: 'Private key file.',
  keyPassphrase: 'Passphrase of the key.',
});

const commandInput = {
  ...connection,
  command: z
    .string()
    .min(1)
    .describe('Shell command line (multi-line and here-docs work) or device CLI command.'),
  dialect: z
    .string()
    .optional()
    .describe('Dialect (list_dialects) for a new session; default: inventory, else detected.'),
  enable_password: z
    .string()
    .optional()
    .describe('Network devices: enter privileged mode with this secret first; better in the config file.'),
  enable_command: z.string().optional().describe('Command for privileged mode (default enable).'),
  sudo_password: z
    .string()
    .optional()
    .describe("Run with sudo; this answers sudo's prompt. Better in the config file (then use_sudo)."),
  use_sudo: z.boolean().optional().describe('Run with sudo (password from the config file, or asked for).'),
  pty: z
    .boolean()
    .optional()
    .describe(
      'Give the command a terminal: full-screen programs (read_screen, send_keys) and tty prompts. Known full-screen programs get one anyway.',
    ),
};

/** Most bytes of output a call asks for (execute_command, get_command_status). */
const maxBytes = z
  .number()
  .int()
  .min(64)
  .optional()
  .describe(`Most bytes of output in this result (default: what fits, ~100000; at most ${RESULT_CEILING}).`);

const executeInput = {
  ...commandInput,
  max_bytes: maxBytes,
  timeout: z
    .number()
    .positive()
    .max(86_400)
    .default(30)
    .describe(
      'Seconds to wait (at most max_wait, 50 s); then it runs on in the background (status running).',
    ),
};

const executeOutput = {
  commandId: z.string(),
  session: z.string().describe('user@host:port'),
  command: z.string(),
  dialect: z.string(),
  status: commandStatus,
  waiting,
  mode: z.string().optional().describe('Device mode after the command.'),
  error: z.string().optional().describe('Device error line, or why a prompt answer failed.'),
  exitCode: z.number().int().nullable().describe('null while running.'),
  output: z.string().describe('stdout and stderr as printed, without echo or prompt.'),
  timedOut: z.boolean().optional().describe('true: the wait ended first.'),
  interrupted: z.boolean().optional(),
  truncated: z.boolean().optional().describe('true: output left out of this result.'),
  totalBytes: z.number().int().describe('Bytes printed so far.'),
  omittedBytes: z.number().int().optional().describe('Bytes not in this result.'),
  nextOffset: z.number().int().optional().describe('Offset for get_command_status.'),
  durationMs: z.number().int(),
  sessionReset: z.boolean().optional().describe('true: a new shell, earlier cd/export are gone.'),
  note: z.string().optional(),
};

/**
 * The command tools: run a command (waiting, or in the background), follow it by id (status and output
 * pages, running list, history), interrupt it, type into it (input, keys) and read its terminal screen.
 * All read the manager's one command registry, so they agree with each other.
 */
export function registerCommandTools(
  server: McpServer,
  manager: SessionManager,
  limits: ServerLimits,
  prompter: SecretPrompter,
): void {
  type CommandArgs = z.infer<z.ZodObject<typeof commandInput>>;

  /** The run request of a call, or an error that says which parameter to drop. */
  const runRequest = (args: CommandArgs, timeoutMs: number, extra: Extra): RunRequest => {
    refuseToolSecrets(manager, args);
    registerToolSecrets(args);
    return {
      timeoutMs,
      ...cancellation(extra.signal),
      dialect: args.dialect,
      secrets: {
        ...(args.enable_password !== undefined && { enable: args.enable_password }),
        ...(args.sudo_password !== undefined && { sudo: args.sudo_password }),
      },
      sudo: args.use_sudo,
      vars: { enable_command: args.enable_command },
      privileged: args.enable_password !== undefined || args.enable_command !== undefined,
      ...(args.pty !== undefined && { terminal: args.pty }),
      askSecret: secretAsker(prompter, args.host, limits.maxWaitMs, extra.signal),
    };
  };

  const markRead = (record: CommandRecord) => manager.commands.markRead(record);
  const recordOf = (id: string): CommandRecord => {
    const record = manager.command(id);
    if (!record) throw new Error(manager.commands.whyUnknown(id));
    return record;
  };

  const budgetOf = (asked: number | undefined) => callBudget(limits.maxResultBytes, asked);
  const outputRoom = contentRoom;

  /**
   * execute_command's result; `capped` says the call asked to wait longer than max_wait, so a command
   * still running says why the call did not wait for it.
   */
  const executeResult = async (record: CommandRecord, asked?: number, capped = false) => {
    const outcome = record.outcome;
    const budget = budgetOf(asked);
    const head = {
      commandId: record.id,
      session: record.session,
      command: record.command,
      dialect: record.dialect,
      status: record.status,
      ...(record.live.waiting && { waiting: record.live.waiting }),
      ...(outcome?.mode === undefined ? {} : { mode: outcome.mode }),
      ...(failureOf(record) !== undefined && { error: failureOf(record) as string }),
      exitCode: outcome?.exitCode ?? null,
    };
    const shaped = await outputOf(record, outputRoom(budget, { head, note: outcome?.note }, asked), markRead);
    const stillRunning = !record.finished && !record.live.waiting;
    const waitNote =
      capped && stillRunning
        ? `the wait is capped at ${limits.maxWaitMs / 1000} s (max_wait) so the client does not give up; ${record.id} goes on in the background: get_command_status(command_id="${record.id}") reads on`
        : undefined;
    const note = [outcome?.note, waitNote, 'note' in shaped ? shaped.note : undefined]
      .filter(Boolean)
      .join('; ');
    // Only what says something: flags that are false and counts that are 0 are left out.
    const structured = {
      ...head,
      output: shaped.output,
      ...(stillRunning && { timedOut: true }),
      ...(outcome?.interrupted && { interrupted: true }),
      ...(shaped.truncated && { truncated: true }),
      totalBytes: record.output.totalBytes,
      ...(shaped.omittedBytes > 0 && { omittedBytes: shaped.omittedBytes }),
      ...('nextOffset' in shaped && { nextOffset: shaped.nextOffset }),
      durationMs: Math.round(record.durationMs),
      ...(record.sessionReset && { sessionReset: true }),
      ...(note && { note }),
    };
    const notes = [
      structured.error ? `Error: ${structured.error}` : '',
      record.sessionReset
        ? 'Note: the connection or shell was re-established; shell state (cd, export) was reset.'
        : '',
      structured.note ? `Note: ${structured.note}` : '',
    ].filter(Boolean);
    const body =
      structured.output.endsWith('\n') || !structured.output ? structured.output : `${structured.output}\n`;
    const line = `[${statusText(record)}; ${Math.round(record.durationMs)} ms; ${record.session}]`;
    // outputRoom kept room for everything but the output: both blocks fit the budget.
    return { structured, text: body + [line, ...notes].join('\n'), budget, fitted: true };
  };

  addTool(
    server,
    'execute_command',
    {
      title: 'Run a command over SSH',
      description:
        'Run a command in the persistent shell of user@host:port (connects on first use; cd and export carry over). Returns its output and real exit status. Past timeout it runs on: status running, follow with get_command_status. A prompt returns status awaiting_input: answer with send_input.',
      inputSchema: executeInput,
      outputSchema: executeOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      let stopProgress = () => {};
      try {
        // Clients give up after 60 s: a longer wait is cut to max_wait, the command goes on regardless.
        const wantMs = args.timeout * 1000;
        const run = runRequest(args, Math.min(wantMs, limits.maxWaitMs), extra);
        const token = extra._meta?.progressToken;
        if (token !== undefined) {
          run.onStart = (record) => {
            stopProgress = progressReporter(record, token, extra);
          };
        }
        const record = await manager.execute(targetOf(args), args.command, run);
        return await executeResult(record, args.max_bytes, wantMs > limits.maxWaitMs);
      } finally {
        stopProgress();
      }
    },
  );

  addTool(
    server,
    'execute_command_async',
    {
      title: 'Start a command in the background',
      description:
        'Start a command in the background and return its commandId. Follow with get_command_status; stop with interrupt_command_by_id. Its session runs nothing else meanwhile.',
      inputSchema: commandInput,
      outputSchema: {
        commandId: z.string(),
        session: z.string(),
        command: z.string(),
        status: commandStatus,
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      const { signal: _ignored, ...request } = runRequest(args, limits.connectTimeoutMs + 60_000, extra);
      const record = await manager.startDetached(targetOf(args), args.command, request);
      return {
        structured: {
          commandId: record.id,
          session: record.session,
          command: record.command,
          status: record.status,
        },
        text: `Started ${record.id} on ${record.session}: ${record.command}\nget_command_status(command_id="${record.id}") shows its output.`,
      };
    },
  );

  addTool(
    server,
    'get_command_status',
    {
      title: 'Status and output of a command',
      description:
        'Status, exit status and output of a command, running or finished: a page by byte offset (pass nextOffset until complete), or lines by from_line/lines, tail, or grep (RE2) with context.',
      inputSchema: {
        command_id: commandId,
        offset: z.number().int().min(0).optional().describe('Byte offset; default 0.'),
        max_bytes: maxBytes,
        from_line: z.number().int().min(1).optional(),
        lines: z.number().int().min(1).optional(),
        tail: z.number().int().min(1).optional(),
        grep: z.string().min(1).max(1000).optional().describe('RE2 regex; lines shown as N:line.'),
        context: z.number().int().min(0).max(100).optional(),
        max_matches: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .optional()
          .describe(`Default ${DEFAULT_MAX_MATCHES}.`),
      },
      outputSchema: {
        ...commandSummary.shape,
        waiting,
        error: z.string().optional(),
        output: z.string(),
        offset: z.number().int(),
        nextOffset: z.number().int().describe('Offset to read on from.'),
        gap: z
          .object({ from: z.number().int(), to: z.number().int() })
          .optional()
          .describe('Bytes no longer kept.'),
        complete: z.boolean().describe('Ended, and all output read.'),
        fromLine: z.number().int().optional(),
        toLine: z.number().int().optional(),
        totalLines: z.number().int().optional(),
        matches: z.number().int().optional(),
        note: z.string().optional().describe('What was left out, or why output is gone.'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const record = recordOf(args.command_id);
      const view = lineViewOf(args);
      const budget = budgetOf(args.max_bytes);
      const room = outputRoom(budget, summary(record), args.max_bytes);
      const status = `[${record.id}: ${statusText(record)}]`;
      if (view !== undefined) {
        const v = await lineView(record, view, args, room);
        const complete = record.finished && v.nextOffset >= v.totalBytes;
        if (complete) markRead(record);
        const note = v.notes.join('; ');
        const structured = {
          ...summary(record),
          ...(record.live.waiting && { waiting: record.live.waiting }),
          output: v.output,
          offset: v.offset,
          nextOffset: v.nextOffset,
          complete,
          ...(v.fromLine !== undefined && { fromLine: v.fromLine }),
          ...(v.toLine !== undefined && { toLine: v.toLine }),
          totalLines: v.totalLines,
          ...(v.matches !== undefined && { matches: v.matches }),
          ...(note && { note }),
        };
        const range =
          view === 'grep'
            ? `${v.matches} matching lines in bytes ${v.offset}-${v.nextOffset} of ${v.totalBytes}`
            : v.fromLine === undefined
              ? `no lines shown of ${v.totalLines}`
              : `lines ${v.fromLine}-${v.toLine} of ${v.totalLines}`;
        const body = v.output.endsWith('\n') || !v.output ? v.output : `${v.output}\n`;
        return { structured, text: `${body}[${range}${note ? `; ${note}` : ''}]\n${status}`, budget };
      }
      const window = await outputPage(record, args.offset ?? 0, room, room);
      if (window.complete) markRead(record);
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
      return {
        structured,
        text: `${goneText}${gapText}${window.output}${more}\n${status}`,
        budget,
      };
    },
  );

  /** A command line as a list shows it: whole up to a point (get_command_status shows it all). */
  const listed = <T extends { command: string }>(entry: T): T => ({
    ...entry,
    command: clip(entry.command, LISTED_COMMAND_CHARS),
  });
  /** A command of a list: its entry in structuredContent and its line in the text. */
  const row = <T extends object>(record: CommandRecord, entry: T) => ({
    record,
    entry,
    line: summaryLine(record, LISTED_COMMAND_CHARS),
  });
  const listBudget = () => entryRoom(limits.maxResultBytes);
  /** A list of commands as far as it fits, with where it goes on (`tool(offset=N)`) when it does not. */
  const commandList = <T extends object>(
    rows: { record: CommandRecord; entry: T; line: string }[],
    offset: number,
    total: number,
    tool: string,
    none: string,
  ) => {
    const page = listPage({
      entries: rows,
      offset,
      total,
      budget: listBudget(),
      line: (r) => r.line,
      cost: (r) => Math.max(jsonBytes(r.entry), jsonBytes(r.line)) + 1,
      call: (next) => `${tool}(offset=${next})`,
      empty: none,
    });
    return {
      structured: { commands: page.shown.map(({ entry }) => entry), ...page.paging },
      text: page.text,
    };
  };
  const offset = listOffset;

  addTool(
    server,
    'get_active_commands',
    {
      title: 'List running commands',
      description: 'Running commands of all sessions (list_running_commands in an older shape).',
      inputSchema: { offset },
      outputSchema: {
        commands: z.array(
          z.object({
            commandId: z.string(),
            session: z.string(),
            command: z.string(),
            startedAt: z.string(),
          }),
        ),
        ...listPaging,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args) => {
      const running = manager.running();
      const line = (c: { commandId: string; session: string; command: string; startedAt: string }) =>
        `${c.commandId} on ${c.session} since ${c.startedAt}: ${c.command}`;
      const page = listPage({
        entries: running.slice(args.offset).map((c) =>
          listed({
            commandId: c.id,
            session: c.session,
            command: c.command,
            startedAt: c.startedAt.toISOString(),
          }),
        ),
        offset: args.offset,
        total: running.length,
        budget: listBudget(),
        line,
        call: (next) => `get_active_commands(offset=${next})`,
        empty: 'No command is running.',
      });
      return { structured: { commands: page.shown, ...page.paging }, text: page.text };
    },
  );

  addTool(
    server,
    'list_running_commands',
    {
      title: 'Commands still running',
      description: 'Commands running or awaiting input, in all sessions.',
      inputSchema: { offset },
      outputSchema: { commands: z.array(commandSummary.extend({ waiting })), ...listPaging },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args) => {
      const running = manager.running();
      return commandList(
        running
          .slice(args.offset)
          .map((r) => row(r, listed({ ...summary(r), ...(r.live.waiting && { waiting: r.live.waiting }) }))),
        args.offset,
        running.length,
        'list_running_commands',
        'No command is running.',
      );
    },
  );

  addTool(
    server,
    'list_command_history',
    {
      title: 'Recent commands',
      description: 'Recent commands of all sessions, newest first.',
      inputSchema: {
        limit: z.number().int().min(1).max(100).default(20).describe('How many.'),
        offset,
      },
      outputSchema: {
        commands: z.array(commandSummary),
        ...listPaging,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args) => {
      const history = manager.history(args.limit, args.offset);
      return commandList(
        history.map((record) => row(record, listed(summary(record)))),
        args.offset,
        Math.min(manager.historySize, args.offset + args.limit),
        'list_command_history',
        'No commands yet.',
      );
    },
  );

  addTool(
    server,
    'interrupt_command',
    {
      title: 'Interrupt the running command',
      description:
        'Ctrl+C the command running in a session and wait for it to end (exit 130); returns its output. The shell stays usable.',
      inputSchema: sessionAddress,
      outputSchema: {
        session: z.string(),
        interrupted: z.boolean().describe('False if nothing was running.'),
        commandId: z.string().optional(),
        command: z.string().optional(),
        status: commandStatus.optional(),
        exitCode: z.number().int().nullable().optional(),
        output: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      const session = await manager.find(targetOf(args));
      if (!session) throw noSession(args.host);
      const running = session.current;
      const interrupted = running !== undefined && (await manager.interruptAndWait(running.id));
      if (!interrupted || !running) {
        return {
          structured: { session: session.id, interrupted: false },
          text: `No command is running on ${session.id}; nothing was sent.`,
        };
      }
      const result = await interruptedResult(
        running,
        outputRoom(limits.maxResultBytes, running.command),
        markRead,
      );
      return { structured: { session: session.id, interrupted, ...result.structured }, text: result.text };
    },
  );

  addTool(
    server,
    'interrupt_command_by_id',
    {
      title: 'Interrupt a command by id',
      description: 'Ctrl+C a running command by id and wait for it to end (exit 130); returns its output.',
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
      const record = recordOf(args.command_id);
      const interrupted = await manager.interruptAndWait(record.id);
      if (!interrupted) {
        return {
          structured: { commandId: record.id, interrupted, status: record.status },
          text: `${record.id} is not running (${record.status}); nothing was sent.`,
        };
      }
      const result = await interruptedResult(
        record,
        outputRoom(limits.maxResultBytes, record.command),
        markRead,
      );
      return { structured: { interrupted, ...result.structured }, text: result.text };
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
    const room = outputRoom(limits.maxResultBytes, summary(record));
    const after = await outputPage(record, before, room, room);
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
    output: z.string().describe('Printed since the input.'),
    nextOffset: z.number().int(),
  };
  const waitMs = z
    .number()
    .int()
    .min(0)
    .max(REACTION_MS.max)
    .default(REACTION_MS.default)
    .describe('Most ms to wait for a reaction.');

  addTool(
    server,
    'send_input',
    {
      title: 'Answer a command that waits for input',
      description:
        'Type text into a running command (an answer to its prompt) and press Enter. secret: masked in every result and log.',
      inputSchema: {
        command_id: commandId,
        text: z.string().describe('What to type.'),
        secret: z.boolean().default(false).describe('A password or other secret.'),
        newline: z.boolean().default(true).describe('Press Enter.'),
        wait_ms: waitMs,
      },
      outputSchema: reactionOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      if (args.secret) registerSecret(args.text, 'input');
      const record = recordOf(args.command_id);
      const lineEnding = manager.sessionOf(record)?.dialect?.lineEnding ?? '\n';
      return typeInto(record, args.text + (args.newline ? lineEnding : ''), args.wait_ms, args.secret);
    },
  );

  const target = {
    command_id: commandId.optional().describe('cmd-N, or give host.'),
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

  addTool(
    server,
    'send_keys',
    {
      title: 'Send keys to a running program',
      description:
        'Send keys to the running program of a session: text, and named keys in angle brackets such as <enter> <tab> <esc> <up> <pgdn> <f1> <ctrl-c> <alt-x> (<lt> for "<"). E.g. ":wq<enter>". Then read_screen.',
      inputSchema: {
        ...target,
        keys: z.string().min(1).describe('Text and <named> keys.'),
        wait_ms: waitMs,
      },
      outputSchema: reactionOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      const { record, session } = await addressed(args);
      if (!record || !session)
        throw new Error(
          'No command is running there: send_keys types into a running program; use execute_command to run one.',
        );
      const snapshot = await session.readScreen();
      const bytes = parseKeys(args.keys, { applicationCursor: snapshot?.applicationCursor ?? false });
      return typeInto(record, bytes, args.wait_ms);
    },
  );

  addTool(
    server,
    'read_screen',
    {
      title: 'Read the terminal screen',
      description:
        'The terminal screen of a session as a person sees it: full-screen programs (run with a terminal: pty) and device CLIs.',
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
        note: z.string().optional().describe('Set when the lines were cut to fit the result.'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const { record, session } = await addressed(args);
      if (!session) throw noSession(args.host ?? args.command_id ?? '');
      const s = await session.readScreen();
      if (!s) throw noScreen(session);
      // A secret the terminal wrapped onto the next line is masked here; the result's masking sees lines apart.
      const whole = redactLines(s.lines);
      // A screen of 1000 x 500 takes more than a result holds: each line is cut to the same width then.
      const room = entryRoom(limits.maxResultBytes);
      let width = Math.max(...whole.map((l) => l.length), 0);
      let lines = whole;
      while (width > 8 && jsonBytes(lines) > room) {
        width = Math.floor((width * room) / jsonBytes(lines) / 1.05);
        lines = whole.map((l) => clipColumns(l, width));
      }
      const note =
        lines === whole
          ? undefined
          : `lines cut to ${width} characters of ${s.cols} columns to fit the result`;
      return {
        structured: {
          session: session.id,
          ...(record && { commandId: record.id }),
          lines,
          cursor: s.cursor,
          cols: s.cols,
          rows: s.rows,
          alternateScreen: s.alternateScreen,
          ...(s.title !== undefined && { title: s.title }),
          ...(note && { note }),
        },
        text: `${lines.join('\n').replace(/\n+$/, '')}\n[screen ${s.cols}x${s.rows} of ${session.id}, cursor ${s.cursor.row},${s.cursor.col}${note ? `; ${note}` : ''}]`,
      };
    },
  );
}

/**
 * notifications/progress while the call waits: bytes so far as progress, lines and the last line as the
 * message, at most every PROGRESS_INTERVAL_MS and only when something changed.
 */
function progressReporter(record: CommandRecord, token: string | number, extra: Extra): () => void {
  let lastBytes = -1;
  const timer = setInterval(() => {
    if (record.finished || record.live.bytes === lastBytes) return;
    lastBytes = record.live.bytes;
    const { bytes, lines, lastLine } = record.live;
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress: bytes,
          message: redact(`${lines} lines, ${bytes} bytes: ${lastLine.slice(-200)}`),
        },
      })
      .catch(() => {});
  }, PROGRESS_INTERVAL_MS);
  return () => clearInterval(timer);
}

/** The first `width` characters of a screen line (not splitting a surrogate pair). */
function clipColumns(line: string, width: number): string {
  if (line.length <= width) return line;
  const end = /[\uD800-\uDBFF]/.test(line[width - 1] ?? '') ? width - 1 : width;
  return line.slice(0, end);
}

function noScreen(session: Session): Error {
  return new Error(
    `${session.id} has no screen yet: nothing has run there with a terminal. Run the program with execute_command(..., pty=true) (full-screen programs such as top get one anyway).`,
  );
}
