// Phase 4: the server's resident memory (VmRSS) at rest, per idle session, with large outputs, and after
// those outputs were read and their sessions closed.
import { tokenCommand } from '../actions.js';
import {
  CALL_GRACE_MS,
  IDLE_SESSION_KB_MAX,
  LARGE_OUTPUT_BYTES,
  RSS_RETURN_MB,
  SETTLE_MS,
} from '../config.js';
import { finishServer } from '../leftovers.js';
import {
  type Bound,
  type Ctx,
  type PhaseResult,
  printLeftovers,
  printTally,
  serverFor,
  targets,
} from '../phase.js';
import { Tally } from '../tally.js';
import { connection, sleep, type Target } from '../target.js';
import { answered, type Judge, readStatus } from '../verdict.js';

/** Sessions opened at once while filling up: many, without a connect storm on two cores. */
const OPEN_CONCURRENCY = 10;

export async function memoryPhase(ctx: Ctx): Promise<PhaseResult> {
  const t0 = Date.now();
  const { idleSessions, largeOutputs } = ctx.sizes.memory;
  const mb = (LARGE_OUTPUT_BYTES / 1e6).toFixed(0);
  console.log(
    `\n== 4. memory: ${idleSessions} idle sessions, then ${largeOutputs} commands printing ${mb} MB each`,
  );
  const server = await serverFor(ctx, 'memory');
  const tally = new Tally('memory');
  const j: Judge = { server, tally };
  const rss = async () => {
    await sleep(SETTLE_MS);
    return server.rssKb();
  };
  const list = targets(ctx, idleSessions);
  const start = await rss();

  // One session opened and closed first, so the code and buffers every session needs are loaded.
  await tokenCommand({ j, target: list[0] as Target }, 30);
  await closeAll(j);
  const warm = await rss();

  for (let i = 0; i < list.length; i += OPEN_CONCURRENCY) {
    await Promise.all(list.slice(i, i + OPEN_CONCURRENCY).map((target) => tokenCommand({ j, target }, 30)));
  }
  const idle = await rss();
  const perSessionKb = (idle - warm) / list.length;

  let intact = 0;
  for (const target of list.slice(0, largeOutputs)) if (await largeOutput(j, target)) intact++;
  const large = await rss();
  const perOutputMb = (large - idle) / largeOutputs / 1024;

  await closeAll(j);
  const closed = await rss();
  // Information: ten small commands push the large outputs out of the server's output history.
  for (let i = 0; i < 10; i++) await tokenCommand({ j, target: list[0] as Target }, 30);
  const pushed = await rss();

  tally.settle();
  const leftovers = await finishServer(server, { port: ctx.fleet.port, uid: ctx.fleet.uid });
  const m = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  console.log(`  RSS at start ${m(start)}; after one session opened and closed ${m(warm)}`);
  console.log(`  with ${list.length} idle sessions ${m(idle)}: ${perSessionKb.toFixed(0)} KB per session`);
  console.log(
    `  after ${largeOutputs} x ${mb} MB read to the end (${intact} byte-exact) ${m(large)}: ${perOutputMb.toFixed(1)} MB per output`,
  );
  console.log(`  after close_all_sessions ${m(closed)} (${m(closed - start)} over the start)`);
  console.log(
    `  after 10 more small commands (information) ${m(pushed)} (${m(pushed - start)} over the start)`,
  );
  printTally(tally);
  printLeftovers(leftovers);
  if (intact < largeOutputs)
    tally.problem('lost', `${largeOutputs - intact} large outputs did not read back whole`);
  const bounds: Bound[] = [
    {
      label: `RSS per idle session <= ${IDLE_SESSION_KB_MAX} KB`,
      measured: `${perSessionKb.toFixed(0)} KB`,
      ok: perSessionKb <= IDLE_SESSION_KB_MAX,
    },
    {
      label: `RSS back within ${RSS_RETURN_MB} MB of the start after the large outputs`,
      measured: `${m(closed - start)} over (${m(start)} -> ${m(closed)}); ${perOutputMb.toFixed(1)} MB per ${mb} MB output`,
      ok: closed - start <= RSS_RETURN_MB * 1024,
    },
  ];
  return { name: 'memory', tally, leftovers, bounds, elapsedMs: Date.now() - t0 };
}

async function closeAll(j: Judge): Promise<void> {
  j.tally.called('close_all_sessions');
  const call = await j.server.call('close_all_sessions', {}, CALL_GRACE_MS);
  if (answered(j, { command: 'close_all_sessions' }, call) && call.result.isError)
    j.tally.problem('unexplained', `close_all_sessions failed: ${JSON.stringify(call.result.content)}`);
}

/**
 * A command printing LARGE_OUTPUT_BYTES of `x`, then its whole output paged through get_command_status and
 * checked without keeping it (this process's memory is not the one measured, but stays small anyway).
 */
async function largeOutput(j: Judge, target: Target): Promise<boolean> {
  const command = `head -c ${LARGE_OUTPUT_BYTES} /dev/zero | tr '\\0' x`;
  const exp = { target, command, output: '', sentAt: Date.now() };
  j.tally.called('execute_command');
  const call = await j.server.call(
    'execute_command',
    { ...connection(target), command, timeout: 60 },
    60_000 + CALL_GRACE_MS,
  );
  if (!answered(j, exp, call)) return false;
  const s = call.result.structuredContent as { commandId?: string; status?: string } | undefined;
  if (call.result.isError || !s?.commandId) {
    j.tally.problem('unexplained', `${command}: ${JSON.stringify(call.result.content).slice(0, 300)}`);
    return false;
  }
  let offset = 0;
  let bytes = 0;
  let clean = true;
  for (let pages = 0; pages < 200; pages++) {
    const page = await readStatus(j, exp, s.commandId, offset);
    if (!page) return false;
    bytes += page.output.length;
    clean &&= !/[^x]/.test(page.output);
    offset = page.nextOffset;
    if (page.complete) break;
    if (offset >= page.totalBytes) await sleep(200);
  }
  if (bytes === LARGE_OUTPUT_BYTES && clean) {
    j.tally.ok('completed');
    return true;
  }
  j.tally.problem(
    'lost',
    `${s.commandId}: read ${bytes} bytes${clean ? '' : ' with other than x'}, expected ${LARGE_OUTPUT_BYTES}`,
  );
  return false;
}
