import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ServerLimits } from '../config/limits.js';
import type { CommandRecord } from '../session/command.js';
import type { RunRequest, SecretName, SessionManager } from '../session/manager.js';
import type { CloseReport } from '../session/session.js';
import type { TargetRequest } from '../ssh/index.js';
import { redact, registerSecret } from '../util/secrets.js';
import { failure, failureOf, interruptedResult, ok, outputOf, statusText } from './results.js';
import { commandStatus, host, port, sessionAddress, username, waiting } from './schemas.js';
import type { SecretPrompter } from './secret-prompt.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const connection = {
  host,
  username,
  port,
  password: z
    .string()
    .optional()
    .describe(
      'Password for password or keyboard-interactive login (also tried as the passphrase of an encrypted key). Better kept in the config file.',
    ),
  key_filename: z
    .string()
    .optional()
    .describe(
      'Private key file to log in with; overrides the inventory and IdentityFile from ~/.ssh/config.',
    ),
  key_passphrase: z.string().optional().describe('Passphrase of an encrypted private key.'),
};

const commandInput = {
  ...connection,
  command: z
    .string()
    .min(1)
    .describe(
      "Shell command line, or a device CLI command. Runs in the session's persistent shell: `cd` and `export` carry over to later calls. Multi-line commands and here-docs work.",
    ),
  dialect: z
    .string()
    .optional()
    .describe(
      'How to talk to the host: a dialect name from list_dialects. Default: the inventory, else detected from the host. Applies when the session opens.',
    ),
  enable_password: z
    .string()
    .optional()
    .describe(
      'Enable secret for network devices: the device is brought to privileged mode before the command. Better kept in the config file.',
    ),
  enable_command: z.string().optional().describe('Command that enters privileged mode (default: enable).'),
  sudo_password: z
    .string()
    .optional()
    .describe(
      "Password for sudo, where the host's dialect supports it: the command runs with sudo (prefixed when missing) and the password only answers sudo's prompt. Better kept in the config file (then use_sudo).",
    ),
  use_sudo: z
    .boolean()
    .optional()
    .describe(
      'Run the command with sudo, with the sudo password from the config file (or asked for when needed).',
    ),
  pty: z
    .boolean()
    .optional()
    .describe(
      'Give the command a terminal of its own: for full-screen programs (top, vim: watch them with read_screen, drive them with send_keys) and prompts that need a tty (read -p, passwd). Common full-screen programs get one anyway (the dialect lists them). Where the shell has no terminal, the command gets one of its own on the host: it sees the current directory and exported variables, not shell functions.',
    ),
};

const executeInput = {
  ...commandInput,
  timeout: z
    .number()
    .positive()
    .max(86_400)
    .default(30)
    .describe(
      'Seconds to wait for the command. Past it the command keeps running in the background: the result has status "running" and a commandId for get_command_status, send_input and interrupt_command_by_id.',
    ),
};

const executeOutput = {
  commandId: z.string(),
  session: z.string().describe('user@host:port'),
  command: z.string(),
  dialect: z.string(),
  status: commandStatus,
  waiting,
  mode: z
    .string()
    .optional()
    .describe('The device mode after the command (dialect mode name), for prompt-driven devices.'),
  error: z
    .string()
    .optional()
    .describe('The device error line that marked the command failed, or why answering a prompt failed.'),
  exitCode: z
    .number()
    .int()
    .nullable()
    .describe('The real exit status; null while running, or when the command never finished.'),
  output: z
    .string()
    .describe(
      'Exactly what the command printed (stdout and stderr interleaved), without echo, prompt or terminal codes. While it runs: what it printed so far.',
    ),
  timedOut: z.boolean().describe('The wait ended before the command did (it keeps running: see status).'),
  interrupted: z.boolean(),
  truncated: z.boolean().describe('True when part of the output was left out of this result.'),
  totalBytes: z.number().int().describe('Bytes the command printed so far.'),
  omittedBytes: z.number().int().describe('Bytes of output not in this result.'),
  nextOffset: z
    .number()
    .int()
    .optional()
    .describe('While running: the offset get_command_status reads on from.'),
  durationMs: z.number(),
  sessionReset: z
    .boolean()
    .describe(
      'True when this ran in a new shell because the previous one was lost: earlier cd/export are gone.',
    ),
  note: z.string().optional(),
};

const SECRET_PARAMS = ['password', 'key_passphrase', 'enable_password', 'sudo_password'] as const;
/** The least time a person gets to type a secret into the page. */
const SECRET_ASK_MS = 120_000;
/** Progress notifications at most this often. */
const PROGRESS_INTERVAL_MS = 500;

/** Turn tool parameters into a target request, remembering secrets so they are masked everywhere. */
export function targetOf(args: {
  host: string;
  username?: string;
  port?: number;
  password?: string;
  key_filename?: string;
  key_passphrase?: string;
}): TargetRequest {
  registerSecret(args.password, 'password');
  registerSecret(args.key_passphrase, 'key_passphrase');
  return {
    host: args.host,
    username: args.username,
    port: args.port,
    password: args.password,
    keyFilename: args.key_filename,
    keyPassphrase: args.key_passphrase,
  };
}

export function registerTools(
  server: McpServer,
  manager: SessionManager,
  limits: ServerLimits,
  prompter: SecretPrompter,
): void {
  type CommandArgs = z.infer<z.ZodObject<typeof commandInput>>;

  /** The run request of a call, or an error that says which parameter to drop. */
  const runRequest = (args: CommandArgs, timeoutMs: number, extra: Extra): RunRequest => {
    refuseToolSecrets(manager, args);
    registerSecret(args.enable_password, 'enable');
    registerSecret(args.sudo_password, 'sudo');
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
      askSecret: secretAsker(prompter, args.host, timeoutMs, extra.signal),
    };
  };

  const markRead = (record: CommandRecord) => manager.commands.markRead(record);
  const executeResult = async (record: CommandRecord) => {
    const shaped = await outputOf(record, limits.maxResultBytes, markRead);
    const outcome = record.outcome;
    const note = [outcome?.note, 'note' in shaped ? shaped.note : undefined].filter(Boolean).join('; ');
    const structured = {
      commandId: record.id,
      session: record.session,
      command: redact(record.command),
      dialect: record.dialect,
      status: record.status,
      ...(record.live.waiting && {
        waiting: { ...record.live.waiting, prompt: redact(record.live.waiting.prompt) },
      }),
      ...(outcome?.mode === undefined ? {} : { mode: outcome.mode }),
      ...(failureOf(record) !== undefined && { error: redact(failureOf(record) as string) }),
      exitCode: outcome?.exitCode ?? null,
      output: shaped.output,
      timedOut: !record.finished && !record.live.waiting,
      interrupted: outcome?.interrupted ?? false,
      truncated: shaped.truncated,
      totalBytes: record.output.totalBytes,
      omittedBytes: shaped.omittedBytes,
      ...('nextOffset' in shaped && { nextOffset: shaped.nextOffset }),
      durationMs: Math.round(record.durationMs * 1000) / 1000,
      sessionReset: record.sessionReset,
      ...(note && { note: redact(note) }),
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
    const text = body + [line, ...notes].join('\n');
    return { content: [{ type: 'text' as const, text }], structuredContent: structured };
  };

  server.registerTool(
    'execute_command',
    {
      title: 'Run a command over SSH',
      description:
        'Run a command in a persistent shell on a remote host (one shell per user@host:port, reused across calls, so cd and export carry over). Returns the exact output and the real exit status. A command that outlives `timeout` keeps running in the background (status "running", with a commandId); one that waits for input returns at once (status "awaiting_input"; answer with send_input). Connects on first use; hosts come from the config file inventory and ~/.ssh/config.',
      inputSchema: executeInput,
      outputSchema: executeOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      let stopProgress = () => {};
      try {
        const run = runRequest(args, args.timeout * 1000, extra);
        const token = extra._meta?.progressToken;
        if (token !== undefined) {
          run.onStart = (record) => {
            stopProgress = progressReporter(record, token, extra);
          };
        }
        return await executeResult(await manager.execute(targetOf(args), args.command, run));
      } catch (error) {
        return failure(error);
      } finally {
        stopProgress();
      }
    },
  );

  server.registerTool(
    'execute_command_async',
    {
      title: 'Start a command in the background',
      description:
        "Start a command in the session's persistent shell and return its commandId at once (after connecting). Follow it with get_command_status; answer prompts with send_input; stop it with interrupt_command_by_id. While it runs, other commands on the same session are refused (another user or host runs in parallel).",
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
      try {
        const { signal: _ignored, ...request } = runRequest(args, limits.connectTimeoutMs + 60_000, extra);
        const record = await manager.startDetached(targetOf(args), args.command, request);
        return ok(
          {
            commandId: record.id,
            session: record.session,
            command: redact(record.command),
            status: record.status,
          },
          `Started ${record.id} on ${record.session}: ${record.command}\nget_command_status(command_id="${record.id}") shows its output.`,
        );
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'interrupt_command',
    {
      title: 'Interrupt the running command',
      description:
        'Send Ctrl+C to the command running in a session and wait until it has ended: the answer has its final status (interrupted, exit status 130) and its output. The shell stays usable.',
      inputSchema: sessionAddress,
      outputSchema: {
        session: z.string(),
        interrupted: z.boolean().describe('False when no command was running.'),
        commandId: z.string().optional(),
        command: z.string().optional(),
        status: commandStatus.optional(),
        exitCode: z.number().int().nullable().optional(),
        output: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      try {
        const session = await manager.find(targetOf(args));
        if (!session) throw noSession(args.host);
        const running = session.current;
        const interrupted = running !== undefined && (await manager.interruptAndWait(running.id));
        if (!interrupted || !running) {
          return ok(
            { session: session.id, interrupted: false },
            `No command is running on ${session.id}; nothing was sent.`,
          );
        }
        const result = await interruptedResult(running, limits.maxResultBytes, markRead);
        return ok({ session: session.id, interrupted, ...result.structured }, result.text);
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'get_active_commands',
    {
      title: 'List running commands',
      description: 'Commands running right now, in all sessions (the same list as list_running_commands).',
      inputSchema: {},
      outputSchema: {
        commands: z.array(
          z.object({
            commandId: z.string(),
            session: z.string(),
            command: z.string(),
            startedAt: z.string(),
          }),
        ),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const commands = manager.running().map((c) => ({
        commandId: c.id,
        session: c.session,
        command: redact(c.command),
        startedAt: c.startedAt.toISOString(),
      }));
      const text =
        commands.length === 0
          ? 'No command is running.'
          : commands
              .map((c) => `${c.commandId} on ${c.session} since ${c.startedAt}: ${c.command}`)
              .join('\n');
      return ok({ commands }, text);
    },
  );

  server.registerTool(
    'list_sessions',
    {
      title: 'List SSH sessions',
      description: 'Open SSH sessions, as user@host:port, with their dialect and state.',
      inputSchema: {},
      outputSchema: {
        sessions: z.array(
          z.object({
            id: z.string().describe('user@host:port'),
            host: z.string(),
            port: z.number().int(),
            username: z.string(),
            dialect: z.string(),
            mode: z.string().optional(),
            connected: z.boolean(),
            busy: z.boolean(),
            commandCount: z.number().int(),
            createdAt: z.string(),
            lastUsedAt: z.string(),
          }),
        ),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const sessions = manager.list();
      const text =
        sessions.length === 0
          ? 'No open sessions.'
          : sessions
              .map(
                (s) =>
                  `${s.id} (${s.dialect}, ${s.connected ? (s.busy ? 'busy' : 'idle') : 'disconnected'}, ${s.commandCount} commands)`,
              )
              .join('\n');
      return ok({ sessions }, text);
    },
  );

  server.registerTool(
    'close_session',
    {
      title: 'Close an SSH session',
      description:
        'Close one session: a running command gets Ctrl+C, what the session started on the host is ended, then its shell and connection. The answer says what could not be stopped.',
      inputSchema: sessionAddress,
      outputSchema: {
        session: z.string(),
        closed: z.boolean(),
        stopped: z.string().optional().describe('The command that was running and was stopped.'),
        problems: z.array(z.string()).optional().describe('What could not be stopped on the host.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const session = await manager.find(targetOf(args));
        if (!session) throw noSession(args.host);
        const report = await manager.close(session);
        return ok(
          {
            session: session.id,
            closed: true,
            ...(report.stopped && { stopped: report.stopped }),
            ...(report.problems.length > 0 && { problems: report.problems }),
          },
          [`Closed ${session.id}.`, ...closeNotes(report)].join('\n'),
        );
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'close_all_sessions',
    {
      title: 'Close all SSH sessions',
      description:
        'Close every open session, ending the commands they run and what they started on their hosts.',
      inputSchema: {},
      outputSchema: {
        closed: z.array(z.string()),
        problems: z.array(z.string()).optional().describe('What could not be stopped, per host.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const reports = await manager.closeAll();
      const closed = reports.map((r) => r.id);
      const problems = reports.flatMap((r) => r.report.problems.map((p) => `${r.id}: ${p}`));
      const text =
        closed.length === 0
          ? 'No sessions were open.'
          : [`Closed ${closed.join(', ')}.`, ...problems].join('\n');
      return ok({ closed, ...(problems.length > 0 && { problems }) }, text);
    },
  );
}

function closeNotes(report: CloseReport): string[] {
  return [
    ...(report.stopped ? [`Stopped ${report.stopped}.`] : []),
    ...report.problems.map((p) => `Not done: ${p}`),
  ];
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

/** The config's security.allow_tool_secrets: false refuses secrets given as tool parameters. */
export function refuseToolSecrets(
  manager: SessionManager,
  args: Partial<Record<(typeof SECRET_PARAMS)[number], unknown>>,
): void {
  if (manager.deployment?.allowToolSecrets !== false) return;
  const given = SECRET_PARAMS.filter((p) => args[p] !== undefined);
  if (given.length > 0) {
    throw new Error(
      `this server takes no secrets as tool parameters (security.allow_tool_secrets is false in its config file): leave out ${given.join(', ')}; the config file provides them, or the user is asked`,
    );
  }
}

/** Asks the user through the secret page; a person gets at least two minutes, whatever the call's timeout. */
/**
 * A client gives up on a long request when its own timeout passes and says so in the cancellation's
 * reason (the MCP SDK: "Request timed out"): the command then goes on in the background, with its id in
 * the history. Any other cancellation is the user stopping it: Ctrl+C.
 */
export function cancellation(signal: AbortSignal): Pick<RunRequest, 'signal' | 'stopWaiting'> {
  const interrupt = new AbortController();
  const onAbort = () => {
    if (!/time(d)?[ -]?out/i.test(String(signal.reason ?? ''))) interrupt.abort(signal.reason);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return { signal: interrupt.signal, stopWaiting: signal };
}

export function secretAsker(prompter: SecretPrompter, host: string, timeoutMs: number, signal?: AbortSignal) {
  return (secret: SecretName, reason: string) =>
    prompter.ask({ host, secret, reason, timeoutMs: Math.max(timeoutMs, SECRET_ASK_MS), signal });
}

export function noSession(hostName: string): Error {
  return new Error(
    `No open session for "${hostName}". list_sessions shows the open ones (as user@host:port).`,
  );
}
