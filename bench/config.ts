// The configuration-change group: a 200-line change through `configure` (candidate or checkpoint, the
// device's diff, commit) against the Junos, EOS and IOS simulators, next to the same lines sent one by one
// with execute_command (enter configuration mode, 200 lines, commit or end): what the safety costs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DeviceSimulator, startDeviceSimulator } from '../test/simulators/device-sim.js';
import { eosProfile } from '../test/simulators/eos.js';
import { iosProfile } from '../test/simulators/ios.js';
import { junosProfile } from '../test/simulators/junos.js';
import { type McpProcess, SERVER_CLI, spawnMcp, WHOLE_RESULTS } from './mcp.js';
import { check, measure, now } from './measure.js';
import { p50, type Ratio, type Row } from './report.js';

export const CHANGE_LINES = 200;

interface Platform {
  key: string;
  label: string;
  dialect: string;
  sim: DeviceSimulator;
  /** 200 lines that change something new on run `n`. */
  lines(n: number): string[];
  /** What execute_command sends around the lines when they go one by one. */
  enter: string[];
  leave: string[];
}

/** Runs the configuration-change cases into `rows`; returns the ratios. */
export async function configBenchmarks(
  rows: Row[],
  o: { quick: boolean; defer: (fn: () => unknown) => void },
): Promise<Ratio[]> {
  const junos = await startDeviceSimulator(junosProfile({ hostname: 'bench-r1' }));
  o.defer(() => junos.close());
  const eos = await startDeviceSimulator(eosProfile({ hostname: 'bench-sw1', startPrivileged: true }));
  o.defer(() => eos.close());
  const ios = await startDeviceSimulator(iosProfile({ hostname: 'bench-rtr1', enableSecret: null }));
  o.defer(() => ios.close());

  const home = mkdtempSync(path.join(tmpdir(), 'bench-config-home-'));
  o.defer(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
  // Plain commits: the bench client cannot approve one (no elicitation), and a commit confirmed would
  // leave a timer running on the simulator between runs.
  const config = path.join(home, 'bench-config.yaml');
  const host = (name: string, sim: DeviceSimulator, dialect: string) => {
    const secret = path.join(home, `${name}.password`);
    writeFileSync(secret, sim.password, { mode: 0o600 });
    return `  ${name}:\n    host: 127.0.0.1\n    port: ${sim.port}\n    user: ${sim.username}\n    password: file:${secret}\n    dialect: ${dialect}\n`;
  };
  writeFileSync(
    config,
    `config_changes:\n  require_confirm_minutes: false\nhosts:\n${host('junos', junos, 'junos')}${host('eos', eos, 'arista-eos')}${host('ios', ios, 'cisco-ios')}`,
  );
  const server: McpProcess = await spawnMcp(SERVER_CLI, home, undefined, [
    ...WHOLE_RESULTS,
    '--config',
    config,
  ]);
  o.defer(() => server.close());

  const half = CHANGE_LINES / 2;
  const platforms: Platform[] = [
    {
      key: 'junos',
      label: 'Junos',
      dialect: 'junos',
      sim: junos,
      lines: (n) =>
        Array.from(
          { length: CHANGE_LINES },
          (_, i) => `set interfaces ge-0/0/${i} description bench-${n}-${i}`,
        ),
      enter: ['configure exclusive'],
      leave: ['commit', 'exit configuration-mode'],
    },
    {
      key: 'eos',
      label: 'EOS',
      dialect: 'arista-eos',
      sim: eos,
      lines: (n) =>
        Array.from({ length: half }, (_, i) => [
          `interface Ethernet${i + 1}`,
          `description bench-${n}-${i}`,
        ]).flat(),
      enter: ['configure terminal'],
      leave: ['end'],
    },
    {
      key: 'ios',
      label: 'IOS',
      dialect: 'cisco-ios',
      sim: ios,
      lines: (n) =>
        Array.from({ length: half }, (_, i) => [
          `interface Loopback${i}`,
          `description bench-${n}-${i}`,
        ]).flat(),
      enter: ['configure terminal'],
      leave: ['end'],
    },
  ];

  let run = 0;
  const target = (p: Platform) => ({ host: p.key });
  const configure = (p: Platform) => async () => {
    const lines = p.lines(++run);
    const start = now();
    const result = await server.call('configure', { ...target(p), lines }, 120_000);
    const ms = now() - start;
    const s = result.structuredContent as { outcome: string; diff?: string; committed?: string[] };
    check(
      s.outcome === 'committed' && (s.committed?.length ?? 0) === CHANGE_LINES,
      `${p.label} configure`,
      s,
    );
    check(
      (s.diff ?? '').includes(`bench-${run}-`),
      `${p.label} diff shows the change`,
      s.diff?.slice(0, 200),
    );
    return ms;
  };
  const oneByOne = (p: Platform) => async () => {
    const lines = p.lines(++run);
    const start = now();
    for (const command of [...p.enter, ...lines, ...p.leave]) {
      const result = await server.call('execute_command', { ...target(p), command }, 60_000);
      const s = result.structuredContent as { exitCode: number | null; error?: string };
      check(s.exitCode === 0, `${p.label} ${command}`, s.error ?? s);
    }
    return now() - start;
  };

  for (const p of platforms) {
    await measure(
      rows,
      [
        {
          key: `cfg.${p.key}.configure`,
          label: `${p.label}: configure, ${CHANGE_LINES} lines + diff + commit`,
          n: 10,
          warmup: 1,
          run: configure(p),
        },
        {
          key: `cfg.${p.key}.oneByOne`,
          label: `${p.label}: execute_command x ${CHANGE_LINES + p.enter.length + p.leave.length}`,
          n: 10,
          warmup: 1,
          run: oneByOne(p),
        },
      ],
      240_000,
      o.quick,
    );
  }
  const at = (key: string) => p50(rows.find((r) => r.key === key));
  return platforms.map((p) => ({
    label: `${p.label}: configure / one by one`,
    unit: 'x' as const,
    value: at(`cfg.${p.key}.configure`) / at(`cfg.${p.key}.oneByOne`),
    formula: 'configure p50 / execute_command loop p50',
  }));
}
