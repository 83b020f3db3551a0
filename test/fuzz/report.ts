import type { DialectRun } from './dialects.js';
import type { Outcome, Verdict } from './driver.js';

const BAD: Verdict[] = ['crash', 'hang', 'malformed', 'unclear', 'leak'];

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/** Counts per group, the dialect timings, and the first failures with how to replay each. */
export function report(
  outcomes: Outcome[],
  dialects: DialectRun[],
  seed: number,
): { text: string; failures: number } {
  const all = [...outcomes, ...dialects.flatMap((d) => d.outcomes)];
  const groups = [...new Set(all.map((o) => o.group))];
  const rows = [['group', 'cases', 'ok', ...BAD, 'p50 ms', 'p99 ms', 'max ms']];
  for (const group of [...groups, 'total']) {
    const of = group === 'total' ? all : all.filter((o) => o.group === group);
    const count = (v: Verdict) => String(of.filter((o) => o.verdict === v).length);
    const ms = of.map((o) => o.ms);
    rows.push([
      group,
      String(of.length),
      count('ok'),
      ...BAD.map(count),
      ...[50, 99, 100].map((p) => String(percentile(ms, p))),
    ]);
  }
  const lines = [`seed ${seed}`, '', table(rows)];
  const kinds = new Map<string, number>();
  for (const o of outcomes) for (const k of o.answers ?? []) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  const top = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 14);
  lines.push('', 'what came back (top answers):', ...top.map(([k, n]) => `  ${String(n).padStart(6)}  ${k}`));
  const time = new Map<string, [number, number]>();
  for (const o of outcomes) {
    const [n, ms] = time.get(`${o.group}/${o.kind}`) ?? [0, 0];
    time.set(`${o.group}/${o.kind}`, [n + 1, ms + o.ms]);
  }
  const slow = [...time].sort((a, b) => b[1][1] - a[1][1]).slice(0, 6);
  lines.push('', 'where the time went (kind: cases, total s):');
  lines.push(...slow.map(([k, [n, ms]]) => `  ${k}: ${n}, ${(ms / 1000).toFixed(1)}`));
  if (dialects.length > 0) {
    lines.push('', 'hostile dialect folders (one server each), time per call:');
    const drows = [['scenario: call', 'verdict', 'ms']];
    for (const run of dialects) for (const o of run.outcomes) drows.push([o.kind, o.verdict, String(o.ms)]);
    lines.push(table(drows));
    lines.push('', 'what each dialect call answered:');
    for (const run of dialects)
      for (const o of run.outcomes) lines.push(`  ${o.kind}: ${o.sample ?? '(nothing)'}`);
  }
  const failures = all.filter((o) => o.verdict !== 'ok');
  if (failures.length > 0) {
    lines.push(
      '',
      `failures (${failures.length}; replay one with: npm run fuzz -- --seed ${seed} --case N):`,
    );
    for (const o of failures.slice(0, 40))
      lines.push(`  #${o.index} ${o.group}/${o.kind}: ${o.verdict}: ${o.why ?? ''}`);
    if (failures.length > 40) lines.push(`  ... and ${failures.length - 40} more`);
  }
  return { text: lines.join('\n'), failures: failures.length };
}
