// npm run fuzz [-- --seed N --count N --case N --bound MS --dialect-bound MS --no-dialects --only TEXT --samples]
// Spawns the built server (dist/cli.js) and sends it malformed and hostile input, seeded and reproducible:
// over stdio, and (the http group) over `serve --http` with hostile HTTP. Every input must get a fitting,
// well-formed answer within the bound; see test/fuzz/README.md.
import { parseArgs } from 'node:util';
import { RawClient } from '../support/raw-client.js';
import type { FuzzCase } from './case.js';
import { runDialectScenarios } from './dialects.js';
import { Driver, type Outcome } from './driver.js';
import { makeFixtures } from './fixtures.js';
import { type HttpCase, httpCase, runHttpCase } from './http.js';
import { HttpTarget } from './http-target.js';
import { protocolGenerators } from './protocol-cases.js';
import { report } from './report.js';
import { Rng } from './rng.js';
import { resourceCase, type ToolSchema, toolCase } from './tool-cases.js';
import type { Fixtures } from './values.js';

const PRELOAD = new URL('./loopback-only.mjs', import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string', default: '3000' },
    case: { type: 'string' },
    bound: { type: 'string', default: '5000' },
    'dialect-bound': { type: 'string', default: '15000' },
    'no-dialects': { type: 'boolean', default: false },
    only: { type: 'string' },
    samples: { type: 'boolean', default: false },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const count = Number(values.count);
const bound = Number(values.bound);
const onlyCase = values.case === undefined ? undefined : Number(values.case);
const only = values.only;

/** Rare kinds are the expensive ones (10 MiB messages); the rest share the draw evenly. */
const WEIGHTS: Record<string, number> = { oversized: 0.15, 'huge strings': 0.5, 'deep nesting': 0.5 };

function pickKind(rng: Rng, kinds: string[]): string {
  const total = kinds.reduce((sum, k) => sum + (WEIGHTS[k] ?? 1), 0);
  let x = rng.next() * total;
  for (const k of kinds) {
    x -= WEIGHTS[k] ?? 1;
    if (x < 0) return k;
  }
  return kinds[kinds.length - 1] as string;
}

/** The share of cases that go to the `serve --http` server (the http group): each costs a few requests more. */
const HTTP_SHARE = 0.05;
const GROUPS = ['protocol', 'tools', 'resources', 'http'];

function groupOf(draw: number): string {
  return draw < 0.45 ? 'protocol' : draw < 0.9 ? 'tools' : draw < 1 - HTTP_SHARE ? 'resources' : 'http';
}

/** `--only` naming a group (`http`, `tools/read_file`): the cases of other groups are not even made. */
const onlyGroup = only?.split('/')[0];
const skipsGroup = (group: string) =>
  onlyGroup !== undefined && GROUPS.includes(onlyGroup) && onlyGroup !== group;

/**
 * Case `index` of the run: made from the seed and the index alone, so it can be replayed on its own.
 * Undefined when `--only` names another group (so a long `--only http` run makes no 10 MiB stdio cases).
 */
function makeCase(
  index: number,
  base: Rng,
  tools: ToolSchema[],
  f: Fixtures,
): FuzzCase | HttpCase | undefined {
  const rng = base.fork(index);
  const draw = rng.next();
  const group = groupOf(draw);
  if (skipsGroup(group)) return undefined;
  if (group === 'http') return httpCase(rng);
  let c: FuzzCase;
  if (draw < 0.45) {
    const kind = pickKind(rng, Object.keys(protocolGenerators));
    c = {
      group: 'protocol',
      kind,
      lines: (protocolGenerators[kind] as (r: Rng, f: Fixtures) => FuzzCase['lines'])(rng, f),
    };
  } else if (draw < 0.9) {
    c = { group: 'tools', ...toolCase(tools, rng, f) };
  } else c = { group: 'resources', kind: 'resources', lines: resourceCase(rng, f) };
  if (rng.chance(0.2)) {
    // The same bytes, written in pieces cut anywhere (inside a UTF-8 sequence, between \r and \n ...).
    const size = c.lines.reduce((sum, l) => sum + l.bytes.length + 1, 0);
    c.cuts = Array.from({ length: rng.int(1, 6) }, () => rng.int(1, Math.max(1, size - 1)));
  }
  return c;
}

async function start(
  f: Fixtures,
  env: Record<string, string> = {},
  ports: number[] = [],
): Promise<RawClient> {
  const client = new RawClient({
    nodeArgs: ['--import', PRELOAD],
    cwd: f.dir,
    env: {
      HOME: f.dir,
      MCP_SSH_SESSION_LOG_LEVEL: 'error',
      // Every tool is fuzzed.
      MCP_SSH_TOOLS: 'all',
      FUZZ_ALLOWED_PORTS: [f.refusedPort, f.closingPort, ...ports].join(','),
      ...env,
    },
  });
  await client.initialize();
  return client;
}

/** The tools the stdio server offers, for the tool cases. */
async function listTools(f: Fixtures): Promise<ToolSchema[]> {
  const first = await start(f);
  const listed = await first.request({ id: 'tools', method: 'tools/list' });
  await first.close();
  const tools = (listed?.result as { tools?: ToolSchema[] } | undefined)?.tools;
  if (!tools) throw new Error(`tools/list failed: ${JSON.stringify(listed)}`);
  return tools;
}

async function main(): Promise<number> {
  process.stdout.write(
    `mcp-ssh-session fuzz: seed ${seed}, ${onlyCase === undefined ? `${count} cases` : `case ${onlyCase}`}\n`,
  );
  const f = await makeFixtures();
  const http = new HttpTarget(f, bound);
  const stop = () => void Promise.allSettled([http.close(), f.close()]).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    // Asked of a stdio server when the first tool case comes up (an http-only run starts none).
    let tools: ToolSchema[] | undefined;
    const base = new Rng(seed);
    const driver = new Driver(() => start(f));
    const outcomes: Outcome[] = [];
    const started = performance.now();
    const indices = onlyCase === undefined ? [...Array(count).keys()] : [onlyCase];
    const show = onlyCase === undefined ? undefined : (text: string) => process.stdout.write(`${text}\n`);
    for (const index of indices) {
      const group = groupOf(base.fork(index).next());
      if (!tools && group === 'tools' && !skipsGroup(group)) tools = await listTools(f);
      const c = makeCase(index, base, tools ?? [], f);
      if (!c || (only && !`${c.group}/${c.kind}`.includes(only))) continue;
      const outcome =
        'plan' in c ? await runHttpCase(http, index, c, bound, show) : await driver.run(index, c, bound);
      outcomes.push(outcome);
      if (onlyCase !== undefined) {
        process.stdout.write(
          `${c.group}/${c.kind}: ${outcome.verdict} in ${outcome.ms} ms ${outcome.why ?? ''}\n`,
        );
        if ('lines' in c)
          process.stdout.write(
            `input: ${c.lines.map((l) => l.bytes.toString('utf8').slice(0, 400)).join('\n')}\n`,
          );
      }
      if ((outcomes.length % 500 === 0 && outcomes.length > 0) || outcome.verdict !== 'ok') {
        const s = ((performance.now() - started) / 1000).toFixed(0);
        process.stdout.write(
          `  ${outcomes.length} cases, ${s} s${outcome.verdict === 'ok' ? '' : `; #${index} ${outcome.verdict}`}\n`,
        );
      }
    }
    await driver.close();
    await http.close();
    const dialects =
      values['no-dialects'] || onlyCase !== undefined
        ? []
        : await runDialectScenarios(
            (dir, ports) => start(f, { MCP_SSH_DIALECT_PATH: dir }, ports),
            f.dir,
            Number(values['dialect-bound']),
            count,
            only ? (name) => `dialects/${name}`.includes(only) : undefined,
          );
    if (values.samples) {
      // Every distinct error text (numbers and quoted values folded), to read what callers are told.
      const seen = new Map<string, string>();
      for (const o of outcomes) {
        const key = (o.sample ?? '').replace(/"[^"]*"|\d+/g, '…').slice(0, 90);
        if (/error/.test(key) && !seen.has(key)) seen.set(key, `${o.group}/${o.kind}: ${o.sample}`);
      }
      process.stdout.write(
        `\ndistinct errors (${seen.size}):\n${[...seen.values()].map((t) => `  ${t}`).join('\n')}\n`,
      );
    }
    const { text, failures } = report(outcomes, dialects, seed);
    process.stdout.write(`\n${text}\n\n${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return failures > 0 ? 1 : 0;
  } finally {
    await http.close();
    await f.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`fuzz: ${error.stack ?? error.message}\n`);
    process.exit(2);
  },
);
