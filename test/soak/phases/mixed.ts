// Phase 1: many sessions, several callers each, a random mix of everything an agent does.
import { finishServer } from '../leftovers.js';
import { runLoad } from '../load.js';
import { type Ctx, type PhaseResult, printLeftovers, printTally, serverFor, targets } from '../phase.js';
import { Tally } from '../tally.js';

export async function mixedPhase(ctx: Ctx): Promise<PhaseResult> {
  const t0 = Date.now();
  const { sessions, callers, durationMs } = ctx.sizes.mixed;
  console.log(`\n== 1. mixed load: ${sessions} sessions x ${callers} callers for ${durationMs / 1000} s`);
  const server = await serverFor(ctx, 'mixed');
  const tally = new Tally('mixed load');
  const load = await runLoad({ server, tally }, { targets: targets(ctx, sessions), callers, durationMs });
  tally.settle();
  const leftovers = await finishServer(server, { port: ctx.fleet.port, uid: ctx.fleet.uid });
  const actions = [...load.actions].map(([name, n]) => `${name} ${n}`).join(', ');
  console.log(`  actions: ${actions}; ${Math.round(load.elapsedMs / 1000)} s`);
  printTally(tally);
  printLeftovers(leftovers);
  return { name: 'mixed load', tally, leftovers, bounds: [], elapsedMs: Date.now() - t0 };
}
