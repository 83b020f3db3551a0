import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { shapeOutput } from '../expect/output.js';
import type { SessionManager } from '../session/manager.js';
import type { TargetRequest } from '../ssh/index.js';
import { log } from '../util/log.js';
import { redact, registerSecret } from '../util/secrets.js';
import type { ServerLimits } from './limits.js';

const host = z
  .string()
  .min(1)
  .describe(
    'Host name, IP address, or an alias from ~/.ssh/config (e.g. "web1"). An open session id "user@host:port" works too.',
  );
const username = z
  .string()
  .min(1)
  .optional()
  .describe('SSH user; default: User from ~/.ssh/config, else the local user.');
const port = z
  .number()
  .int()
  .min(1)
  .max(65535)
  .optional()
  .describe('SSH port; default: Port from ~/.ssh/config, else 22.');

const executeInput = {
  host,
  command: z
    .string()
    .min(1)
    .describe(
      "Shell command line. Runs in the session's persistent shell: `cd` and `export` carry over to later calls. Multi-line commands and here-docs work.",
    ),
  username,
  password: z
    .string()
    .optional()
    .describe(
      'Password for password or keyboard-interactive login (also tried as the passphrase of an encrypted key).',
    ),
  key_filename: z
    .string()
    .optional()
    .describe('Private key file to log in with; overrides IdentityFile from ~/.ssh/config.'),
  key_passphrase: z.string().optional().describe('Passphrase of an encrypted private key.'),
  port,
  dialect: z
    .string()
    .optional()
    .describe(
      'How to talk to the host: a dialect name from list_dialects. Detected from the host when left out. Applies when the session opens.',
    ),
  enable_password: z
    .string()
    .optional()
    .describe(
      'Enable secret for network devices: the device is brought to privileged mode before the command (and back into it if an earlier command left it).',
    ),
  enable_command: z.string().optional().describe('Command that enters privileged mode (default: enable).'),
  sudo_password: z
    .string()
    .optional()
    .describe(
      "Password for sudo, where the host's dialect supports it: the command runs with sudo (prefixed when missing) and the password only answers sudo's prompt.",
    ),
  timeout: z
    .number()
    .positive()
    .max(86_400)
    .default(30)
    .describe(
      'Seconds the command may run. Past it the command is interrupted (Ctrl+C) and the result says timedOut.',
    ),
};

const executeOutput = {
  commandId: z.string(),
  session: z.string().describe('user@host:port'),
  command: z.string(),
  dialect: z.string(),
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
    .describe('The real exit status; null when the command never finished.'),
  output: z
    .string()
    .describe(
      'Exactly what the command printed (stdout and stderr interleaved), without echo, prompt or terminal codes.',
    ),
  timedOut: z.boolean(),
  interrupted: z.boolean(),
  truncated: z.boolean().describe('True when part of the output was left out of this result.'),
  totalBytes: z.number().int().describe('Bytes the command printed in all.'),
  omittedBytes: z.number().int().describe('Bytes of output not in this result.'),
  durationMs: z.number(),
  sessionReset: z
    .boolean()
    .describe(
      'True when this ran in a new shell because the previous one was lost: earlier cd/export are gone.',
    ),
  note: z.string().optional(),
};

const sessionInfo = z.object({
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
});

const activeCommand = z.object({
  commandId: z.string(),
  session: z.string(),
  command: z.string(),
  startedAt: z.string(),
});

function ok(structured: Record<string, unknown>, text: string): CallToolResult {
  return { content: [{ type: 'text', text: redact(text) }], structuredContent: structured };
}

function failure(error: unknown): CallToolResult {
  const err = error as Error & { hint?: string };
  const message = err.hint ? `${err.message}\n${err.hint}` : err.message;
  log.info(`tool error: ${message}`);
  return { content: [{ type: 'text', text: redact(message) }], isError: true };
}

/** Turn tool parameters into a target request, remembering secrets so they are masked everywhere. */
function targetOf(args: {
  host: string;
  username?: string;
  port?: number;
  password?: string;
  key_filename?: string;
  key_passphrase?: string;
}): TargetRequest {
  registerSecret(args.password);
  registerSecret(args.key_passphrase);
  return {
    host: args.host,
    username: args.username,
    port: args.port,
    password: args.password,
    keyFilename: args.key_filename,
    keyPassphrase: args.key_passphrase,
  };
}

function statusLine(r: {
  exitCode: number | null;
  timedOut: boolean;
  interrupted: boolean;
  durationMs: number;
  session: string;
}): string {
  const status = r.timedOut ? 'timed out, interrupted' : r.interrupted ? 'interrupted' : 'finished';
  return `[${status}; exit status ${r.exitCode ?? 'none'}; ${r.durationMs} ms; ${r.session}]`;
}

export function registerTools(server: McpServer, manager: SessionManager, limits: ServerLimits): void {
  server.registerTool(
    'execute_command',
    {
      title: 'Run a command over SSH',
      description:
        'Run a command in a persistent shell on a remote host (one shell per user@host:port, reused across calls, so cd and export carry over). Returns the exact output and the real exit status. Connects on first use; hosts and keys come from ~/.ssh/config.',
      inputSchema: executeInput,
      outputSchema: executeOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        registerSecret(args.enable_password);
        registerSecret(args.sudo_password);
        const result = await manager.execute(targetOf(args), args.command, {
          timeoutMs: args.timeout * 1000,
          maxOutputBytes: limits.maxOutputBytes,
          signal: extra.signal,
          dialect: args.dialect,
          secrets: { enable: args.enable_password, sudo: args.sudo_password },
          vars: { enable_command: args.enable_command },
          privileged: args.enable_password !== undefined || args.enable_command !== undefined,
        });
        const shaped = shapeOutput(result.output, limits.maxResultBytes);
        const structured = {
          commandId: result.commandId,
          session: result.session,
          command: redact(result.command),
          dialect: result.dialect,
          ...(result.mode === undefined ? {} : { mode: result.mode }),
          ...(result.error === undefined ? {} : { error: redact(result.error) }),
          exitCode: result.exitCode,
          output: redact(shaped.output),
          timedOut: result.timedOut,
          interrupted: result.interrupted,
          truncated: shaped.truncated,
          totalBytes: result.output.totalBytes,
          omittedBytes: shaped.omittedBytes,
          durationMs: result.durationMs,
          sessionReset: result.sessionReset,
          ...(result.note === undefined ? {} : { note: result.note }),
        };
        // Everything below is built from the already masked fields: the output is not scanned twice.
        const notes = [
          structured.error ? `Error: ${structured.error}` : '',
          result.sessionReset
            ? 'Note: the connection or shell was re-established; shell state (cd, export) was reset.'
            : '',
          result.note ? `Note: ${result.note}` : '',
        ].filter(Boolean);
        const body =
          structured.output.endsWith('\n') || !structured.output
            ? structured.output
            : `${structured.output}\n`;
        const text = body + [statusLine(structured), ...notes].join('\n');
        return { content: [{ type: 'text', text }], structuredContent: structured };
      } catch (error) {
        return failure(error);
      }
    },
  );

  const addressing = {
    host: host.describe('The host (alias, name or address) of the session, or its id "user@host:port".'),
    username,
    port,
  };

  server.registerTool(
    'interrupt_command',
    {
      title: 'Interrupt the running command',
      description:
        'Send Ctrl+C to the command running in a session. The interrupted execute_command call returns at once with the output so far and exit status 130; the shell stays usable.',
      inputSchema: addressing,
      outputSchema: {
        session: z.string(),
        interrupted: z.boolean().describe('False when no command was running.'),
        commandId: z.string().optional(),
        command: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      try {
        const session = await manager.find(targetOf(args));
        if (!session) throw noSession(args.host);
        const running = session.running;
        const interrupted = session.interrupt();
        const structured = {
          session: session.id,
          interrupted,
          ...(interrupted && running
            ? { commandId: running.commandId, command: redact(running.command) }
            : {}),
        };
        return ok(
          structured,
          interrupted && running
            ? `Sent Ctrl+C to ${running.commandId} (${running.command}) on ${session.id}.`
            : `No command is running on ${session.id}; nothing was sent.`,
        );
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'get_active_commands',
    {
      title: 'List running commands',
      description: 'Commands running right now, in all sessions.',
      inputSchema: {},
      outputSchema: { commands: z.array(activeCommand) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const commands = manager.activeCommands().map((c) => ({
        commandId: c.commandId,
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
      outputSchema: { sessions: z.array(sessionInfo) },
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
      description: 'Close one session: its shell and connection end, and any running command with them.',
      inputSchema: addressing,
      outputSchema: { session: z.string(), closed: z.boolean() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const session = await manager.find(targetOf(args));
        if (!session) throw noSession(args.host);
        manager.close(session);
        return ok({ session: session.id, closed: true }, `Closed ${session.id}.`);
      } catch (error) {
        return failure(error);
      }
    },
  );

  server.registerTool(
    'close_all_sessions',
    {
      title: 'Close all SSH sessions',
      description: 'Close every open session.',
      inputSchema: {},
      outputSchema: { closed: z.array(z.string()) },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async () => {
      const closed = manager.closeAll();
      return ok({ closed }, closed.length === 0 ? 'No sessions were open.' : `Closed ${closed.join(', ')}.`);
    },
  );
}

function noSession(hostName: string): Error {
  return new Error(
    `No open session for "${hostName}". list_sessions shows the open ones (as user@host:port).`,
  );
}
