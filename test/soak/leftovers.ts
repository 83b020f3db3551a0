// What a server leaves behind: SSH connections it still holds, processes still running for the test user,
// spill folders in its TMPDIR. Counted from the kernel and the file system, not from what the server says.
import { readdirSync, rmSync } from 'node:fs';
import { CALL_GRACE_MS, SETTLE_MS } from './config.js';
import { kill, type Proc, tcpConnections, userProcesses } from './procs.js';
import type { SoakServer } from './server.js';
import { sleep } from './target.js';

export interface Leftovers {
  connections: number;
  remote: number;
  tempDirs: number;
  /** Exited within 2 s of its stdin closing (undefined: the phase stopped it another way). */
  exitedOnStdinClose?: boolean;
  /** What they were, for the report. */
  detail: string[];
}

export const leakedTotal = (l: Leftovers) => l.connections + l.remote + l.tempDirs;

/** Connections `pid` holds to the sshd port; `netns` when the server runs in a namespace. */
export function connectionsOf(pid: number, port: number, netns?: string): number {
  return tcpConnections(netns).filter((c) => c.pids.includes(pid) && c.peerPort === port).length;
}

/** Polls `count` until it is 0 or SETTLE_MS pass; the last count. */
export async function settled(count: () => number): Promise<number> {
  const deadline = Date.now() + SETTLE_MS;
  let n = count();
  while (n > 0 && Date.now() < deadline) {
    await sleep(100);
    n = count();
  }
  return n;
}

export function spillDirs(tmpDir: string): string[] {
  try {
    return readdirSync(tmpDir).filter((name) => name.startsWith('mcp-ssh-output-'));
  } catch {
    return [];
  }
}

export function describeProcs(procs: Proc[]): string {
  const byCmd = new Map<string, number>();
  for (const p of procs) byCmd.set(p.cmd.slice(0, 60), (byCmd.get(p.cmd.slice(0, 60)) ?? 0) + 1);
  return [...byCmd].map(([cmd, n]) => `${n}x ${cmd}`).join(', ');
}

/**
 * The end of every phase: close_all_sessions, count connections the server still holds, stop it the
 * normal way (stdin closed), count remote processes and spill folders left. Then remove what is left, so
 * the next phase starts clean.
 */
export async function finishServer(
  server: SoakServer,
  target: { port: number; uid: number; netns?: string },
): Promise<Leftovers> {
  const detail: string[] = [];
  const answer = await server.call('close_all_sessions', {}, CALL_GRACE_MS);
  if (!answer.ok || answer.result.isError)
    detail.push(`close_all_sessions failed: ${JSON.stringify(answer)}`);
  const connections = await settled(() => connectionsOf(server.pid, target.port, target.netns));
  if (connections > 0) detail.push(`${connections} SSH connections still open after close_all_sessions`);
  const stopped = await server.stop();
  if (!stopped) detail.push('the server did not exit within 2 s of its stdin closing (the client killed it)');
  const remote = await settled(() => userProcesses(target.uid).length);
  const procs = userProcesses(target.uid);
  if (remote > 0) detail.push(`remote processes left: ${describeProcs(procs)}`);
  const temp = spillDirs(server.tmpDir);
  if (temp.length > 0) detail.push(`spill folders left: ${temp.join(', ')}`);
  kill(procs.map((p) => p.pid));
  rmSync(server.tmpDir, { recursive: true, force: true });
  return { connections, remote, tempDirs: temp.length, exitedOnStdinClose: stopped, detail };
}
