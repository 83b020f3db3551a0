// Mixed load: several callers per session, each drawing actions from the mix until the time is up.

import { ACTIONS, type Caller, pickAction, tokenCommand } from './actions.js';
import { BACKGROUND_FINAL_MS, CALL_GRACE_MS } from './config.js';
import { between, sleep, type Target } from './target.js';
import type { Judge } from './verdict.js';

/** No caller runs more actions than this, however fast they go. */
const MAX_ACTIONS_PER_CALLER = 5_000;
/**
 * After the time is up, the longest an action may still need: a call's bound, then following to the end,
 * then reading the pages of a finished output (a minute more is plenty once the load has stopped).
 */
const DRAIN_MS = CALL_GRACE_MS + BACKGROUND_FINAL_MS + 60_000;

export interface LoadPlan {
  targets: Target[];
  callers: number;
  durationMs: number;
}

export interface LoadFigures {
  actions: Map<string, number>;
  elapsedMs: number;
  /** Callers still busy when the drain bound ran out (each is also counted lost). */
  stuck: number;
}

export async function runLoad(j: Judge, plan: LoadPlan): Promise<LoadFigures> {
  const t0 = Date.now();
  const end = t0 + plan.durationMs;
  const actions = new Map<string, number>(ACTIONS.map((a) => [a.name, 0]));
  let finished = 0;
  const callers: Promise<void>[] = [];
  for (const target of plan.targets) {
    for (let i = 0; i < plan.callers; i++) {
      callers.push(callerLoop({ j, target }, i, end, actions).finally(() => finished++));
    }
  }
  const all = Promise.all(callers);
  const drained = await Promise.race([
    all.then(() => true),
    sleep(end + DRAIN_MS - Date.now()).then(() => false),
  ]);
  const stuck = drained ? 0 : callers.length - finished;
  if (stuck > 0)
    j.tally.problem('lost', `${stuck} callers still waiting ${DRAIN_MS} ms after the load ended`);
  return { actions, elapsedMs: Date.now() - t0, stuck };
}

async function callerLoop(c: Caller, index: number, end: number, actions: Map<string, number>) {
  // Every session starts fresh: odd callers go first with a timeout that expires while the even ones'
  // calls are still connecting.
  await sleep(index * 3);
  await tokenCommand(c, index % 2 === 1 ? between(0.01, 0.1) : 30);
  for (let n = 0; n < MAX_ACTIONS_PER_CALLER && Date.now() < end; n++) {
    const action = pickAction();
    actions.set(action.name, (actions.get(action.name) ?? 0) + 1);
    try {
      await action.run(c);
    } catch (error) {
      c.j.tally.problem('unexplained', `the suite's ${action.name} threw: ${(error as Error).stack}`);
    }
    await sleep(between(20, 250));
  }
}
