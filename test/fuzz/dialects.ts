import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { iosProfile } from '../simulators/ios.js';
import type { RawClient } from '../support/raw-client.js';
import { type FuzzCase, request, toolCall } from './case.js';
import { Driver, type Outcome } from './driver.js';

/** Catastrophic backtracking in the shapes people write by mistake. */
const CATASTROPHIC = ['(a+)+$', '^(a|a)*$', '^(\\w+\\s?)*$', '(.*a){12}x', '^(a|aa)+$', '(x+x+)+y'];

/** A valid dialect on top of a built-in: the smallest file that loads. */
const small = (name: string, extra = '', base = 'linux') =>
  `name: ${name}\nextends: ${base}\ndescription: fuzz ${name}\n${extra}`;

export interface Scenario {
  name: string;
  /** Writes the dialect folder; may start simulators (closed after the scenario). */
  setup(dir: string): Promise<DeviceSimulator[]> | DeviceSimulator[];
  /** The calls to time, made after setup; `sims` are what setup started. */
  calls(sims: DeviceSimulator[]): FuzzCase['lines'][];
  /**
   * A bound of its own for calls known to hang: long enough to show it, short enough to keep the run short
   * and memory in check (reading /dev/zero grows the server by about 80 MB a second).
   */
  boundMs?: number;
}

const list = () => [toolCall('list_dialects', {})];
const resources = () => [request('resources/list', {})];
const read = (name: string) => [request('resources/read', { uri: `dialect://${name}` })];
/** A command naming the dialect against a port that refuses: loads the dialect, then fails to connect. */
const use = (name: string) => [
  toolCall('execute_command', { host: '127.0.0.1', port: 1, command: 'true', dialect: name }),
];

export const SCENARIOS: Scenario[] = [
  {
    name: 'invalid YAML and schema errors',
    setup: (dir) => {
      const files: Record<string, string | Buffer> = {
        'tabs.yaml': 'name: tabs\n\tdescription: x\n',
        'unclosed.yaml': 'name: "unclosed\n',
        'binary.yaml': Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x1b]),
        'dupes.yaml': 'name: dupes\nname: dupes\n',
        'laughs.yaml': `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n')}\nname: laughs\n`,
        'js.yaml': 'name: js\ndescription: !!js/function "function(){}"\n',
        'proto.yaml': 'name: proto\n__proto__: { polluted: true }\nconstructor: { prototype: { x: 1 } }\n',
        'wrongname.yaml': small('other'),
        'UPPER.yaml': small('UPPER'),
        '.yaml': small(''),
        'empty.yaml': '',
        'list.yaml': '- a\n- b\n',
        'badregex.yaml': small('badregex', 'errors:\n  - "(unclosed"\n  - "[z-a]"\n  - "(?<n>a)(?<n>b)"\n'),
        'badtemplate.yaml': small(
          'badtemplate',
          'completion:\n  strategy: marker\n  send: "{{nope|nofilter}}"\n  match: "x"\n',
        ),
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
      mkdirSync(path.join(dir, 'folder.yaml'));
      symlinkSync('loop.yaml', path.join(dir, 'loop.yaml'));
      symlinkSync('/nonexistent', path.join(dir, 'dangling.yaml'));
      return [];
    },
    calls: () => [
      list(),
      resources(),
      read('laughs'),
      read('binary'),
      read('loop'),
      use('badregex'),
      use('js'),
    ],
  },
  {
    name: 'catastrophic regexes (50 dialects)',
    setup: (dir) => {
      for (let i = 0; i < 50; i++) {
        const re = JSON.stringify(CATASTROPHIC[i % CATASTROPHIC.length]);
        writeFileSync(
          path.join(dir, `cat${i}.yaml`),
          small(
            `cat${i}`,
            `errors:\n  - ${re}\npagers:\n  - { pattern: ${re}, send: " " }\ninput_wait:\n  prompts:\n    - { kind: question, pattern: ${re} }\ndetect:\n  prompt: ${re}\n`,
            'cisco-ios',
          ),
        );
      }
      return [];
    },
    calls: () => [list(), resources(), read('cat7'), use('cat3')],
  },
  {
    name: 'one 50 MiB dialect file',
    setup: (dir) => {
      writeFileSync(path.join(dir, 'huge.yaml'), `${small('huge')}# ${'x'.repeat(50 * 1024 * 1024)}\n`);
      return [];
    },
    calls: () => [list(), read('huge'), use('huge')],
  },
  {
    name: 'extends chain of 200',
    setup: (dir) => {
      for (let i = 0; i < 200; i++)
        writeFileSync(path.join(dir, `c${i}.yaml`), small(`c${i}`, '', i === 0 ? 'linux' : `c${i - 1}`));
      return [];
    },
    calls: () => [use('c199'), list()],
  },
  {
    name: 'extends cycles',
    setup: (dir) => {
      writeFileSync(path.join(dir, 'ca.yaml'), small('ca', '', 'cb'));
      writeFileSync(path.join(dir, 'cb.yaml'), small('cb', '', 'cc'));
      writeFileSync(path.join(dir, 'cc.yaml'), small('cc', '', 'ca'));
      writeFileSync(path.join(dir, 'self.yaml'), small('self', '', 'self'));
      writeFileSync(path.join(dir, 'missing.yaml'), small('missing', '', 'no-such-dialect'));
      return [];
    },
    calls: () => [list(), use('ca'), use('self'), use('missing')],
  },
  {
    name: '2000 dialects',
    setup: (dir) => {
      for (let i = 0; i < 2000; i++) writeFileSync(path.join(dir, `m${i}.yaml`), small(`m${i}`));
      return [];
    },
    calls: () => [list(), resources(), read('m1999')],
  },
  {
    name: 'a FIFO named like a dialect',
    setup: (dir) => {
      execFileSync('mkfifo', [path.join(dir, 'fifo.yaml')]);
      return [];
    },
    calls: () => [read('fifo'), list()],
    boundMs: 8000,
  },
  {
    name: 'a dialect file linked to /dev/zero',
    setup: (dir) => {
      symlinkSync('/dev/zero', path.join(dir, 'zero.yaml'));
      return [];
    },
    calls: () => [read('zero')],
    boundMs: 5000,
  },
  ...[16, 20, 24, 26].map(
    (n): Scenario => ({
      name: `detection with detect.prompt (a+)+$ against a ${n}-character prompt`,
      setup: async (dir) => {
        writeFileSync(
          path.join(dir, 'evil.yaml'),
          small('evil', 'detect:\n  prompt: "^(a+)+$"\n', 'cisco-ios'),
        );
        return [await startDeviceSimulator(iosProfile({ hostname: 'a'.repeat(n) }))];
      },
      calls: (sims) => {
        const sim = sims[0] as DeviceSimulator;
        const target = { host: '127.0.0.1', port: sim.port, username: sim.username, password: sim.password };
        return [[toolCall('execute_command', { ...target, command: 'show clock', timeout: 20 })]];
      },
    }),
  ),
];

export interface DialectRun {
  scenario: string;
  outcomes: Outcome[];
}

/** Runs every scenario on a server of its own, one call at a time, each timed. */
export async function runDialectScenarios(
  startWith: (dialectDir: string, ports: number[]) => Promise<RawClient>,
  workDir: string,
  boundMs: number,
  firstIndex: number,
  only?: (name: string) => boolean,
): Promise<DialectRun[]> {
  const runs: DialectRun[] = [];
  let index = firstIndex;
  for (const [n, scenario] of SCENARIOS.entries()) {
    if (only && !only(scenario.name)) continue;
    const dir = path.join(workDir, `dialects-${n}`);
    mkdirSync(dir);
    const sims = await scenario.setup(dir);
    const driver = new Driver(() =>
      startWith(
        dir,
        sims.map((s) => s.port),
      ),
    );
    const outcomes: Outcome[] = [];
    try {
      for (const lines of scenario.calls(sims)) {
        const kind = `${scenario.name}: ${describe(lines[0]?.bytes)}`;
        const bound = scenario.boundMs ?? boundMs;
        outcomes.push(await driver.run(index++, { group: 'dialects', kind, lines, boundMs: bound }, bound));
      }
    } finally {
      await driver.close();
      await Promise.all(sims.map((s) => s.close()));
    }
    runs.push({ scenario: scenario.name, outcomes });
  }
  return runs;
}

/** `list_dialects`, `resources/read dialect://x`: what a call was, for the report. */
function describe(bytes: Buffer | undefined): string {
  const m = JSON.parse(bytes?.toString() ?? '{}') as {
    method?: string;
    params?: { name?: string; uri?: string; arguments?: { dialect?: string } };
  };
  if (m.method === 'tools/call') {
    const dialect = m.params?.arguments?.dialect;
    return `${m.params?.name}${dialect ? ` (dialect ${dialect})` : ''}`;
  }
  return `${m.method}${m.params?.uri ? ` ${m.params.uri}` : ''}`;
}
