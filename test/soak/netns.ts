// An impaired link between two network namespaces of our own: the server runs in one, an sshd in the
// other, joined by a veth pair whose both ends delay and drop packets (tc netem). Nothing touches the
// host's own network.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { onExit } from './cleanup.js';
import type { Fleet } from './fleet.js';
import { kill, withDescendants } from './procs.js';
import type { Target } from './target.js';

/** Delay and loss on each end of the veth, so each direction: a 160 ms round trip, ~2% loss per exchange. */
export const NETEM = ['delay', '80ms', 'loss', '1%'];
const SUBNET = '10.213.77';
const SSH_PORT = 22;

export interface NetnsLink {
  targets: Target[];
  /** Runs the server inside the client namespace. */
  wrap: string[];
  /** The client namespace, where the server's connections are seen. */
  netns: string;
  port: number;
  close(): Promise<void>;
}

/** Sets the link up; a string says why it cannot be (no netns, no netem), after undoing what was done. */
export async function netnsLink(fleet: Fleet, sessions: number): Promise<NetnsLink | string> {
  const id = randomBytes(3).toString('hex');
  const client = `soak-c-${id}`;
  const server = `soak-s-${id}`;
  const made: string[] = [];
  const remove = () => {
    for (const ns of made.splice(0)) ip(['netns', 'del', ns]);
  };
  onExit(remove);
  const fail = (why: string) => {
    remove();
    return why;
  };
  for (const ns of [client, server]) {
    const r = ip(['netns', 'add', ns]);
    if (r) return fail(`ip netns add: ${r}`);
    made.push(ns);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const addresses = Array.from({ length: sessions }, (_, i) => `${SUBNET}.${10 + i}`);
  const steps = [
    ['-n', client, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', server],
    ['-n', client, 'addr', 'add', `${SUBNET}.1/24`, 'dev', 'v0'],
    ...addresses.map((a) => ['-n', server, 'addr', 'add', `${a}/24`, 'dev', 'v1']),
    ['-n', client, 'link', 'set', 'v0', 'up'],
    ['-n', server, 'link', 'set', 'v1', 'up'],
  ];
  for (const step of steps) {
    const r = ip(step);
    if (r) return fail(`ip ${step.join(' ')}: ${r}`);
  }
  for (const [ns, dev] of [
    [client, 'v0'],
    [server, 'v1'],
  ] as const) {
    const r = run(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', ...NETEM]);
    if (r) return fail(`tc qdisc add ... netem ${NETEM.join(' ')}: ${r}`);
  }
  let sshdPid: number | undefined;
  try {
    const sshd = await fleet.spawnSshd(
      addresses.map((a) => `${a}:${SSH_PORT}`),
      `netns-${id}`,
      ['ip', 'netns', 'exec', server],
    );
    sshdPid = sshd.pid;
  } catch (error) {
    return fail(`sshd in ${server}: ${(error as Error).message.split('\n')[0]}`);
  }
  return {
    targets: addresses.map((host) => ({
      host,
      port: SSH_PORT,
      username: fleet.user,
      keyPath: fleet.keyPath,
    })),
    wrap: ['ip', 'netns', 'exec', client],
    netns: client,
    port: SSH_PORT,
    close: async () => {
      if (sshdPid !== undefined) kill(withDescendants([sshdPid]));
      remove();
    },
  };
}

/** Runs `ip`; the error text, or undefined when it worked. */
function ip(args: string[]): string | undefined {
  return run(['ip', ...args]);
}

function run(argv: string[]): string | undefined {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : r.stderr.trim() || `exit ${r.status}`;
}
