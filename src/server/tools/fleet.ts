import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ServerLimits } from '../../config/limits.js';
import type { LoadedConfig } from '../../config/load.js';
import { selectTargets } from '../../config/targets.js';
import { shapeOutput } from '../../expect/output.js';
import {
  type Fanout,
  FanoutRegistry,
  groupResults,
  type HostResult,
  type OutputGroup,
} from '../../session/fanout.js';
import type { SessionManager } from '../../session/manager.js';
import { redact } from '../../util/secrets.js';
import { outputOf, statusText } from '../command-view.js';
import { throttledProgress } from '../progress.js';
import { clip, contentRoom, entryRoom, jsonBytes } from '../result-budget.js';
import { cancellation } from '../tool-args.js';
import { addTool } from '../tool-result.js';

/**
 * A fan-out result is read by a model with many other things in its context: it stays under this many
 * bytes per block (or the server's budget, if smaller) however many hosts answered. One copy of each
 * distinct output; each host's own output stays readable by its command id.
 */
export const FANOUT_RESULT_BYTES = 20_000;
/** A distinct output gets at least this much room, or is left out (its hosts and command id stay). */
const MIN_SHARE = 600;
/** A group's list of host names takes at most this many bytes; the rest are counted. */
const HOST_LIST_BYTES = 1500;
/** A failure's message is clipped to this many characters in the summary. */
const ERROR_CHARS = 240;

/**
 * What a fan-out answers. tools/list is read on every turn, so the output schema names the main fields
 * only; the rest (counts, failed; exitCode, truncated, totalBytes and moreHosts of a group; moreGroups,
 * moreFailed, waitingOn, note) are there when they say something, and the text block says the same.
 */
const summaryOutput = {
  fanoutId: z.string(),
  status: z.string().describe('running, completed, cancelled'),
  groups: z
    .array(z.object({ hosts: z.array(z.string()), commandId: z.string(), output: z.string() }))
    .optional(),
};

/** get_fanout_status and cancel_fanout answer the same fields, or one host's: named once, above. */
const briefOutput = { fanoutId: z.string(), status: z.string() };

/** One set of hosts that printed the same, as a result shows it (tests read results with these). */
export type FanoutGroup = {
  hosts: string[];
  moreHosts?: number;
  exitCode: number | null;
  commandId: string;
  output: string;
  truncated?: boolean;
  totalBytes: number;
};
export type FanoutFailed = { host: string; failure: string; error?: string; commandId?: string };

/** Letters for the distinct outputs: A..Z, then AA, AB, ... */
function label(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : label(Math.floor(i / 26) - 1) + label(i % 26);
}

/** As many names as fit `bytes`, and how many were left out. */
function someNames(names: readonly string[], bytes: number): { shown: string[]; more: number } {
  const shown: string[] = [];
  let used = 2;
  for (const name of names) {
    const cost = jsonBytes(name) + 1;
    if (used + cost > bytes && shown.length > 0) break;
    shown.push(name);
    used += cost;
  }
  return { shown, more: names.length - shown.length };
}

/** One registry per manager: a user's fan-outs outlive the MCP session (HTTP) that started them. */
const registries = new WeakMap<SessionManager, FanoutRegistry>();

export function registerFleetTools(
  server: McpServer,
  manager: SessionManager,
  limits: ServerLimits,
  config: LoadedConfig | undefined,
): void {
  let fanouts = registries.get(manager);
  if (!fanouts) {
    fanouts = new FanoutRegistry(manager);
    registries.set(manager, fanouts);
  }
  const budget = Math.min(limits.maxResultBytes, FANOUT_RESULT_BYTES);

  const fanoutOf = (id: string | undefined): Fanout => {
    const fanout = id === undefined ? fanouts.latest() : fanouts.get(id);
    if (!fanout) throw new Error(id === undefined ? 'No fan-out has run yet.' : fanouts.whyUnknown(id));
    return fanout;
  };

  /** The summary of a fan-out as far as it got, within the budget. */
  const summaryReply = async (fanout: Fanout, notes: string[] = []) => {
    const counts = fanout.counts();
    const groups = groupResults(fanout.results);
    const failedHosts = fanout.results.filter((r) => r.state === 'failed');
    const waiting = fanout.results.filter((r) => r.state === 'running' || r.state === 'pending');
    const room = entryRoom(budget);

    const failedEntries = failedHosts.map((r) => ({
      host: r.host,
      failure: r.failure ?? 'error',
      ...(r.error !== undefined && { error: clip(redact(r.error).replace(/\s+/g, ' '), ERROR_CHARS) }),
      ...(r.commandId !== undefined && { commandId: r.commandId }),
    }));
    // Failures get at most a third of the room; hosts past it are counted.
    let failedShown = failedEntries;
    while (failedShown.length > 1 && jsonBytes(failedShown) > room / 3) {
      failedShown = failedShown.slice(0, Math.ceil(failedShown.length * 0.75));
    }
    const waitingOn =
      waiting.length > 0
        ? someNames(
            waiting.map((r) => r.host),
            HOST_LIST_BYTES,
          )
        : undefined;
    const groupHeads = groups.map((g) => {
      const names = someNames(
        g.hosts.map((h) => h.host),
        HOST_LIST_BYTES,
      );
      return {
        group: g,
        hosts: names.shown,
        ...(names.more > 0 && { moreHosts: names.more }),
        exitCode: g.exitCode,
        commandId: g.hosts[0]?.commandId as string,
      };
    });
    const fixed = {
      fanoutId: fanout.id,
      status: fanout.status,
      command: fanout.command,
      counts,
      durationMs: 0,
      groups: [],
      failed: failedShown,
      moreFailed: 0,
      moreGroups: 0,
      waitingOn: waitingOn?.shown,
      note: 'x'.repeat(400),
    };
    // Room for the groups, each block (text and structured) carrying each shown output once: as many
    // groups as fit with MIN_SHARE of output each (at least one), then their outputs share what is left.
    const headCost = (head: (typeof groupHeads)[number]) =>
      jsonBytes({ ...head, group: undefined, output: '', totalBytes: 0, truncated: true }) + 60;
    let outputRoom = contentRoom(budget, fixed);
    let shown = 0;
    while (shown < groupHeads.length) {
      const cost = headCost(groupHeads[shown] as (typeof groupHeads)[number]);
      if (shown > 0 && cost + MIN_SHARE * (shown + 1) > outputRoom) break;
      outputRoom -= cost;
      shown++;
    }
    const shownGroups: FanoutGroup[] = [];
    for (const [i, head] of groupHeads.slice(0, shown).entries()) {
      // What one output leaves unused goes to the next.
      const share = Math.floor(outputRoom / (shown - i));
      const rendered = await groupOutput(head.group, Math.max(share, MIN_SHARE));
      outputRoom -= jsonBytes(rendered.output);
      const { group: _g, ...rest } = head;
      shownGroups.push({ ...rest, ...rendered });
    }
    const moreGroups = groupHeads.length - shownGroups.length;
    const anyTruncated = shownGroups.some((g) => g.truncated);
    const allNotes = [
      ...notes,
      moreGroups > 0
        ? `${moreGroups} more distinct outputs left out: get_fanout_status(fanout_id="${fanout.id}", host=NAME) shows any host's`
        : '',
      anyTruncated ? 'outputs cut: get_command_status(command_id) reads one in full' : '',
      failedShown.length < failedEntries.length
        ? `${failedEntries.length - failedShown.length} more failed hosts left out: get_fanout_status(fanout_id="${fanout.id}", host=NAME) shows one`
        : '',
      fanout.finished
        ? ''
        : `still running: get_fanout_status(fanout_id="${fanout.id}") shows what finished since; cancel_fanout stops it`,
    ].filter(Boolean);
    const note = allNotes.join('; ');
    const durationMs = Math.round((fanout.finishedAt ?? new Date()).getTime() - fanout.startedAt.getTime());
    const structured = {
      fanoutId: fanout.id,
      status: fanout.status,
      command: fanout.command,
      counts: {
        hosts: counts.hosts,
        ok: counts.ok,
        failed: counts.failed,
        ...(counts.running > 0 && { running: counts.running }),
        ...(counts.pending > 0 && { pending: counts.pending }),
      },
      durationMs,
      groups: shownGroups,
      ...(moreGroups > 0 && { moreGroups }),
      ...(failedShown.length > 0 && { failed: failedShown }),
      ...(failedShown.length < failedEntries.length && {
        moreFailed: failedEntries.length - failedShown.length,
      }),
      ...(waitingOn && { waitingOn: waitingOn.shown }),
      ...(note && { note }),
    };
    return { structured, text: summaryText(structured, groups.length, waitingOn?.more ?? 0), budget };
  };

  /** One copy of a group's output, within `room` bytes. */
  const groupOutput = async (group: OutputGroup, room: number) => {
    const record = manager.command(group.hosts[0]?.commandId ?? '');
    if (!record || record.outputGone !== undefined) {
      return { output: '', truncated: true, totalBytes: group.hosts[0]?.bytes ?? 0 };
    }
    const shaped = shapeOutput(await record.output.capture(), room);
    return {
      output: shaped.output.replace(/\s+$/, ''),
      ...(shaped.truncated && { truncated: true }),
      totalBytes: record.output.totalBytes,
    };
  };

  /** One host's part in a fan-out: how it ended, and its output. */
  const hostReply = async (fanout: Fanout, result: HostResult) => {
    const record = result.commandId === undefined ? undefined : manager.command(result.commandId);
    const head = {
      fanoutId: fanout.id,
      host: result.host,
      state: result.state,
      ...(result.failure && { failure: result.failure }),
      ...(result.error !== undefined && { error: result.error }),
      ...(record && {
        commandId: record.id,
        status: record.status,
        exitCode: record.outcome?.exitCode ?? null,
      }),
    };
    if (!record) {
      const why = result.error ? `: ${result.failure}: ${result.error}` : ` (${result.state})`;
      return { structured: head, text: `${result.host} in ${fanout.id}${why}` };
    }
    const shaped = await outputOf(record, contentRoom(budget, head), (r) => manager.commands.markRead(r));
    const structured = {
      ...head,
      output: shaped.output,
      ...(shaped.truncated && { truncated: true }),
      totalBytes: record.output.totalBytes,
      ...('note' in shaped && shaped.note && { note: shaped.note }),
    };
    const body = shaped.output.endsWith('\n') || !shaped.output ? shaped.output : `${shaped.output}\n`;
    return {
      structured,
      text: `${body}[${result.host} in ${fanout.id}: ${record.id} ${statusText(record)}${structured.note ? `; ${structured.note}` : ''}]`,
      budget,
    };
  };

  addTool(
    server,
    'execute_on_hosts',
    {
      title: 'Run a command on many hosts',
      description:
        'Run a command on many hosts, each in its own session, policy and dialect. Answers each distinct output once with its hosts, failed hosts with why (counts, groups, failed). Past max_wait it runs on.',
      inputSchema: {
        targets: z
          .array(z.string().min(1).max(1024))
          .min(1)
          .describe('Hosts, group:X, tag:X, dialect:X, or a name glob (core-*).'),
        command: z.string().min(1),
        concurrency: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe(
            `Hosts at once (default ${limits.fanoutConcurrency}, max ${limits.maxFanoutConcurrency}).`,
          ),
        timeout: z.number().positive().max(86_400).default(30).describe('Seconds per host, then Ctrl+C.'),
      },
      outputSchema: summaryOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      const selection = selectTargets(args.targets, config?.inventory);
      if (selection.hosts.length === 0) {
        throw new Error(`${args.targets.join(', ')} selects no host; list_hosts shows the inventory`);
      }
      const notes: string[] = [];
      if (selection.empty.length > 0) notes.push(`${selection.empty.join(', ')} matched no host`);
      const asked = args.concurrency ?? limits.fanoutConcurrency;
      const concurrency = Math.min(asked, limits.maxFanoutConcurrency);
      if (asked > concurrency) notes.push(`concurrency capped at ${concurrency} (max_fanout_concurrency)`);
      // The first host at once, then the hosts finished so far, how many failed and the last one's result.
      // Not one per host: on open sessions 500 hosts end within a second or two.
      const progress = throttledProgress(extra);
      const total = selection.hosts.length;
      const fanout = fanouts.start(args.command, selection.hosts, {
        concurrency,
        hostTimeoutMs: args.timeout * 1000,
        onHostDone: (result, f) => {
          const { done, failed } = f.progress;
          progress.update(done, total, () => {
            const how = result.state === 'ok' ? 'ok' : (result.failure ?? 'error');
            return `${done}/${total} hosts finished${failed > 0 ? `, ${failed} failed` : ''}; last ${result.host}: ${how}`;
          });
        },
      });
      const { signal, stopWaiting } = cancellation(extra.signal);
      const onCancel = () => fanout.cancel();
      signal?.addEventListener('abort', onCancel, { once: true });
      try {
        await fanout.settle(limits.maxWaitMs, stopWaiting);
      } finally {
        signal?.removeEventListener('abort', onCancel);
        await progress.end();
      }
      return summaryReply(fanout, notes);
    },
  );

  addTool(
    server,
    'get_fanout_status',
    {
      title: 'Status of a fan-out',
      description:
        "A fan-out's results so far, as execute_on_hosts gives them; with host, that host's state, failure, commandId and output.",
      inputSchema: {
        fanout_id: z.string().min(1).max(64).optional().describe('Default: the newest.'),
        host: z.string().min(1).max(1024).optional(),
        wait: z.number().min(0).max(600).default(0).describe('Seconds to wait for the end.'),
      },
      outputSchema: briefOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      const fanout = fanoutOf(args.fanout_id);
      if (args.wait > 0) await fanout.settle(Math.min(args.wait * 1000, limits.maxWaitMs), extra.signal);
      if (args.host === undefined) return summaryReply(fanout);
      const result = fanout.results.find((r) => r.host === args.host);
      if (!result)
        throw new Error(`${args.host} is not one of ${fanout.id}'s ${fanout.results.length} hosts`);
      const reply = await hostReply(fanout, result);
      return { ...reply, structured: { status: fanout.status, ...reply.structured } };
    },
  );

  addTool(
    server,
    'cancel_fanout',
    {
      title: 'Stop a fan-out',
      description: 'Stop a fan-out: hosts not started are skipped, running ones get Ctrl+C.',
      inputSchema: { fanout_id: z.string().min(1).max(64) },
      outputSchema: briefOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      const fanout = fanoutOf(args.fanout_id);
      const cancelled = fanout.cancel();
      // The interrupts take the dialect's grace: wait for them, within max_wait.
      await fanout.settle(limits.maxWaitMs);
      return summaryReply(fanout, [cancelled ? 'cancelled' : `it had already ${fanout.status}`]);
    },
  );
}

type Summary = {
  fanoutId: string;
  status: string;
  counts: { hosts: number; ok: number; failed: number; running?: number; pending?: number };
  durationMs: number;
  groups: FanoutGroup[];
  failed?: FanoutFailed[];
  moreFailed?: number;
  waitingOn?: string[];
  note?: string;
};

/** The text block: counts first, then each distinct output once with its hosts, then the failures. */
function summaryText(s: Summary, distinct: number, moreWaiting: number): string {
  const c = s.counts;
  const unfinished = (c.running ?? 0) + (c.pending ?? 0);
  const lines = [
    `${s.fanoutId} ${s.status}: ${c.ok} of ${c.hosts} hosts ok, ${c.failed} failed${unfinished > 0 ? `, ${unfinished} not finished` : ''}; ${distinct} distinct output${distinct === 1 ? '' : 's'}; ${s.durationMs} ms.`,
  ];
  s.groups.forEach((g, i) => {
    const hosts = `${g.hosts.join(', ')}${g.moreHosts ? ` and ${g.moreHosts} more` : ''}`;
    const exit = g.exitCode === 0 ? '' : `, exit ${g.exitCode ?? 'none'}`;
    const count = g.hosts.length + (g.moreHosts ?? 0);
    lines.push(
      `== Output ${label(i)} (${count} host${count === 1 ? '' : 's'}${exit}; ${g.commandId}${g.truncated ? `, cut from ${g.totalBytes} bytes` : ''}): ${hosts}`,
    );
    lines.push(g.output === '' ? '(no output)' : g.output);
  });
  if (s.failed && s.failed.length > 0) {
    lines.push(`== Failed (${c.failed}):`);
    for (const f of s.failed) {
      lines.push(
        `${f.host}: ${f.failure}${f.error ? `: ${f.error}` : ''}${f.commandId ? ` [${f.commandId}]` : ''}`,
      );
    }
  }
  if (s.waitingOn && s.waitingOn.length > 0) {
    lines.push(
      `== Not finished: ${s.waitingOn.join(', ')}${moreWaiting > 0 ? ` and ${moreWaiting} more` : ''}`,
    );
  }
  if (s.note) lines.push(`[${s.note}]`);
  return lines.join('\n');
}
