// The fleet group: execute_on_hosts on 100 and 500 loopback hosts, first when every host connects, then on
// the open sessions, each next to a plain ssh2 script doing the same SSH work at the same concurrency in
// the same run; the time to the first host's result, and the server's resident memory per idle session.
// The hosts are loopback addresses served by sshds listening on 16 addresses each, one user and one host
// key for all (test/soak/fleet.ts). Needs root, like the test harness.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Client } from 'ssh2';
import { type Fleet, startFleet } from '../test/soak/fleet.js';
import { alive, kill, processes, rssKb, withDescendants } from '../test/soak/procs.js';
import { cpuMs, type McpProcess, SERVER_CLI, spawnMcp } from './mcp.js';
import { type Case, check, measure, now } from './measure.js';
import { DIALECT_SHELL, RawShell, readKey, withTimeout } from './raw-ssh.js';
import { p50, type Ratio, type Row } from './report.js';

export const FLEET_SIZES = [100, 500];
/** Hosts at once, for both: the server's default fan-out concurrency. */
const FLEET_CONCURRENCY = 20;
const FLEET_COMMAND = 'echo hi';
/** Resident memory is read this long after the last command, when timers and the young generation have settled. */
const SETTLE_MS = 2000;
/**
 * The server's node flags for measuring its memory: SIGUSR2 runs a full garbage collection (bench only).
 * Without it the resident memory says more about when V8 last collected than about the sessions: with
 * 100 hosts it read anywhere from -29 to 507 KB per session.
 */
const GC_ON_SIGNAL = [
  '--expose-gc',
  '--import',
  "data:text/javascript,process.on('SIGUSR2',()=>globalThis.gc())",
];
/** Time for the collection to finish and its pages to be given back. */
const AFTER_GC_MS = 1000;

/** The resident memory (KB) of `pid` after a full garbage collection (GC_ON_SIGNAL). */
async function collectedRssKb(pid: number): Promise<number> {
  kill([pid], 'SIGUSR2');
  await sleep(AFTER_GC_MS);
  return rssKb(pid);
}
/** Connect runs per size: each is a fresh server and fresh connections, so fewer of the big ones. */
const CONNECT_RUNS = (hosts: number) => (hosts <= 100 ? 2 : 1);
/** Reuse runs per size (interleaved with the floor's), after one warm-up each. */
const REUSE_RUNS = (hosts: number) => (hosts <= 100 ? 15 : 7);
/**
 * Commands after which V8 has optimised the server's command path: in fan-outs over 100 open sessions its
 * compiler threads took a third of the server's CPU at first, and next to none after about 2,000.
 */
const WARM_COMMANDS = 2000;
/** Processes of closed connections must be gone within this before the next timed run (else killed). */
const DRAIN_MS = 15_000;

export interface FleetFacts {
  command: string;
  sizes: number[];
  concurrency: number;
  /** How long after the last run the resident memory was read. */
  settleMs: number;
  sshds: number;
  /** Per size: characters of one whole execute_on_hosts result (reuse run), RSS in KB with no session and with all. */
  bySize: Record<
    number,
    { resultChars: number; rssBefore: number; rssAfter: number; commandsPerHost: number }
  >;
  /** Wall time of the whole group, setup and cleanup included. */
  seconds: number;
}

interface Summary {
  status: string;
  durationMs: number;
  counts: { hosts: number; ok: number };
  groups: { hosts: string[]; output: string }[];
}

/** CPU time the processes used so far, in ms (cpuMs); one that is gone counts 0. */
const cpuOf = (pids: number[], mainThread = false) =>
  pids.reduce((sum, pid) => sum + (cpuMs(pid, mainThread) || 0), 0);

/** CPU time of this process so far, in ms. */
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const seconds = (since: number) => ((now() - since) / 1000).toFixed(0);

/** `n` tasks, `limit` at a time: the time the first finished and the total. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>) {
  const t0 = now();
  let first = Number.NaN;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      await task(i);
      if (Number.isNaN(first)) first = now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return { firstMs: first, totalMs: now() - t0 };
}

/** Runs the fleet cases into `rows`; returns the ratios and the facts the section quotes. */
export async function fleetBenchmarks(
  rows: Row[],
  o: {
    quick: boolean;
    sizes: number[];
    defer: (fn: () => unknown) => void;
    /** Servers run with --cpu-prof into this folder, and close cleanly so the profile is written. */
    cpuProfDir?: string;
  },
): Promise<{ ratios: Ratio[]; facts: FleetFacts }> {
  const started = now();
  const most = Math.max(...o.sizes);
  const fleet: Fleet = await startFleet(most);
  o.defer(() => fleet.stop());
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-fleet-'));
  o.defer(() => rmSync(dir, { recursive: true, force: true }));
  const key = readKey(fleet.harness);
  // Every host's key known, as in a fleet set up with care: the server checks each (accept-new, the
  // default, finds it); the plain script checks none.
  const hostKey = fleet.harness.hostKeyPublicLine;
  writeFileSync(
    path.join(fleet.harness.clientHome, '.ssh', 'known_hosts'),
    fleet.addresses.map((a) => `[${a}]:${fleet.port} ${hostKey}\n`).join(''),
  );
  const ratios: Ratio[] = [];
  const facts: FleetFacts = {
    command: FLEET_COMMAND,
    sizes: o.sizes,
    concurrency: FLEET_CONCURRENCY,
    settleMs: SETTLE_MS,
    sshds: fleet.listenerPids().length,
    bySize: {},
    seconds: 0,
  };
  console.log(`fleet: ${fleet.addresses.length} hosts on ${facts.sshds} sshds in ${seconds(started)} s`);
  for (const hosts of o.sizes) {
    const t0 = now();
    const group = await fleetSize(rows, { ...o, fleet, dir, key, hosts });
    console.log(`fleet: ${hosts} hosts measured in ${seconds(t0)} s`);
    facts.bySize[hosts] = group.facts;
    ratios.push(...group.ratios);
  }
  facts.seconds = (now() - started) / 1000;
  return { ratios, facts };
}

async function fleetSize(
  rows: Row[],
  o: {
    quick: boolean;
    defer: (fn: () => unknown) => void;
    cpuProfDir?: string;
    fleet: Fleet;
    dir: string;
    key: Buffer;
    hosts: number;
  },
) {
  const { fleet, hosts: n } = o;
  const name = (i: number) => `f${String(i + 1).padStart(3, '0')}`;
  const config = path.join(o.dir, `fleet-${n}.yaml`);
  // max_connecting as high as the concurrency: the script opens 20 at once too.
  writeFileSync(
    config,
    [
      `defaults:\n  dialect: linux\nlimits:\n  max_connecting: ${FLEET_CONCURRENCY}\nhosts:`,
      ...fleet.addresses
        .slice(0, n)
        .map(
          (address, i) =>
            `  ${name(i)}:\n    host: ${address}\n    port: ${fleet.port}\n    user: ${fleet.user}\n    key: ${fleet.keyPath}`,
        ),
      '',
    ].join('\n'),
  );

  // The floor's connections and shells, and the server, of the current connect run.
  let raw: { clients: Client[]; shells: RawShell[] } | undefined;
  let server: McpProcess | undefined;
  const endRaw = () => {
    for (const shell of raw?.shells ?? []) shell?.close();
    for (const client of raw?.clients ?? []) client.end();
    raw = undefined;
  };
  const stopServer = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    if (o.cpuProfDir && s.pid !== undefined) {
      // The profile is written when the process exits by itself: SIGTERM (it exits within 8 s, then
      // writes the profile), where the client's close would kill it after 4.
      kill([s.pid], 'SIGTERM');
      for (let i = 0; i < 300 && alive(s.pid); i++) await sleep(200);
      if (alive(s.pid)) console.error('bench fleet: the server did not exit within 60 s of SIGTERM');
    }
    // Killed: a clean exit would end what each session started on its host, 500 side channels at once.
    if (s.pid !== undefined) kill([s.pid]);
    await s.close();
  };
  o.defer(async () => {
    endRaw();
    await stopServer();
  });
  /** The processes of the connections to the fleet: sshd's per-connection ones and the shells. */
  const connectionPids = () => {
    const procs = processes();
    const listeners = new Set(fleet.listenerPids());
    const below = new Set(withDescendants([...listeners], procs));
    return procs
      .filter((p) => (below.has(p.pid) && !listeners.has(p.pid)) || p.uid === fleet.uid)
      .map((p) => p.pid);
  };
  /** The closed connections' sshd and shell processes gone, so they do not share the CPU with a timed run. */
  const drain = async () => {
    const left = connectionPids;
    const deadline = Date.now() + DRAIN_MS;
    while (left().length > 0 && Date.now() < deadline) await sleep(200);
    const stuck = left();
    if (stuck.length > 0) {
      console.error(`bench fleet: ${stuck.length} processes of closed connections still there; killed`);
      kill(stuck);
    }
  };

  const rawConnect = (i: number) => {
    const sock = netConnect(fleet.port, fleet.addresses[i] as string);
    sock.setNoDelay(true);
    const client = new Client();
    const ready = new Promise<Client>((resolve, reject) => {
      client.once('ready', () => resolve(client)).once('error', reject);
      client.connect({ sock, username: fleet.user, privateKey: o.key, readyTimeout: 30_000 });
    });
    return withTimeout(ready, 30_000, `ssh connect ${fleet.addresses[i]}`, () => client.end());
  };
  const checkOutput = (out: string, what: string) => check(out === 'hi\n', what, out);

  const fanout = async (s: McpProcess, targets = ['f*'], expect = n) => {
    const t0 = now();
    let first = Number.NaN;
    const result = (await s.client.callTool(
      {
        name: 'execute_on_hosts',
        arguments: { targets, command: FLEET_COMMAND, concurrency: FLEET_CONCURRENCY, timeout: 60 },
      },
      undefined,
      {
        timeout: 120_000,
        onprogress: () => {
          if (Number.isNaN(first)) first = now() - t0;
        },
      },
    )) as CallToolResult;
    let summary = result.structuredContent as unknown as Summary;
    // Past max_wait (50 s) the fan-out answers "running" and goes on: followed to its end.
    for (let i = 0; i < 6 && summary.status === 'running'; i++) {
      const more = await s.call('get_fanout_status', { wait: 50 }, 120_000);
      summary = more.structuredContent as unknown as Summary;
    }
    const totalMs = now() - t0;
    check(
      summary.status === 'completed' &&
        summary.counts.ok === expect &&
        summary.groups.length === 1 &&
        summary.groups[0]?.output === 'hi',
      `execute_on_hosts on ${expect} hosts`,
      summary,
    );
    return { totalMs, firstMs: first, serverMs: summary.durationMs, chars: JSON.stringify(result).length };
  };

  const key = (what: string) => `fleet.${n}.${what}`;
  let rawFirst = Number.NaN;
  let mcpFirst = Number.NaN;
  let serverMs = Number.NaN;
  /** CPU time of the last run: this process, the server, the fleet's sshds and shells. */
  const cpu = { own: Number.NaN, server: Number.NaN, serverMain: Number.NaN, hosts: Number.NaN };
  /** Runs `work`, noting the CPU time each side used meanwhile. */
  const metered = async <T>(work: () => Promise<T>, hosts: boolean): Promise<T> => {
    const serverPid = server?.pid;
    const pids = hosts ? connectionPids() : [];
    // This process's own reading last before and first after: reading /proc is not the work measured.
    const serverPids = serverPid ? [serverPid] : [];
    const before = {
      server: cpuOf(serverPids),
      serverMain: cpuOf(serverPids, true),
      hosts: cpuOf(pids),
      own: ownCpuMs(),
    };
    const result = await work();
    cpu.own = ownCpuMs() - before.own;
    cpu.server = serverPid ? cpuOf(serverPids) - before.server : Number.NaN;
    cpu.serverMain = serverPid ? cpuOf(serverPids, true) - before.serverMain : Number.NaN;
    cpu.hosts = hosts ? cpuOf(pids) - before.hosts : Number.NaN;
    return result;
  };
  const cpuRows = (what: string, sides: (keyof typeof cpu)[]) =>
    sides.map((side) => ({
      key: key(`${what}.cpu.${side}`),
      label: {
        own: '  CPU time: this process (info)',
        server: '  CPU time: the server (info)',
        serverMain: '  of which its main thread (info)',
        hosts: "  CPU time: the fleet's sshds and shells (info)",
      }[side],
      value: () => cpu[side],
    }));
  let rssBefore = Number.NaN;
  let resultChars = Number.NaN;
  const connectRuns = o.quick ? 1 : CONNECT_RUNS(n);
  await measure(
    rows,
    [
      {
        key: key('rawConnect'),
        label: `plain ssh2, ${n} hosts: connect, shell, echo hi`,
        n: connectRuns,
        warmup: 0,
        run: async () => {
          // Every connection of the run before is closed and gone first: nothing else on the CPU.
          endRaw();
          await stopServer();
          await drain();
          const state = { clients: [] as Client[], shells: new Array<RawShell>(n) };
          raw = state;
          const r = await metered(
            () =>
              pool(n, FLEET_CONCURRENCY, async (i) => {
                const client = await rawConnect(i);
                state.clients.push(client);
                const shell = await RawShell.open(client, DIALECT_SHELL);
                state.shells[i] = shell;
                checkOutput(await shell.run(FLEET_COMMAND), 'plain ssh2 echo hi');
              }),
            false,
          );
          rawFirst = r.firstMs;
          return r.totalMs;
        },
        also: [
          { key: key('rawConnect.first'), label: "  first host's result (info)", value: () => rawFirst },
          ...cpuRows('rawConnect', ['own']),
        ],
      },
      {
        key: key('connect'),
        label: `execute_on_hosts, ${n} hosts: first run (connect)`,
        n: connectRuns,
        warmup: 0,
        run: async () => {
          const s = await spawnMcp(
            SERVER_CLI,
            fleet.harness.clientHome,
            20_000,
            ['--config', config],
            [...GC_ON_SIGNAL, ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [])],
          );
          server = s;
          // Code loaded and the inventory read by a fan-out to one host, whose session is closed again:
          // the memory baseline is a server that has worked, with no session open.
          await fanout(s, [name(0)], 1);
          await s.call('close_all_sessions', {}, 30_000);
          await sleep(SETTLE_MS);
          rssBefore = await collectedRssKb(s.pid as number);
          const r = await metered(() => fanout(s), false);
          mcpFirst = r.firstMs;
          return r.totalMs;
        },
        also: [
          { key: key('connect.first'), label: "  first host's result (info)", value: () => mcpFirst },
          ...cpuRows('connect', ['server', 'serverMain', 'own']),
        ],
      },
    ],
    600_000,
    false,
  );

  /** The floor's reuse run and ours, as cases of a measuring group. */
  const reuseCases = (what: string, label: string, warmup: number): Case[] => [
    {
      key: key(`raw${what}`),
      label: `plain ssh2, ${n} hosts: echo hi on the open shells${label}`,
      n: REUSE_RUNS(n),
      warmup,
      run: async () => {
        const shells = raw?.shells ?? [];
        const r = await metered(
          () =>
            pool(n, FLEET_CONCURRENCY, async (i) =>
              checkOutput(await (shells[i] as RawShell).run(FLEET_COMMAND), 'plain ssh2 echo hi again'),
            ),
          true,
        );
        rawFirst = r.firstMs;
        return r.totalMs;
      },
      also: [
        { key: key(`raw${what}.first`), label: "  first host's result (info)", value: () => rawFirst },
        ...cpuRows(`raw${what}`, ['own', 'hosts']),
      ],
    },
    {
      key: key(what.toLowerCase()),
      label: `execute_on_hosts, ${n} hosts: sessions reused${label}`,
      n: REUSE_RUNS(n),
      warmup,
      run: async () => {
        const r = await metered(() => fanout(server as McpProcess), true);
        mcpFirst = r.firstMs;
        serverMs = r.serverMs;
        resultChars = r.chars;
        return r.totalMs;
      },
      also: [
        {
          key: key(`${what.toLowerCase()}.first`),
          label: "  first host's result (info)",
          value: () => mcpFirst,
        },
        {
          key: key(`${what.toLowerCase()}.server`),
          label: '  of which durationMs in the server (info)',
          value: () => serverMs,
        },
        ...cpuRows(what.toLowerCase(), ['server', 'serverMain', 'own', 'hosts']),
      ],
    },
  ];
  await measure(rows, reuseCases('Reuse', '', 1), 180_000, o.quick);
  await sleep(SETTLE_MS);
  const rssAfter = await collectedRssKb((server as McpProcess).pid as number);
  // Runs that together send fewer than WARM_COMMANDS commands all fall while V8 is still optimising the
  // command path (its compiler threads' share of the server's CPU): measured again after it.
  // (Not with --quick, which caps warm-ups at 2.)
  const warm = !o.quick && n * REUSE_RUNS(n) < WARM_COMMANDS;
  if (warm) {
    const label = `, after ${WARM_COMMANDS.toLocaleString('en-US')} more commands`;
    await measure(rows, reuseCases('Warm', label, Math.ceil(WARM_COMMANDS / n)), 180_000, o.quick);
  }
  endRaw();
  await stopServer();
  await drain();

  const at = (what: string) => p50(rows.find((r) => r.key === key(what)));
  const ratios: Ratio[] = [
    {
      label: `${n} hosts, first run (connect): execute_on_hosts / plain ssh2`,
      unit: 'x',
      value: at('connect') / at('rawConnect'),
      formula: 'connect p50 / plain ssh2 connect p50',
      target: 1.5,
    },
    {
      label: `${n} hosts, sessions reused: execute_on_hosts / plain ssh2`,
      unit: 'x',
      value: at('reuse') / at('rawReuse'),
      formula: 'reuse p50 / plain ssh2 reuse p50',
      target: 1.5,
    },
    ...(warm
      ? [
          {
            label: `${n} hosts, sessions reused, after ${WARM_COMMANDS.toLocaleString('en-US')} more commands (info)`,
            unit: 'x' as const,
            value: at('warm') / at('rawWarm'),
            formula: 'reuse p50 / plain ssh2 reuse p50',
          },
        ]
      : []),
    {
      label: `${n} hosts, first host's result, connect (info)`,
      unit: 'ms',
      value: at('connect.first'),
      formula: 'first progress p50',
    },
    {
      label: `${n} hosts, first host's result, reuse (info)`,
      unit: 'ms',
      value: at('reuse.first'),
      formula: 'first progress p50',
    },
    {
      label: `${n} hosts, server memory per idle session (info)`,
      unit: 'KB',
      value: (rssAfter - rssBefore) / n,
      formula: `(RSS with ${n} sessions - RSS with none) / ${n}`,
    },
  ];
  // Each host's commands in the history at the memory reading: the connect run, the warm-up, the reuse runs.
  const commandsPerHost = 2 + (rows.find((r) => r.key === key('reuse'))?.samples.length ?? 0);
  return { ratios, facts: { resultChars, rssBefore, rssAfter, commandsPerHost } };
}
