// Processes and TCP connections as the kernel sees them (/proc and `ss`), independent of the server under test.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';

export interface Proc {
  pid: number;
  ppid: number;
  uid: number;
  /** The command line, NUL turned into spaces ("sshd: user@notty", "sleep 300"). */
  cmd: string;
}

export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The fields after the command name, which is in parentheses and may itself hold ') '.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(name), ppid: Number(ppid), uid: statSync(`/proc/${name}`).uid, cmd });
    } catch {
      // it exited while we looked
    }
  }
  return out;
}

/** The roots and everything below them (per-connection sshd processes call setsid: groups do not do). */
export function withDescendants(roots: number[], procs = processes()): number[] {
  const found = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (found.has(p.ppid) && !found.has(p.pid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  return [...found];
}

export function kill(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The kernel's flag on a task that has entered exit (include/linux/sched.h). */
const PF_EXITING = 0x4;

/**
 * Whether `pid` has called exit: gone, or its main thread exiting or a zombie while the kernel finishes
 * the rest (freeing the blocks of gigabytes of deleted spill files holds a thread in disk I/O for seconds).
 */
export function exitedOrExiting(pid: number): boolean {
  if (!alive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , , , , , flags] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' || (Number(flags) & PF_EXITING) !== 0;
  } catch {
    return true;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What the test user still runs besides sshd's own per-connection child (which runs as the user too):
 * shells and commands the server started, or left behind.
 */
export function userProcesses(uid: number): Proc[] {
  return processes().filter((p) => p.uid === uid && !p.cmd.startsWith('sshd'));
}

export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
}

export interface TcpConnection {
  localHost: string;
  localPort: number;
  peerHost: string;
  peerPort: number;
  pids: number[];
}

/** Established TCP connections, with the processes holding them; `netns` reads another namespace's. */
export function tcpConnections(netns?: string): TcpConnection[] {
  const ss = ['ss', '-tnpH', 'state', 'established'];
  const argv = netns ? ['ip', 'netns', 'exec', netns, ...ss] : ss;
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr || r.error?.message}`);
  const out: TcpConnection[] = [];
  for (const line of r.stdout.split('\n')) {
    // Recv-Q Send-Q Local:Port Peer:Port users:(("node",pid=1,fd=2),...)
    const [, , local, peer, ...rest] = line.trim().split(/\s+/);
    if (!local || !peer) continue;
    const [localHost, localPort] = splitAddress(local);
    const [peerHost, peerPort] = splitAddress(peer);
    const pids = [...rest.join(' ').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    out.push({ localHost, localPort, peerHost, peerPort, pids });
  }
  return out;
}

function splitAddress(text: string): [string, number] {
  const at = text.lastIndexOf(':');
  return [text.slice(0, at).replace(/^\[|\]$/g, ''), Number(text.slice(at + 1))];
}
