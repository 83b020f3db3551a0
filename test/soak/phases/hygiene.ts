// Phase 5: what stays behind after close_all_sessions, and after SIGTERM to the server: SSH connections,
// remote processes of the test user, spill folders in the server's TMPDIR.

import { tokenCommand } from '../actions.js';
import { CALL_GRACE_MS, SIGTERM_EXIT_MS } from '../config.js';
import { connectionsOf, describeProcs, type Leftovers, settled, spillDirs } from '../leftovers.js';
import {
  type Bound,
  type Ctx,
  type PhaseResult,
  printLeftovers,
  printTally,
  serverFor,
  targets,
} from '../phase.js';
import { kill, tcpConnections, userProcesses } from '../procs.js';
import { Tally } from '../tally.js';
import { between, connection, sessionId, sleep, type Target, token } from '../target.js';
import { answered, type Judge, judgeExecute, judgeStart } from '../verdict.js';

/** Small enough that a few hundred KB of output spill to disk, so spill folders exist to be cleaned up. */
const MEMORY_BYTES = 65_536;

export async function hygienePhase(ctx: Ctx): Promise<PhaseResult> {
  const t0 = Date.now();
  const n = ctx.sizes.hygiene.sessions;
  console.log(
    `\n== 5. hygiene: ${n} busy sessions (and ${n} still connecting) closed with close_all_sessions; ${n} more busy ones when the server gets SIGTERM`,
  );
  const server = await serverFor(ctx, 'hygiene', { args: ['--max-output-bytes', String(MEMORY_BYTES)] });
  const tally = new Tally('hygiene');
  const j: Judge = { server, tally };
  const { port, uid } = ctx.fleet;

  // A: background jobs, a loop, a foreground command still running, a spilled output; then
  // close_all_sessions, sent while n more sessions are still connecting.
  const first = targets(ctx, n);
  await Promise.all(first.map((t) => busy(j, t)));
  const connecting = targets(ctx, n, 2 * n);
  const closes = [...first, ...connecting].map((t) => tally.closing(sessionId(t)));
  const opening = connecting.map((target) => tokenCommand({ j, target }, 30));
  await sleep(between(5, 30));
  j.tally.called('close_all_sessions');
  const closeAll = await server.call('close_all_sessions', {}, CALL_GRACE_MS);
  for (const closed of closes) closed();
  await Promise.all(opening);
  if (answered(j, { command: 'close_all_sessions' }, closeAll) && closeAll.result.isError)
    tally.problem('unexplained', `close_all_sessions failed: ${JSON.stringify(closeAll.result.content)}`);
  const a: Leftovers = { connections: 0, remote: 0, tempDirs: 0, detail: [] };
  a.connections = await settled(() => connectionsOf(server.pid, port));
  a.remote = await settled(() => userProcesses(uid).length);
  if (a.connections > 0)
    a.detail.push(`after close_all_sessions: ${a.connections} SSH connections still open`);
  if (a.remote > 0)
    a.detail.push(`after close_all_sessions: remote processes ${describeProcs(userProcesses(uid))}`);
  // What A left is counted; removed so that B counts only its own.
  kill(userProcesses(uid).map((p) => p.pid));

  // B: the same on new sessions, then SIGTERM while a command runs and its output spills.
  const second = targets(ctx, n, n);
  await Promise.all(second.map((t) => busy(j, t)));
  const spilledBefore = spillDirs(server.tmpDir).length;
  const exitedInTime = await server.terminate(SIGTERM_EXIT_MS);
  const hosts = new Set(second.map((t) => t.host));
  const b: Leftovers = { connections: 0, remote: 0, tempDirs: 0, detail: [] };
  b.connections = await settled(
    () => tcpConnections().filter((c) => c.localPort === port && hosts.has(c.localHost)).length,
  );
  b.remote = await settled(() => userProcesses(uid).length);
  const spills = spillDirs(server.tmpDir);
  b.tempDirs = spills.length;
  if (b.connections > 0) b.detail.push(`after SIGTERM: ${b.connections} connections still open at the sshd`);
  if (b.remote > 0) b.detail.push(`after SIGTERM: remote processes ${describeProcs(userProcesses(uid))}`);
  if (spills.length > 0) b.detail.push(`after SIGTERM: spill folders ${spills.join(', ')}`);
  kill(userProcesses(uid).map((p) => p.pid));

  tally.settle();
  const leftovers: Leftovers = {
    connections: a.connections + b.connections,
    remote: a.remote + b.remote,
    tempDirs: b.tempDirs,
    detail: [...a.detail, ...b.detail],
  };
  console.log(`  after close_all_sessions: ${a.connections} connections, ${a.remote} remote processes`);
  console.log(
    `  after SIGTERM: exited ${exitedInTime ? 'in time' : 'NOT in time (killed)'}; ${b.connections} connections, ${b.remote} remote processes, ${b.tempDirs} of ${spilledBefore} spill folders`,
  );
  printTally(tally);
  printLeftovers(leftovers);
  const bounds: Bound[] = [
    {
      label: `exit within ${SIGTERM_EXIT_MS / 1000} s of SIGTERM`,
      measured: exitedInTime ? 'yes' : 'no',
      ok: exitedInTime,
    },
  ];
  return { name: 'hygiene', tally, leftovers, bounds, elapsedMs: Date.now() - t0 };
}

/** A session with what tends to stay behind: background jobs, a loop, spilled output, a long foreground command. */
async function busy(j: Judge, target: Target): Promise<void> {
  const run = async (command: string, output: string, timeout: number) => {
    const exp = { target, command, output, sentAt: Date.now() };
    j.tally.called('execute_command');
    const args = { ...connection(target), command, timeout };
    return { exp, call: await j.server.call('execute_command', args, timeout * 1000 + CALL_GRACE_MS) };
  };
  const t = token();
  for (const [command, output] of [
    [`sleep 300 & echo ${t}`, `${t}\n`],
    [`(while true; do sleep 1; done) & echo ${t}`, `${t}\n`],
    [`seq 1 60000; echo ${t}`, `${Array.from({ length: 60_000 }, (_, i) => `${i + 1}\n`).join('')}${t}\n`],
  ] as const) {
    const { exp, call } = await run(command, output, 30);
    await judgeExecute(j, exp, call);
  }
  // Left running in the background, its output spilling to disk as it goes.
  const { exp, call } = await run(`seq 1 60000; sleep 300; echo ${t}`, '', 1);
  const s = await judgeStart(j, exp, call);
  if (!s.running) j.tally.problem('unexplained', `the long command on ${target.host} is not running`);
}
