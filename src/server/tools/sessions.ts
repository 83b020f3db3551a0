import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { SessionInfo, SessionManager } from '../../session/manager.js';
import type { CloseReport } from '../../session/session.js';
import { entryRoom, listPage } from '../result-budget.js';
import { listOffset, listPaging, sessionAddress } from '../schemas.js';
import { noSession, targetOf } from '../tool-args.js';
import { addTool, resultBudget } from '../tool-result.js';

/** The session tools: list the open sessions, close one or all of them. */
export function registerSessionTools(server: McpServer, manager: SessionManager): void {
  addTool(
    server,
    'list_sessions',
    {
      title: 'List SSH sessions',
      description: 'Open SSH sessions (user@host:port), with dialect and state.',
      inputSchema: {
        offset: listOffset,
      },
      outputSchema: {
        sessions: z.array(
          z.object({
            id: z.string(),
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
        ...listPaging,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args) => {
      const all = manager.list();
      const line = (s: SessionInfo) =>
        `${s.id} (${s.dialect}, ${s.connected ? (s.busy ? 'busy' : 'idle') : 'disconnected'}, ${s.commandCount} commands)`;
      const page = listPage({
        entries: all.slice(args.offset),
        offset: args.offset,
        total: all.length,
        budget: entryRoom(resultBudget(server)),
        line,
        call: (next) => `list_sessions(offset=${next})`,
        empty: 'No open sessions.',
      });
      return { structured: { sessions: page.shown, ...page.paging }, text: page.text };
    },
  );

  addTool(
    server,
    'close_session',
    {
      title: 'Close an SSH session',
      description: 'Close a session: Ctrl+C its command, end what it started on the host, close the shell.',
      inputSchema: sessionAddress,
      outputSchema: {
        session: z.string(),
        closed: z.boolean(),
        stopped: z.string().optional().describe('The command stopped.'),
        problems: z.array(z.string()).optional().describe('What could not be stopped.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const session = await manager.find(targetOf(args));
      if (!session) throw noSession(args.host);
      const report = await manager.close(session);
      return {
        structured: {
          session: session.id,
          closed: true,
          ...(report.stopped && { stopped: report.stopped }),
          ...(report.problems.length > 0 && { problems: report.problems }),
        },
        text: [`Closed ${session.id}.`, ...closeNotes(report)].join('\n'),
      };
    },
  );

  addTool(
    server,
    'close_all_sessions',
    {
      title: 'Close all SSH sessions',
      description: 'Close every session, as close_session does.',
      inputSchema: {},
      outputSchema: {
        closed: z.array(z.string()),
        problems: z.array(z.string()).optional().describe('What could not be stopped.'),
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
      return { structured: { closed, ...(problems.length > 0 && { problems }) }, text };
    },
  );
}

function closeNotes(report: CloseReport): string[] {
  return [
    ...(report.stopped ? [`Stopped ${report.stopped}.`] : []),
    ...report.problems.map((p) => `Not done: ${p}`),
  ];
}
