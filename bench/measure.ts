// Cases, the interleaved measuring loop and small checks, shared by the Linux and the network-device groups.
import type { Row } from './report.js';

/** A value recorded next to each timed sample of a case, as a row of its own (e.g. the server's durationMs). */
export interface Also {
  key: string;
  label: string;
  /** Read right after each timed sample. */
  value: () => number;
}

export interface Case {
  key: string;
  label: string;
  n: number;
  warmup: number;
  /** One sample (milliseconds, unless the label says otherwise); throws if the result is wrong. */
  run: () => Promise<number>;
  also?: Also[];
}

export const now = () => performance.now();

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

export function check(ok: boolean, what: string, got: unknown): void {
  if (!ok) throw new Error(`${what}: unexpected result ${JSON.stringify(got)?.slice(0, 300)}`);
}

/** Cases that are `false` (not run in this mode) are dropped. */
export const present = (cases: (Case | false)[]) => cases.filter((c): c is Case => c !== false);

const ROUNDS = 5;

/**
 * Warm-up, then ROUNDS interleaved rounds over the cases, until every case has n samples or time is up.
 * `quick` takes a tenth of the samples (at least 3) and at most 2 warm-up runs.
 */
export async function measure(rows: Row[], cases: Case[], budgetMs: number, quick: boolean): Promise<void> {
  const deadline = Date.now() + budgetMs;
  const scaled = cases.map((c) =>
    quick ? { ...c, n: Math.max(3, Math.ceil(c.n / 10)), warmup: Math.min(c.warmup, 2) } : c,
  );
  for (const c of scaled) for (let i = 0; i < c.warmup && Date.now() < deadline; i++) await c.run();
  const group = scaled.map((c) => {
    const row: Row = { key: c.key, label: c.label, wanted: c.n, samples: [] };
    const extra = (c.also ?? []).map((a) => ({
      a,
      row: { key: a.key, label: a.label, wanted: c.n, samples: [] } as Row,
    }));
    return { c, row, extra };
  });
  rows.push(...group.flatMap((g) => [g.row, ...g.extra.map((e) => e.row)]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const { c, row, extra } of group) {
      const upTo = Math.ceil((c.n * round) / ROUNDS);
      while (row.samples.length < upTo && Date.now() < deadline) {
        row.samples.push(await c.run());
        for (const e of extra) e.row.samples.push(e.a.value());
      }
    }
  }
}
