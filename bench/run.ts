// `npm run bench`: latency and throughput of the server over MCP stdio, each next to a floor measured in the
// same run (raw ssh2, a no-op MCP server), then the network-device section (bench/devices.ts: the Cisco IOS
// simulator, prompt matching). Prints tables and writes docs/benchmarks.md.
//   --floors  only the floors (no dist/cli.js needed)      --quick  a tenth of the samples, no docs written
//   --files   only the file transfers (bench/files.ts); rewrites only their section of docs/benchmarks.md
//   --cost    only the sizes of common results (bench/cost.ts), in seconds; rewrites only their section
//   --config  only the configuration changes (bench/config.ts): a 200-line change, configure vs one by one
//   --http    only HTTP (bench/http.ts): a call over `serve --http` vs stdio, and 50 users at once
//   --fleet   only the fan-out over 100 and 500 hosts (bench/fleet.ts; a few minutes, hundreds of sshd and
//             bash processes); rewrites only its section. With --quick: 100 hosts, one connect run.
//   --fleet-hosts 100,500   the fleet sizes (with or without --fleet)
//   --fleet-cpu-prof DIR    the fleet's servers run with --cpu-prof into DIR (and close cleanly to write it)
import { startSshd } from '../test/harness/sshd.js';
import { configBenchmarks } from './config.js';
import { BIG_COMMAND, costBenchmarks } from './cost.js';
import {
  CONFIG_BYTES,
  CONFIG_LINES,
  deviceBenchmarks,
  LARGE_PIECES,
  MATCH_BYTES,
  SMALL_PIECES,
} from './devices.js';
import { fileBenchmarks } from './files.js';
import { FLEET_SIZES, fleetBenchmarks } from './fleet.js';
import { httpBenchmarks } from './http.js';
import { type McpProcess, NOOP_SERVER, SERVER_CLI, spawnMcp, WHOLE_RESULTS } from './mcp.js';
import { type Case, check, measure as measureGroup, now, present, timed } from './measure.js';
import { DIALECT_SHELL, RawShell, rawExec, readKey, sshConnect } from './raw-ssh.js';
import {
  configSection,
  costSection,
  filesSection,
  fleetSection,
  httpSection,
  machine,
  p50,
  printCostTable,
  printHttpTables,
  printTable,
  type Ratio,
  type Row,
  revision,
  writeConfigSection,
  writeCostSection,
  writeFilesSection,
  writeFleetSection,
  writeHttpSection,
  writeMarkdown,
} from './report.js';

const DOCS = new URL('../docs/benchmarks.md', import.meta.url).pathname;
const SEQ = 'seq 1 50000';
const SEQ_BYTES = 288_894;
const WATCHDOG_MS = 25 * 60_000;
const floorsOnly = process.argv.includes('--floors');
const quick = process.argv.includes('--quick');
const filesOnly = process.argv.includes('--files');
const costOnly = process.argv.includes('--cost');
const configOnly = process.argv.includes('--config');
const httpOnly = process.argv.includes('--http');
const fleetOnly = process.argv.includes('--fleet');
const argValue = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
};
const fleetSizes =
  argValue('--fleet-hosts')
    ?.split(',')
    .map((h) => Number(h)) ?? (quick ? [100] : FLEET_SIZES);
if (fleetSizes.some((h) => !Number.isInteger(h) || h < 1 || h > 1000)) {
  throw new Error(`--fleet-hosts: sizes from 1 to 1000, comma-separated (got ${argValue('--fleet-hosts')})`);
}
const fleetCpuProf = argValue('--fleet-cpu-prof');

const checkLength = (out: string, what: string) =>
  check(
    out.length === SEQ_BYTES && out.endsWith('\n50000\n'),
    `${what} (length ${out.length})`,
    out.slice(-40),
  );

/** durationMs of the last execute_command, as the server measured it. */
let lastServerMs = Number.NaN;
/** Records the server's own durationMs of each call of a case, as a row of its own. */
const inServer = (key: string) => [
  { key: `${key}.server`, label: '  of which durationMs in the server (info)', value: () => lastServerMs },
];
const measure = (rows: Row[], cases: Case[], budgetMs: number) => measureGroup(rows, cases, budgetMs, quick);

const cleanups: (() => unknown)[] = [];
async function cleanUp(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      console.error(`bench: cleanup: ${(err as Error).message}`);
    }
  }
}

/** The configuration-change group: printed, and its section of docs/benchmarks.md. */
async function configChanges(m: ReturnType<typeof machine>): Promise<string> {
  const rows: Row[] = [];
  const ratios = await configBenchmarks(rows, { quick, defer: (fn) => cleanups.push(fn) });
  console.log('');
  printTable(rows, ratios, 'configuration changes (ms)');
  return configSection(rows, ratios, m);
}

/** The HTTP group: printed, and its section of docs/benchmarks.md. */
async function httpGroup(sshd: Awaited<ReturnType<typeof startSshd>>, m: ReturnType<typeof machine>) {
  const rows: Row[] = [];
  const t0 = now();
  const results = await httpBenchmarks(rows, { quick, sshd, defer: (fn) => cleanups.push(fn) });
  console.log('');
  printHttpTables(rows, results);
  console.log(`(HTTP group: ${((now() - t0) / 1000).toFixed(0)} s)`);
  return httpSection(rows, results, m);
}

/** The fleet group: printed, and its section of docs/benchmarks.md. */
async function fleets(m: ReturnType<typeof machine>): Promise<string> {
  const rows: Row[] = [];
  const { ratios, facts } = await fleetBenchmarks(rows, {
    quick,
    sizes: fleetSizes,
    defer: (fn) => cleanups.push(fn),
    ...(fleetCpuProf && { cpuProfDir: fleetCpuProf }),
  });
  console.log('');
  printTable(rows, ratios, `fan-out of echo hi (ms), ${facts.seconds.toFixed(0)} s in all`);
  return fleetSection(rows, ratios, m, facts);
}

async function main(): Promise<void> {
  const m = machine();
  if (fleetOnly) {
    const section = await fleets(m);
    if (quick) console.log('\n(--quick: docs/benchmarks.md not written)');
    else {
      writeFleetSection(DOCS, section);
      console.log(`\nwrote the fleet section of ${DOCS}`);
    }
    return;
  }
  if (configOnly) {
    const section = await configChanges(m);
    if (quick) console.log('\n(--quick: docs/benchmarks.md not written)');
    else {
      writeConfigSection(DOCS, section);
      console.log(`\nwrote the configuration change section of ${DOCS}`);
    }
    return;
  }
  const sshd = await startSshd();
  cleanups.push(() => sshd.stop());
  if (httpOnly) {
    const section = await httpGroup(sshd, m);
    if (quick) console.log('\n(--quick: docs/benchmarks.md not written)');
    else {
      writeHttpSection(DOCS, section);
      console.log(`\nwrote the HTTP section of ${DOCS}`);
    }
    return;
  }
  // Sizes first, on a server of their own, so the lists hold only what the cost run did.
  let costText: string | undefined;
  if (!floorsOnly && !filesOnly) {
    const costRows = await costBenchmarks(sshd);
    printCostTable(costRows);
    console.log('');
    costText = costSection(costRows, BIG_COMMAND, revision());
    if (costOnly) {
      if (quick) console.log('(--quick: docs/benchmarks.md not written)');
      else {
        writeCostSection(DOCS, costText);
        console.log(`wrote the cost section of ${DOCS}`);
      }
      return;
    }
  }
  const key = readKey(sshd);
  const ssh = await sshConnect(sshd, key);
  cleanups.push(() => ssh.end());
  const shell = await RawShell.open(ssh, 'exec bash --noprofile --norc 2>&1');
  cleanups.push(() => shell.close());
  const noop = await spawnMcp(NOOP_SERVER, sshd.clientHome);
  cleanups.push(() => noop.close());
  let server: McpProcess | undefined;
  if (!floorsOnly) {
    server = await spawnMcp(SERVER_CLI, sshd.clientHome, undefined, WHOLE_RESULTS);
    cleanups.push(() => server?.close());
  }
  const exec = async (command: string) => {
    const r = await (server as McpProcess).call('execute_command', {
      host: 'testhost',
      command,
      timeout: 60,
    });
    type Result = { output?: string; exitCode?: number; truncated?: boolean; durationMs?: number };
    const s = r.structuredContent as Result | undefined;
    check(s?.exitCode === 0 && !s.truncated, `execute_command ${command}`, s);
    lastServerMs = s?.durationMs ?? Number.NaN;
    return s?.output ?? '';
  };

  const fileRows: Row[] = [];
  const files = async () => {
    const fileRatios = await fileBenchmarks(fileRows, {
      quick,
      server: server as McpProcess,
      sshd,
      defer: (fn) => cleanups.push(fn),
    });
    printTable(fileRows, fileRatios, 'file transfers (ms)');
    return filesSection(fileRows, fileRatios, m);
  };
  if (filesOnly && server) {
    const section = await files();
    if (quick) console.log('\n(--quick: docs/benchmarks.md not written)');
    else {
      writeFilesSection(DOCS, section);
      console.log(`\nwrote the file transfer section of ${DOCS}`);
    }
    return;
  }

  const rows: Row[] = [];
  await measure(
    rows,
    present([
      {
        key: 'A',
        label: 'A  raw ssh2 shell round trip, echo hi',
        n: 300,
        warmup: 30,
        run: () => timed(async () => check((await shell.run('echo hi')) === 'hi\n', 'raw shell echo', '')),
      },
      {
        key: 'B',
        label: 'B  MCP no-op tool call',
        n: 300,
        warmup: 30,
        run: () =>
          timed(async () => {
            const r = await noop.call('noop');
            check(r.content[0]?.type === 'text' && r.content[0].text === 'ok', 'noop', r);
          }),
      },
      !floorsOnly && {
        key: 'echo',
        label: 'execute_command echo hi (warm)',
        n: 300,
        warmup: 30,
        run: () => timed(async () => check((await exec('echo hi')) === 'hi\n', 'echo hi', '')),
        also: inServer('echo'),
      },
    ]),
    180_000,
  );

  await measure(
    rows,
    present([
      {
        key: 'rawExec',
        label: 'raw exec seq 1 50000, no pty',
        n: 25,
        warmup: 3,
        run: () => timed(async () => checkLength(await rawExec(ssh, SEQ, false), 'raw exec')),
      },
      {
        key: 'payload',
        label: 'B2 MCP no-op returning the same bytes in text + structuredContent',
        n: 25,
        warmup: 3,
        run: () =>
          timed(async () => {
            const r = await noop.call('payload');
            const s = r.structuredContent as { output?: string } | undefined;
            checkLength(s?.output ?? '', 'payload');
          }),
      },
      {
        key: 'rawPty',
        label: 'raw exec seq 1 50000, pty (info)',
        n: 25,
        warmup: 3,
        run: () => timed(async () => checkLength(await rawExec(ssh, SEQ, true), 'raw exec pty')),
      },
      {
        key: 'rawShellSeq',
        label: 'raw shell seq 1 50000 (info)',
        n: 25,
        warmup: 3,
        run: () => timed(async () => checkLength(await shell.run(SEQ, 30_000), 'raw shell seq')),
      },
      !floorsOnly && {
        key: 'seq',
        label: 'execute_command seq 1 50000 (warm)',
        n: 25,
        warmup: 3,
        run: () => timed(async () => checkLength(await exec(SEQ), 'execute_command seq')),
        also: inServer('seq'),
      },
    ]),
    240_000,
  );

  await measure(
    rows,
    present([
      {
        key: 'connect',
        label: 'new ssh2 conn + bash -l + true (info)',
        n: 25,
        warmup: 2,
        run: async () => {
          const t0 = now();
          const client = await sshConnect(sshd, key);
          try {
            const sh = await RawShell.open(client, DIALECT_SHELL);
            await sh.run('true');
            return now() - t0;
          } finally {
            client.end();
          }
        },
      },
      !floorsOnly && {
        key: 'first',
        label: 'first command on a new session',
        n: 25,
        warmup: 2,
        run: async () => {
          await (server as McpProcess).call('close_session', { host: 'testhost' });
          return timed(() => exec('true'));
        },
      },
    ]),
    180_000,
  );

  const spawnToList = (script: string, tool: string) => async () => {
    const t0 = now();
    const p = await spawnMcp(script, sshd.clientHome); // spawn, initialize, tools/list
    const ms = now() - t0;
    await p.close();
    check(p.tools.includes(tool), `${script} tools/list`, p.tools);
    return ms;
  };
  await measure(
    rows,
    present([
      {
        key: 'spawnNoop',
        label: 'spawn no-op server to tools/list',
        n: 15,
        warmup: 1,
        run: spawnToList(NOOP_SERVER, 'noop'),
      },
      !floorsOnly && {
        key: 'spawnServer',
        label: 'spawn dist/cli.js to tools/list',
        n: 15,
        warmup: 1,
        run: spawnToList(SERVER_CLI, 'execute_command'),
      },
    ]),
    180_000,
  );

  const at = (key: string) => p50(rows.find((r) => r.key === key));
  const ratios: Ratio[] = [
    {
      label: 'echo hi via MCP / (A + B)',
      unit: 'x',
      value: at('echo') / (at('A') + at('B')),
      formula: 'echo p50 / (A p50 + B p50)',
      target: 1.5,
    },
    {
      label: 'seq 1 50000 via MCP / raw exec',
      unit: 'x',
      value: at('seq') / at('rawExec'),
      formula: 'seq p50 / raw exec (no pty) p50',
      target: 1.5,
    },
    {
      label: 'B2 alone / raw exec (why the line above is over)',
      unit: 'x',
      value: at('payload') / at('rawExec'),
      formula: 'B2 p50 / raw exec (no pty) p50',
    },
    {
      label: 'seq 1 50000 via MCP / (raw exec + B2)',
      unit: 'x',
      value: at('seq') / (at('rawExec') + at('payload')),
      formula: 'seq p50 / (raw exec p50 + B2 p50)',
    },
    {
      label: 'first command on a new session',
      unit: 'ms',
      value: at('first'),
      formula: 'first p50',
      target: 150,
    },
    {
      label: 'first command / new ssh2 connection',
      unit: 'x',
      value: at('first') / at('connect'),
      formula: 'first p50 / new ssh2 conn p50',
    },
    {
      label: 'spawn to tools/list / no-op server',
      unit: 'x',
      value: at('spawnServer') / at('spawnNoop'),
      formula: 'dist/cli.js p50 / no-op p50',
    },
  ];

  const deviceRows: Row[] = [];
  const deviceRatios = await deviceBenchmarks(deviceRows, {
    quick,
    floorsOnly,
    defer: (fn) => cleanups.push(fn),
  });

  const fileSection = server ? await files() : undefined;
  const configText = floorsOnly ? undefined : await configChanges(m);
  const httpText = floorsOnly ? undefined : await httpGroup(sshd, m);
  // Last: hundreds of sshd and bash processes leave the machine busy for a while after.
  const fleetText = floorsOnly ? undefined : await fleets(m);

  printTable(rows, ratios);
  console.log('');
  printTable(deviceRows, deviceRatios, 'network devices (ms)');
  if (quick || floorsOnly) console.log('\n(--quick or --floors: docs/benchmarks.md not written)');
  else {
    writeMarkdown(
      DOCS,
      rows,
      ratios,
      m,
      {
        rows: deviceRows,
        ratios: deviceRatios,
        configLines: CONFIG_LINES,
        configBytes: CONFIG_BYTES,
        small: SMALL_PIECES.label,
        large: LARGE_PIECES.label,
        matchBytes: MATCH_BYTES,
      },
      fileSection,
      costText,
      configText,
      httpText,
      fleetText,
    );
    console.log(`\nwrote ${DOCS}`);
  }
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} min, giving up`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
try {
  await main();
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
  clearTimeout(watchdog);
}
