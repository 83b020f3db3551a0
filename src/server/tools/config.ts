import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ConfigResult, ConfigState, OperationResult } from '../../session/config-change.js';
import type { ConfigRunRequest, SessionManager } from '../../session/manager.js';
import { host, port, username } from '../schemas.js';
import type { SecretPrompter } from '../secret-prompt.js';
import { secretAsker, targetOf } from '../tool-args.js';
import { addTool, type Extra } from '../tool-result.js';

/** What the deployment decides about configuration changes (the config file's `config_changes`). */
export interface ConfigToolOptions {
  /** Without a client that can ask the user, commits must be commit confirmed. Default true. */
  requireConfirmMinutes?: boolean;
  stepTimeoutMs?: number;
}

const STEP_TIMEOUT_MS = 120_000;
/** The longest diff shown in the question to the user; the whole one is in the result. */
const ASK_DIFF_CHARS = 20_000;

/** The device: inventory name, alias, address or session id user@host:port (described once, in configure). */
const address = { host: z.string().min(1).max(1024) };

const OUTCOMES = [
  'committed',
  'pending_confirm',
  'dry_run',
  'no_change',
  'rejected',
  'declined',
  'cancelled',
] as const;

/** Fields every configuration tool answers with (kept short: tools/list is read on every turn). */
const where = { session: z.string() };
const note = z.string().optional();
const output = z.string().optional();

/**
 * The configuration tools: configure (a change through the device's candidate, diff and commit),
 * confirm_commit, discard_changes, rollback and get_config_state. What each sends comes from the host's
 * dialect (config_session); the session layer's ConfigChange runs it.
 */
export function registerConfigTools(
  server: McpServer,
  manager: SessionManager,
  prompter: SecretPrompter,
  options: ConfigToolOptions = {},
): void {
  const stepTimeoutMs = options.stepTimeoutMs ?? STEP_TIMEOUT_MS;
  const runOf = (args: { host: string; dialect?: string }, extra: Extra): ConfigRunRequest => {
    return {
      stepTimeoutMs,
      ...(args.dialect !== undefined && { dialect: args.dialect }),
      askSecret: secretAsker(prompter, args.host, stepTimeoutMs, extra.signal),
    };
  };
  // A client that declares elicitation with no modes named asks in form mode (MCP 2025-06-18).
  const canAsk = () => {
    const elicitation = server.server.getClientCapabilities()?.elicitation;
    return (
      elicitation !== undefined && (elicitation.form !== undefined || Object.keys(elicitation).length === 0)
    );
  };

  /** Form elicitation: the user sees the diff and says yes or no. No secret is asked here. */
  const askUser = (host: string, extra: Extra) => async (diff: string) => {
    const shown =
      diff.length > ASK_DIFF_CHARS
        ? `${diff.slice(0, ASK_DIFF_CHARS)}\n[… ${diff.length - ASK_DIFF_CHARS} more characters]`
        : diff;
    try {
      const answer = await server.server.elicitInput(
        {
          mode: 'form',
          message: `Commit this configuration change on ${host}?\n\n${shown}`,
          requestedSchema: {
            type: 'object',
            properties: {
              commit: {
                type: 'boolean',
                title: 'Commit',
                description: 'Yes: commit the change. No: discard it.',
              },
            },
            required: ['commit'],
          },
        },
        { signal: extra.signal, timeout: 10 * 60_000 },
      );
      if (answer.action === 'accept' && answer.content?.commit === true) return { approved: true };
      return {
        approved: false,
        why: `the user did not approve the commit (${answer.action}); it was discarded`,
      };
    } catch (error) {
      return {
        approved: false,
        why: `asking the user failed (${(error as Error).message}); the change was discarded`,
      };
    }
  };

  addTool(
    server,
    'configure',
    {
      title: 'Change a device configuration',
      description:
        "Apply configuration lines in the device's candidate (or under a checkpoint); the first rejected line stops and discards it. Returns the device's diff, committed lines, commit id or checkpoint. dry_run: diff only. confirm_minutes: rolls back unless confirm_commit.",
      inputSchema: {
        host,
        username,
        port,
        dialect: z.string().optional(),
        lines: z.array(z.string().min(1).max(4096)).min(1).max(10_000),
        dry_run: z.boolean().optional(),
        confirm_minutes: z.number().int().min(1).max(1440).optional(),
        comment: z.string().max(512).optional(),
        line_by_line: z.boolean().optional().describe('Only if the user asked: no candidate, no undo.'),
      },
      outputSchema: {
        ...where,
        outcome: z.enum(OUTCOMES),
        diff: output,
        committed: z.array(z.string()).optional(),
        commitId: output,
        checkpoint: output,
        confirmMinutes: z.number().int().optional(),
        rejected: z.object({ index: z.number().int(), line: z.string(), error: z.string() }).optional(),
        note,
      },
      annotations: { readOnlyHint: false, destructiveHint: true },
    },
    async (args, extra) => {
      const commits = !args.dry_run;
      const ask = commits && canAsk();
      if (commits && !ask && args.confirm_minutes === undefined && options.requireConfirmMinutes !== false) {
        throw new Error(
          'this client cannot ask the user to approve a commit, so this server commits only with confirm_minutes (the device rolls back by itself unless confirm_commit follows); give confirm_minutes, or dry_run to see the diff first. The deployment can allow plain commits (config_changes.require_confirm_minutes: false)',
        );
      }
      const comment = args.comment === '' ? undefined : args.comment;
      const { value, session, sessionReset } = await manager.configChange(
        targetOf(args),
        runOf(args, extra),
        'configure',
        args.lines,
        (change) =>
          change.configure({
            lines: args.lines,
            ...(args.dry_run !== undefined && { dryRun: args.dry_run }),
            ...(args.confirm_minutes !== undefined && { confirmMinutes: args.confirm_minutes }),
            ...(comment !== undefined && { comment }),
            ...(args.line_by_line !== undefined && { lineByLine: args.line_by_line }),
            ...(ask && { approve: askUser(args.host, extra) }),
            signal: extra.signal,
          }),
        (r) => ({
          outcome: r.outcome,
          lines: r.committed.length > 0 ? r.committed : args.lines,
          ...(r.diff && { diff: r.diff }),
          ...(r.commitId !== undefined && { commitId: r.commitId }),
          ...(r.checkpoint !== undefined && { checkpoint: r.checkpoint }),
          ...(r.confirmMinutes !== undefined && { confirmMinutes: r.confirmMinutes }),
          ...(comment !== undefined && { comment }),
          ...(r.rejected && { rejectedLine: r.rejected.index }),
        }),
      );
      return configureReply(value, session, sessionReset);
    },
  );

  addTool(
    server,
    'confirm_commit',
    {
      title: 'Confirm a commit',
      description: 'Keep a change made with confirm_minutes (stops its rollback timer).',
      inputSchema: address,
      outputSchema: { ...where, output, note },
      annotations: { readOnlyHint: false, destructiveHint: false },
    },
    async (args, extra) => {
      const done = await manager.configChange(
        targetOf(args),
        runOf(args, extra),
        'confirm_commit',
        [],
        (change) => change.confirm(),
        () => ({ outcome: 'confirmed' }),
      );
      return operationReply(done, 'Confirmed: the device keeps the change.');
    },
  );

  addTool(
    server,
    'discard_changes',
    {
      title: 'Discard an uncommitted change',
      description:
        'Drop an uncommitted candidate configuration (left by an interrupted change or another user).',
      inputSchema: address,
      outputSchema: { ...where, discarded: z.boolean(), output: z.string().optional(), note },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args, extra) => {
      const done = await manager.configChange(
        targetOf(args),
        runOf(args, extra),
        'discard_changes',
        [],
        (change) => change.discard(),
        (r) => ({ outcome: r.discarded ? 'discarded' : 'nothing_pending' }),
      );
      const reply = operationReply(done, done.value.discarded ? 'Discarded.' : 'Nothing to discard.');
      return { ...reply, structured: { ...reply.structured, discarded: done.value.discarded } };
    },
  );

  addTool(
    server,
    'rollback',
    {
      title: 'Roll back a change',
      description: 'Undo the last committed change, or return to a named checkpoint.',
      inputSchema: { ...address, checkpoint: z.string().max(128).optional() },
      outputSchema: { ...where, checkpoint: z.string(), output, note },
      annotations: { readOnlyHint: false, destructiveHint: true },
    },
    async (args, extra) => {
      const done = await manager.configChange(
        targetOf(args),
        runOf(args, extra),
        'rollback',
        [],
        (change) => change.rollback(args.checkpoint),
        (r) => ({ outcome: 'rolled_back', checkpoint: r.checkpoint, ...(r.output && { diff: r.output }) }),
      );
      const reply = operationReply(done, `Rolled back to ${done.value.checkpoint}.`);
      return { ...reply, structured: { ...reply.structured, checkpoint: done.value.checkpoint } };
    },
  );

  addTool(
    server,
    'get_config_state',
    {
      title: 'Pending configuration state',
      description:
        'Whether an uncommitted candidate or a commit-confirmed timer is pending on a device, with the diff.',
      inputSchema: address,
      outputSchema: {
        ...where,
        pendingConfirm: z.boolean(),
        pendingCandidate: z.boolean(),
        details: z.record(z.string(), z.string()).optional(),
        diff: z.string().optional(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args, extra) => {
      const { value, session } = await manager.configChange(
        targetOf(args),
        runOf(args, extra),
        'state',
        [],
        (change) => change.state(),
        undefined,
      );
      return stateReply(value, session);
    },
  );
}

function configureReply(r: ConfigResult, session: string, sessionReset: boolean) {
  const notes = [...r.notes, ...(sessionReset ? ['a new connection was opened for this change'] : [])];
  const structured = {
    session,
    outcome: r.outcome,
    ...(r.diff && { diff: r.diff }),
    ...(r.committed.length > 0 && { committed: r.committed }),
    ...(r.commitId !== undefined && { commitId: r.commitId }),
    ...(r.checkpoint !== undefined && { checkpoint: r.checkpoint }),
    ...(r.confirmMinutes !== undefined && { confirmMinutes: r.confirmMinutes }),
    ...(r.rejected && { rejected: r.rejected }),
    ...(notes.length > 0 && { note: notes.join('; ') }),
  };
  const head: Record<(typeof OUTCOMES)[number], string> = {
    committed: `Committed ${r.committed.length} line(s)`,
    pending_confirm: `Committed ${r.committed.length} line(s); rolls back in ${r.confirmMinutes} min unless confirm_commit`,
    dry_run: 'Dry run: the change was shown and discarded',
    no_change: 'No change: the device configuration already says this; nothing committed',
    rejected: `Rejected at line ${r.rejected?.index}: ${r.rejected?.line}\nDevice: ${r.rejected?.error}\nNothing after it was sent; the change was discarded`,
    declined: 'Not approved: the change was discarded',
    cancelled: 'Cancelled: the change was discarded',
  };
  const ids = [
    r.commitId !== undefined ? `commit id ${r.commitId}` : '',
    r.checkpoint !== undefined ? `checkpoint ${r.checkpoint}` : '',
  ].filter(Boolean);
  const text = [
    `${head[r.outcome]} [${session}${ids.length > 0 ? `; ${ids.join('; ')}` : ''}]`,
    r.diff ? `Diff:\n${r.diff}` : '',
    structured.note ? `Note: ${structured.note}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { structured, text };
}

function operationReply(
  done: { value: OperationResult; session: string; dialect: string },
  headline: string,
) {
  const { value, session } = done;
  const structured = {
    session,
    ...(value.output && { output: value.output }),
    ...(value.notes.length > 0 && { note: value.notes.join('; ') }),
  };
  const text = [`${headline} [${session}]`, value.output, structured.note ? `Note: ${structured.note}` : '']
    .filter(Boolean)
    .join('\n');
  return { structured, text };
}

function stateReply(state: ConfigState, session: string) {
  const hasDetails = Object.keys(state.details).length > 0;
  const structured = {
    session,
    pendingConfirm: state.pendingConfirm,
    pendingCandidate: state.pendingCandidate,
    ...(hasDetails && { details: state.details }),
    ...(state.diff && { diff: state.diff }),
  };
  const lines = [
    state.pendingConfirm
      ? `A commit is waiting for confirmation${
          hasDetails
            ? ` (${Object.entries(state.details)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')})`
            : ''
        }: confirm_commit keeps it; otherwise the device rolls it back.`
      : 'No commit is waiting for confirmation.',
    state.pendingCandidate
      ? 'An uncommitted change is pending (discard_changes drops it).'
      : 'No uncommitted change.',
    state.diff ? `Diff:\n${state.diff}` : '',
  ];
  return { structured, text: `${lines.filter(Boolean).join('\n')} [${session}]` };
}
