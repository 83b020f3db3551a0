// The summary table at the end of a run, and the verdict.
import { type Leftovers, leakedTotal } from './leftovers.js';
import type { Bound, PhaseResult } from './phase.js';
import { PROBLEM_LABEL, PROBLEMS, type Problem } from './tally.js';

const COLUMNS = ['calls', 'ok', ...PROBLEMS, 'leaked', 'time'] as const;
const HEADERS: Record<(typeof COLUMNS)[number], string> = {
  calls: 'calls',
  ok: 'fine',
  ...PROBLEM_LABEL,
  leaked: 'leaked',
  time: 'time',
};

/** Prints the table, the bounds and the verdict; true when the run passed. */
export function printSummary(results: PhaseResult[], elapsedMs: number, maxRunMs: number): boolean {
  const rows = results.map((r) => row(r));
  const totals = Object.fromEntries(
    COLUMNS.map((c) => [c, c === 'time' ? seconds(elapsedMs) : String(sum(rows.map((r) => Number(r[c]))))]),
  ) as Record<(typeof COLUMNS)[number], string>;
  const table = [
    ['phase', ...COLUMNS.map((c) => HEADERS[c])],
    ...results.map((r, i) => [r.name, ...COLUMNS.map((c) => (r.skipped ? '-' : (rows[i]?.[c] ?? '')))]),
    ['total', ...COLUMNS.map((c) => totals[c])],
  ];
  const widths = (table[0] ?? []).map((_, col) => Math.max(...table.map((line) => (line[col] ?? '').length)));
  console.log('\n== Summary');
  for (const line of table) {
    console.log(
      `  ${line.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join('  ')}`,
    );
  }
  for (const r of results) {
    if (r.skipped) console.log(`  ${r.name}: skipped: ${r.skipped}`);
    if (r.error) console.log(`  ${r.name}: the phase broke: ${r.error}`);
  }

  const bounds: Bound[] = [
    ...results.flatMap((r) => r.bounds),
    exitBound(results),
    {
      label: 'whole run',
      measured: `${seconds(elapsedMs)} of ${seconds(maxRunMs)}`,
      ok: elapsedMs <= maxRunMs,
    },
  ];
  console.log('\n  bounds:');
  for (const b of bounds) console.log(`    ${b.ok ? 'ok  ' : 'OVER'}  ${b.label}: ${b.measured}`);

  const failures = [
    ...PROBLEMS.filter((p) => Number(totals[p]) > 0).map((p) => `${PROBLEM_LABEL[p]} ${totals[p]}`),
    ...(Number(totals.leaked) > 0 ? [`leaked ${totals.leaked}`] : []),
    ...bounds.filter((b) => !b.ok).map((b) => `bound exceeded: ${b.label}`),
    ...results.filter((r) => r.error).map((r) => `${r.name} broke`),
  ];
  console.log(failures.length === 0 ? '\nsoak: PASS' : `\nsoak: FAIL (${failures.join('; ')})`);
  return failures.length === 0;
}

function row(r: PhaseResult): Record<(typeof COLUMNS)[number], string> {
  const t = r.tally;
  const fine = t ? t.fine.completed + t.fine.failedWithCause + t.fine.interrupted : 0;
  const problems = Object.fromEntries(PROBLEMS.map((p) => [p, String(t?.problems[p as Problem] ?? 0)]));
  return {
    calls: String(t?.callTotal ?? 0),
    ok: String(fine),
    ...(problems as Record<Problem, string>),
    leaked: String(r.leftovers ? leakedTotal(r.leftovers as Leftovers) : 0),
    time: seconds(r.elapsedMs),
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
}

function seconds(ms: number): string {
  return ms >= 60_000
    ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`
    : `${(ms / 1000).toFixed(1)}s`;
}

/** A client waits 2 s after closing stdin before it signals, then kills: what is not cleaned up by then stays. */
function exitBound(results: PhaseResult[]): Bound {
  const stopped = results.filter((r) => r.leftovers?.exitedOnStdinClose !== undefined);
  const slow = stopped.filter((r) => r.leftovers?.exitedOnStdinClose === false).map((r) => r.name);
  return {
    label: 'exit within 2 s of stdin closing',
    measured:
      slow.length === 0 ? `${stopped.length} of ${stopped.length} phases` : `not in ${slow.join(', ')}`,
    ok: slow.length === 0,
  };
}
