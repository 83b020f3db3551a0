// The HTTP group (issue 18): the built server over Streamable HTTP (`serve --http` on 127.0.0.1, static bearer
// tokens) next to the same server over stdio, with the SDK over HTTP doing nothing as the floor; then 50 users
// at once on one HTTP server, next to the same 50 command streams on 50 stdio servers (one per user, as stdio
// needs). Every process is started here and stopped through `defer`; traffic stays on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SshdHarness } from '../test/harness/sshd.js';
import {
  connectHttp,
  cpuMs,
  type HttpProcess,
  type McpProcess,
  NOOP_HTTP_SERVER,
  NOOP_SERVER,
  rssBytes,
  SERVER_CLI,
  spawnHttp,
  spawnMcp,
} from './mcp.js';
import { check, measure, now, timed } from './measure.js';
import { RawShell, readKey, sshConnect } from './raw-ssh.js';
import { p50, type Ratio, type Row } from './report.js';

/** Users at once in the load part. */
const HTTP_USERS = 50;
/** Output of the larger call: 4 KiB. */
const HTTP_BIG_BYTES = 4096;
/**
 * Bash builtins only: a pipe of `head` and `tr` would time two process starts on the remote side, which
 * on a busy machine outweigh the bytes.
 */
const BIG_COMMAND = `printf -v s '%${HTTP_BIG_BYTES - 1}s' ''; printf '%s\\n' "\${s// /x}"`;
/** Commands each user runs per load round; rounds alternate HTTP and stdio. */
const LOAD_PER_ROUND = 20;
const LOAD_ROUNDS = 2;
/** Stdio servers spawned at once (node start-up is CPU-bound; 2 vCPU). */
const SPAWN_AT_ONCE = 4;
const CALL_TIMEOUT_MS = 30_000;
/** A first command opens an SSH session; 50 cold processes doing it at once on 2 vCPU take a while. */
const FIRST_TIMEOUT_MS = 120_000;

/** One subject of the load part: 50 users, each running commands one after another. */
export interface LoadResult {
  label: string;
  users: number;
  /** Calls planned; fewer made means the time budget ran out. */
  wanted: number;
  /** Latency of each successful call, ms. */
  latencies: number[];
  failed: number;
  /** Wall time of the timed rounds, ms. */
  wallMs: number;
  /** CPU time the server process(es) used during the timed rounds, ms. */
  serverCpuMs: number;
  /** CPU time of the bench process (the 50 clients) during the timed rounds, ms. */
  clientCpuMs: number;
  /** Jiffies of the whole machine during the timed rounds (all CPUs): busy, and in all. */
  machineBusy: number;
  machineTotal: number;
  /** The 50 users' first commands (each opening an SSH session) sent at once: until the last returned, ms. */
  firstMs: number;
  firstFailed: number;
  /** Resident memory of the server process(es) at the end, bytes. */
  rss: number;
  /** The same before the 50 users came (HTTP: the server with one user; stdio: nothing), bytes. */
  rssBefore: number;
  /** The first few errors, for the log. */
  errors: string[];
}

export interface HttpResults {
  ratios: Ratio[];
  load: LoadResult[];
  loadRatios: Ratio[];
  /** The command of the larger single call. */
  bigCommand: string;
  /** Load rounds per subject, and calls per user in each. */
  rounds: number;
  perRound: number;
}

type Structured = { output?: string; exitCode?: number; truncated?: boolean };

/** execute_command on testhost; throws unless the output is exactly `expected`. */
async function run(
  mcp: McpProcess,
  command: string,
  expected: string,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<void> {
  const r = await mcp.call('execute_command', { host: 'testhost', command, timeout: 60 }, timeoutMs);
  const s = r.structuredContent as Structured | undefined;
  check(s?.exitCode === 0 && !s.truncated && s.output === expected, `execute_command ${command}`, s);
}

/**
 * Calls `fn` on each item, at most `limit` at once; after a failure starts no more, waits for those running,
 * then throws the first error (so nothing is left starting behind the caller's clean-up).
 */
async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

let started = Date.now();
const progress = (what: string) =>
  console.error(`bench http: ${((Date.now() - started) / 1000).toFixed(0)} s: ${what}`);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The machine's CPU time so far from /proc/stat, in jiffies summed over CPUs: busy (not idle or iowait) and all. */
function machineJiffies(): { busy: number; total: number } {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9);
    const [, , , idle = 0, iowait = 0] = fields.map(Number);
    const total = sum(fields.map(Number));
    return { busy: total - idle - iowait, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** Runs the HTTP group into `rows`; returns the ratios and the load results. */
export async function httpBenchmarks(
  rows: Row[],
  o: { quick: boolean; sshd: SshdHarness; defer: (fn: () => unknown) => void },
): Promise<HttpResults> {
  const { sshd } = o;
  const home = sshd.clientHome;
  started = Date.now();
  // Tokens: user u00 for the single-call cases, u01..u50 for the load; each a reference to an env variable.
  const users = Array.from({ length: HTTP_USERS + 1 }, (_, i) => ({
    name: `u${String(i).padStart(2, '0')}`,
    env: `BENCH_TOKEN_${String(i).padStart(2, '0')}`,
    token: randomBytes(24).toString('hex'),
  }));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-http-'));
  o.defer(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'bench-http.yaml');
  writeFileSync(
    config,
    // Every token with a role, as a team's config has them (docs/configuration.md): one that reaches every
    // host with every tool and no policy of its own, so the role checks run on each call but refuse nothing.
    `roles:\n  all:\n    hosts: ["*"]\nauth:\n  tokens:\n${users
      .map((u) => `    - token: env:${u.env}\n      user: ${u.name}\n      roles: [all]\n`)
      .join('')}`,
    { mode: 0o600 },
  );
  const env = Object.fromEntries(users.map((u) => [u.env, u.token]));

  const key = readKey(sshd);
  const ssh = await sshConnect(sshd, key);
  o.defer(() => ssh.end());
  const shell = await RawShell.open(ssh, 'exec bash --noprofile --norc 2>&1');
  o.defer(() => shell.close());
  const noop = await spawnMcp(NOOP_SERVER, home);
  o.defer(() => noop.close());
  const noopHttp: HttpProcess = await spawnHttp(NOOP_HTTP_SERVER, [], home);
  o.defer(() => noopHttp.stop());
  const noopOverHttp = await connectHttp(noopHttp);
  o.defer(() => noopOverHttp.close());
  // The same config over stdio too (its auth section unused there): only the transport and what the HTTP
  // server does per user differ, not the deployment (a config adds policy and inventory lookups per call).
  const stdio = await spawnMcp(SERVER_CLI, home, undefined, ['--config', config]);
  o.defer(() => stdio.close());
  const server: HttpProcess = await spawnHttp(
    SERVER_CLI,
    ['serve', '--http', '127.0.0.1:0', '--config', config],
    home,
    env,
  );
  o.defer(() => server.stop());
  const http = await connectHttp(server, users[0]?.token);
  o.defer(() => http.close());
  // Warm sessions (and the host key recorded in known_hosts once, before anyone else connects).
  await run(stdio, 'true', '');
  await run(http, 'true', '');

  progress('single calls, HTTP against stdio');
  const noopCall = (mcp: McpProcess) => async () => {
    const r = await mcp.call('noop');
    check(r.content[0]?.type === 'text' && r.content[0].text === 'ok', 'noop', r);
  };
  const big = `${'x'.repeat(HTTP_BIG_BYTES - 1)}\n`;
  await measure(
    rows,
    [
      {
        key: 'h.A',
        label: 'A  raw ssh2 shell round trip, echo hi',
        n: 400,
        warmup: 30,
        run: () => timed(async () => check((await shell.run('echo hi')) === 'hi\n', 'raw shell echo', '')),
      },
      {
        key: 'h.B',
        label: 'B  MCP no-op tool call, stdio',
        n: 400,
        warmup: 30,
        run: () => timed(noopCall(noop)),
      },
      {
        key: 'h.Bh',
        label: 'Bh MCP no-op tool call, HTTP (SDK transport on node:http)',
        n: 400,
        warmup: 30,
        run: () => timed(noopCall(noopOverHttp)),
      },
      {
        key: 'h.echo.stdio',
        label: 'execute_command echo hi, stdio',
        n: 400,
        warmup: 30,
        run: () => timed(() => run(stdio, 'echo hi', 'hi\n')),
      },
      {
        key: 'h.echo.http',
        label: 'execute_command echo hi, HTTP',
        n: 400,
        warmup: 30,
        run: () => timed(() => run(http, 'echo hi', 'hi\n')),
      },
      {
        key: 'h.big.stdio',
        label: `execute_command ${HTTP_BIG_BYTES / 1024} KiB output, stdio`,
        n: 200,
        warmup: 10,
        run: () => timed(() => run(stdio, BIG_COMMAND, big)),
      },
      {
        key: 'h.big.http',
        label: `execute_command ${HTTP_BIG_BYTES / 1024} KiB output, HTTP`,
        n: 200,
        warmup: 10,
        run: () => timed(() => run(http, BIG_COMMAND, big)),
      },
    ],
    120_000,
    o.quick,
  );
  const at = (k: string) => p50(rows.find((r) => r.key === k));
  const ratios: Ratio[] = [
    {
      label: 'echo hi: HTTP / stdio',
      unit: 'x',
      value: at('h.echo.http') / at('h.echo.stdio'),
      formula: 'echo HTTP p50 / echo stdio p50',
      target: 1.5,
    },
    {
      label: `${HTTP_BIG_BYTES / 1024} KiB output: HTTP / stdio`,
      unit: 'x',
      value: at('h.big.http') / at('h.big.stdio'),
      formula: '4 KiB HTTP p50 / 4 KiB stdio p50',
      target: 1.5,
    },
    {
      label: 'no-op floor: HTTP / stdio (the SDK transport alone)',
      unit: 'x',
      value: at('h.Bh') / at('h.B'),
      formula: 'Bh p50 / B p50',
    },
    {
      label: 'echo hi via HTTP / (A + Bh)',
      unit: 'x',
      value: at('h.echo.http') / (at('h.A') + at('h.Bh')),
      formula: 'echo HTTP p50 / (A p50 + Bh p50)',
    },
    {
      label: 'what HTTP adds to echo hi',
      unit: 'ms',
      value: at('h.echo.http') - at('h.echo.stdio'),
      formula: 'echo HTTP p50 - echo stdio p50',
    },
    {
      label: '  of which beyond the SDK transport (express, auth, log)',
      unit: 'ms',
      value: at('h.echo.http') - at('h.echo.stdio') - (at('h.Bh') - at('h.B')),
      formula: '(echo HTTP - echo stdio) - (Bh - B)',
    },
  ];

  // ---- 50 users at once ----
  const perRound = o.quick ? 4 : LOAD_PER_ROUND;
  const rssBefore = rssBytes(server.pid);
  const loadUsers = users.slice(1);
  const httpLoad: LoadResult = {
    label: `one HTTP server, ${HTTP_USERS} users (a token each)`,
    users: HTTP_USERS,
    wanted: HTTP_USERS * perRound * LOAD_ROUNDS,
    latencies: [],
    failed: 0,
    wallMs: 0,
    serverCpuMs: 0,
    clientCpuMs: 0,
    machineBusy: 0,
    machineTotal: 0,
    firstMs: Number.NaN,
    firstFailed: 0,
    rss: Number.NaN,
    rssBefore,
    errors: [],
  };
  const stdioLoad: LoadResult = {
    ...httpLoad,
    label: `${HTTP_USERS} stdio servers, one user each`,
    latencies: [],
    errors: [],
    rssBefore: 0,
  };
  const httpClients: McpProcess[] = [];
  const stdioClients: McpProcess[] = [];
  const closeAll = (clients: McpProcess[]) => () => Promise.allSettled(clients.map((c) => c.close()));
  o.defer(closeAll(httpClients));
  o.defer(closeAll(stdioClients));
  // Into the lists one by one, so that when one fails the others are still closed.
  progress(`${HTTP_USERS} HTTP clients connecting`);
  await pool(loadUsers, HTTP_USERS, async (u) => {
    httpClients.push(await connectHttp(server, u.token, 60_000));
  });
  progress(`${HTTP_USERS} stdio servers starting, ${SPAWN_AT_ONCE} at a time`);
  await pool(loadUsers, SPAWN_AT_ONCE, async () => {
    stdioClients.push(await spawnMcp(SERVER_CLI, home, 120_000, ['--config', config]));
  });

  /** Each client runs `count` commands one after another, all clients at once; results into `into`. */
  const round = async (clients: McpProcess[], count: number, tag: string, into: LoadResult) => {
    const pids = [...new Set(clients.map((c) => c.pid))];
    const cpu0 = sum(pids.map((pid) => cpuMs(pid)));
    const client0 = process.cpuUsage();
    const machine0 = machineJiffies();
    const deadline = Date.now() + 60_000;
    const t0 = now();
    await Promise.all(
      clients.map(async (c, u) => {
        for (let i = 0; i < count && Date.now() < deadline; i++) {
          const word = `${tag}-u${u}-${i}`;
          const t = now();
          try {
            await run(c, `echo ${word}`, `${word}\n`);
            into.latencies.push(now() - t);
          } catch (err) {
            into.failed++;
            if (into.errors.length < 3) into.errors.push((err as Error).message.slice(0, 300));
          }
        }
      }),
    );
    const ms = now() - t0;
    into.serverCpuMs += sum(pids.map((pid) => cpuMs(pid))) - cpu0;
    const client = process.cpuUsage(client0);
    into.clientCpuMs += (client.user + client.system) / 1000;
    const machine1 = machineJiffies();
    into.machineBusy += machine1.busy - machine0.busy;
    into.machineTotal += machine1.total - machine0.total;
    return ms;
  };
  progress(`first commands of ${HTTP_USERS} users at once, then the load rounds`);
  // The first command of each user opens their SSH session: all 50 at once, not timed per call.
  for (const [clients, into] of [
    [httpClients, httpLoad],
    [stdioClients, stdioLoad],
  ] as const) {
    const t0 = now();
    await Promise.all(
      clients.map((c) =>
        run(c, 'true', '', FIRST_TIMEOUT_MS).catch((err: Error) => {
          into.firstFailed++;
          if (into.errors.length < 3) into.errors.push(`first: ${err.message.slice(0, 300)}`);
        }),
      ),
    );
    into.firstMs = now() - t0;
  }
  // Warm-up round (a few calls each, not counted), then timed rounds alternating HTTP and stdio.
  const scratch: LoadResult = { ...httpLoad, latencies: [], errors: [] };
  await round(httpClients, 2, 'w', scratch);
  await round(stdioClients, 2, 'w', scratch);
  for (let r = 1; r <= LOAD_ROUNDS; r++) {
    httpLoad.wallMs += await round(httpClients, perRound, `h${r}`, httpLoad);
    stdioLoad.wallMs += await round(stdioClients, perRound, `s${r}`, stdioLoad);
  }
  httpLoad.rss = rssBytes(server.pid);
  stdioLoad.rss = sum(stdioClients.map((c) => rssBytes(c.pid)));
  for (const l of [httpLoad, stdioLoad]) {
    if (l.errors.length) console.error(`bench: ${l.label}: ${l.errors.join('\n  ')}`);
  }

  const rate = (l: LoadResult) => (l.latencies.length / l.wallMs) * 1000;
  const cpuPerCall = (l: LoadResult) => l.serverCpuMs / (l.latencies.length + l.failed);
  const loadP50 = (l: LoadResult) => p50({ key: '', label: '', wanted: 0, samples: l.latencies });
  const loadRatios: Ratio[] = [
    {
      label: 'calls/s: HTTP / stdio servers',
      unit: 'x',
      value: rate(httpLoad) / rate(stdioLoad),
      formula: 'HTTP calls/s / stdio calls/s',
    },
    {
      label: 'p50 latency: HTTP / stdio servers',
      unit: 'x',
      value: loadP50(httpLoad) / loadP50(stdioLoad),
      formula: 'HTTP p50 / stdio p50',
    },
    {
      label: 'server CPU per call: HTTP / stdio servers',
      unit: 'x',
      value: cpuPerCall(httpLoad) / cpuPerCall(stdioLoad),
      formula: 'HTTP CPU ms/call / stdio CPU ms/call',
    },
    {
      label: 'server memory: HTTP / stdio servers',
      unit: 'x',
      value: httpLoad.rss / stdioLoad.rss,
      formula: 'HTTP RSS / sum of 50 stdio RSS',
    },
    {
      label: `HTTP: calls/s with ${HTTP_USERS} users / one user's`,
      unit: 'x',
      value: rate(httpLoad) / (1000 / at('h.echo.http')),
      formula: 'HTTP calls/s / (1000 / echo HTTP p50)',
    },
  ];
  return {
    ratios,
    load: [httpLoad, stdioLoad],
    loadRatios,
    bigCommand: BIG_COMMAND,
    rounds: LOAD_ROUNDS,
    perRound,
  };
}
