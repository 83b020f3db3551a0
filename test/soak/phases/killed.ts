// Phase 2: the sshd processes of some sessions are killed while commands run there (a dropped connection).
// Each affected command must end `failed` with a cause that names the lost connection, and the next call
// on the session must work again, with the reset flagged.
import { tokenCommand } from '../actions.js';
import { CALL_GRACE_MS, KILL_DETECT_MS } from '../config.js';
import { finishServer } from '../leftovers.js';
import { type Ctx, type PhaseResult, printLeftovers, printTally, serverFor, targets } from '../phase.js';
import { kill, tcpConnections, withDescendants } from '../procs.js';
import { type Call, textOf } from '../server.js';
import { Tally } from '../tally.js';
import { connection, sleep, type Target, token } from '../target.js';
import { answered, type ExecuteResult, type Expectation, type Judge, readStatus } from '../verdict.js';

const MODES = ['foreground', 'background', 'async', 'idle'] as const;
type Mode = (typeof MODES)[number];
/** What a cause must mention to say the connection (or its shell) was lost. */
const CONNECTION_CAUSE = /connection|shell|ssh|disconnect/i;

interface Victim {
  target: Target;
  mode: Mode;
  exp: Expectation;
  /** The execute_command call still waiting (foreground). */
  pending?: Promise<Call>;
  commandId?: string;
}

interface Ending {
  status: string;
  cause?: string;
  text: string;
  at: number;
}

export async function killedPhase(ctx: Ctx): Promise<PhaseResult> {
  const t0 = Date.now();
  const n = ctx.sizes.killed.sessions;
  console.log(
    `\n== 2. killed connections: ${n} sessions; their sshd processes are killed while commands run`,
  );
  const server = await serverFor(ctx, 'killed');
  const tally = new Tally('killed connections');
  const j: Judge = { server, tally };
  const list = targets(ctx, n);
  // Every session open and warm first: the kill must hit a working shell.
  await Promise.all(list.map((target) => tokenCommand({ j, target }, 30)));
  const victims = await Promise.all(
    list.map((target, i) => start(j, target, MODES[i % MODES.length] as Mode)),
  );
  await sleep(500);

  const killedAt = Date.now();
  const hit = killConnections(list, ctx.fleet.port);
  const notFound = list.filter((t) => !hit.has(t.host)).map((t) => t.host);
  if (notFound.length > 0) throw new Error(`no sshd process found for ${notFound.join(', ')}`);

  const latencies: number[] = [];
  await Promise.all(
    victims
      .filter((v) => v.mode !== 'idle')
      .map(async (v) => judgeKilled(j, v, await ending(j, v, killedAt), killedAt, latencies)),
  );
  let reset = 0;
  let worked = 0;
  await Promise.all(
    victims.map(async (v) => {
      const next = await nextCall(j, v.target);
      if (next?.status === 'completed') worked++;
      if (next?.sessionReset) reset++;
      else if (next?.status === 'completed')
        tally.problem(
          'unexplained',
          `${v.target.host}: the first call after the kill ran without sessionReset`,
          'reset not flagged',
        );
    }),
  );
  tally.settle();
  const leftovers = await finishServer(server, { port: ctx.fleet.port, uid: ctx.fleet.uid });
  const affected = victims.filter((v) => v.mode !== 'idle').length;
  console.log(
    `  killed ${hit.size} connections (${[...hit.values()].reduce((a, b) => a + b, 0)} processes); ${affected} commands were running there`,
  );
  console.log(
    `  ended failed with a cause naming the connection: ${latencies.length} of ${affected}; slowest ${Math.max(0, ...latencies)} ms after the kill`,
  );
  console.log(`  next call worked: ${worked} of ${victims.length}; with sessionReset: ${reset}`);
  printTally(tally);
  printLeftovers(leftovers);
  return { name: 'killed connections', tally, leftovers, bounds: [], elapsedMs: Date.now() - t0 };
}

/** Starts the command the kill will hit: waited for in the foreground, in the background, or async. */
async function start(j: Judge, target: Target, mode: Mode): Promise<Victim> {
  const t = token();
  const command = `sleep 20; echo ${t}`;
  const exp: Expectation = { target, command, output: `${t}\n`, sentAt: Date.now() };
  if (mode === 'idle') return { target, mode, exp };
  const tool = mode === 'async' ? 'execute_command_async' : 'execute_command';
  const timeout = mode === 'foreground' ? 25 : 0.3;
  j.tally.called(tool);
  const args = { ...connection(target), command, ...(mode !== 'async' && { timeout }) };
  const pending = j.server.call(tool, args, timeout * 1000 + CALL_GRACE_MS);
  if (mode === 'foreground') return { target, mode, exp, pending };
  const call = await pending;
  if (!answered(j, exp, call)) return { target, mode: 'idle', exp };
  const s = call.result.structuredContent as {
    commandId?: string;
    status?: string;
  };
  if (!s?.commandId || s.status !== 'running') {
    j.tally.problem('unexplained', `${command} did not start in the background: ${JSON.stringify(s)}`);
    return { target, mode: 'idle', exp };
  }
  j.tally.ok('running');
  return { target, mode, exp, commandId: s.commandId };
}

/** SIGKILL the sshd processes serving these sessions, and all below them; per address, how many. */
function killConnections(list: Target[], port: number): Map<string, number> {
  const hosts = new Set(list.map((t) => t.host));
  const byHost = new Map<string, number[]>();
  for (const c of tcpConnections()) {
    if (c.localPort !== port || !hosts.has(c.localHost)) continue;
    byHost.set(c.localHost, [...(byHost.get(c.localHost) ?? []), ...c.pids]);
  }
  const hit = new Map<string, number>();
  for (const [host, pids] of byHost) {
    const all = withDescendants(pids);
    kill(all);
    hit.set(host, all.length);
  }
  return hit;
}

/** How the command ended, as its caller (foreground) or get_command_status (background) says. */
async function ending(j: Judge, v: Victim, killedAt: number): Promise<Ending | undefined> {
  if (v.pending) {
    const call = await v.pending;
    if (!answered(j, v.exp, call)) return undefined;
    const r = call.result;
    const at = Date.now();
    if (r.isError) return { status: 'failed', cause: textOf(r), text: textOf(r), at };
    const s = r.structuredContent as unknown as ExecuteResult;
    return { status: s.status, cause: s.error || s.note, text: textOf(r), at };
  }
  while (Date.now() < killedAt + KILL_DETECT_MS) {
    const s = await readStatus(j, v.exp, v.commandId as string, 0, 64);
    if (!s) return undefined;
    if (s.status !== 'running' && s.status !== 'awaiting_input')
      return { status: s.status, cause: s.error, text: s.text, at: Date.now() };
    await sleep(100);
  }
  return { status: 'running', text: '', at: Date.now() };
}

function judgeKilled(j: Judge, v: Victim, e: Ending | undefined, killedAt: number, latencies: number[]) {
  if (!e) return; // already counted
  const what = `${v.mode} ${v.commandId ?? ''} (${v.exp.command})`;
  if (e.status === 'running' || e.at - killedAt > KILL_DETECT_MS) {
    j.tally.problem(
      'lost',
      `${what} still ${e.status} ${e.at - killedAt} ms after its connection was killed`,
      'not ended after the kill',
    );
  } else if (e.status !== 'failed') {
    j.tally.problem(
      'unexplained',
      `${what} ended ${e.status} after its connection was killed: ${e.text}`,
      'not failed after the kill',
    );
  } else if (!e.cause) {
    j.tally.problem(
      'unexplained',
      `${what} failed without a cause after its connection was killed; text: ${e.text}`,
      'failed, no cause, after the kill',
    );
  } else if (!CONNECTION_CAUSE.test(e.cause)) {
    j.tally.problem(
      'unexplained',
      `${what}: the cause does not mention the connection: ${e.cause}`,
      'cause not about the connection',
    );
  } else {
    j.tally.failedWithCause(e.cause);
    latencies.push(e.at - killedAt);
  }
}

/** The first call after the kill: it must complete, on a new shell. */
async function nextCall(j: Judge, target: Target): Promise<ExecuteResult | undefined> {
  const started = await tokenCommand({ j, target }, 30);
  return started.result;
}
