// What every phase gets and gives back.
import { join } from 'node:path';
import type { Sizes } from './config.js';
import type { Fleet } from './fleet.js';
import type { Leftovers } from './leftovers.js';
import { type ServerStart, type SoakServer, startServer } from './server.js';
import { PROBLEM_LABEL, PROBLEMS, type Tally } from './tally.js';
import type { Target } from './target.js';

export interface Ctx {
  fleet: Fleet;
  sizes: Sizes;
  /** The client HOME every server gets (its known_hosts fills as sessions open). */
  home: string;
  /** This run's private folder. */
  workDir: string;
}

/** A bound checked in a phase, with the measured figure either way. */
export interface Bound {
  label: string;
  measured: string;
  ok: boolean;
}

export interface PhaseResult {
  name: string;
  tally?: Tally;
  leftovers?: Leftovers;
  bounds: Bound[];
  skipped?: string;
  /** The phase itself broke (the suite, not a count): the run fails. */
  error?: string;
  elapsedMs: number;
}

/** Sessions on the fleet's addresses, from `first` on. */
export function targets(ctx: Ctx, count: number, first = 0): Target[] {
  return ctx.fleet.addresses.slice(first, first + count).map((host) => ({
    host,
    port: ctx.fleet.port,
    username: ctx.fleet.user,
    keyPath: ctx.fleet.keyPath,
  }));
}

/** A fresh server for a phase, with a TMPDIR of its own. */
export function serverFor(ctx: Ctx, phase: string, more: Partial<ServerStart> = {}): Promise<SoakServer> {
  return startServer({ home: ctx.home, tmpDir: join(ctx.workDir, `tmp-${phase}`), ...more });
}

/** The figures every phase prints for its results. */
export function printTally(t: Tally): void {
  const calls = [...t.calls].map(([tool, n]) => `${tool} ${n}`).join(', ');
  console.log(`  tool calls: ${t.callTotal} (${calls})`);
  const f = t.fine;
  console.log(
    `  results: completed ${f.completed}, failed with a cause ${f.failedWithCause}, interrupted by us ${f.interrupted}, running with an id ${f.running}`,
  );
  const causes = [...t.causes].sort((a, b) => b[1] - a[1]).slice(0, 6);
  for (const [cause, n] of causes) console.log(`    ${String(n).padStart(5)}  ${cause}`);
  console.log(`  problems: ${PROBLEMS.map((p) => `${PROBLEM_LABEL[p]} ${t.problems[p]}`).join(', ')}`);
  for (const [kind, { count, examples }] of [...t.kinds].sort((a, b) => b[1].count - a[1].count)) {
    console.log(`    ${String(count).padStart(5)}  ${kind}`);
    for (const example of examples) console.log(`             e.g. ${example}`);
  }
}

export function printLeftovers(l: Leftovers): void {
  console.log(
    `  left behind: ${l.connections} connections, ${l.remote} remote processes, ${l.tempDirs} spill folders`,
  );
  for (const d of l.detail) console.log(`    ${d}`);
}
