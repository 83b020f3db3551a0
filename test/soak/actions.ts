// What one caller does on its session, one action at a time; each action judges every result it gets.
import { CALL_GRACE_MS } from './config.js';
import { type Call, textOf } from './server.js';
import { between, connection, sessionId, sleep, type Target, token } from './target.js';
import {
  answered,
  type Expectation,
  follow,
  type Judge,
  judgeError,
  judgeExecute,
  judgeStart,
} from './verdict.js';

export interface Caller {
  j: Judge;
  target: Target;
}

export type Action = (c: Caller) => Promise<void>;

/** The mix each caller draws from, by weight. */
export const ACTIONS: { name: string; weight: number; run: Action }[] = [
  { name: 'token', weight: 26, run: async (c) => void (await tokenCommand(c)) },
  { name: 'large output', weight: 8, run: largeOutput },
  { name: 'slow, short timeout', weight: 12, run: slowShortTimeout },
  { name: 'async, paged', weight: 12, run: asyncPaged },
  { name: 'interrupt by id', weight: 8, run: interruptById },
  { name: 'interrupt sweep', weight: 16, run: interruptSweep },
  { name: 'interrupt by host', weight: 5, run: interruptByHost },
  { name: 'close and race', weight: 3, run: closeAndRace },
  { name: 'lists', weight: 4, run: lists },
];

export function pickAction(): (typeof ACTIONS)[number] {
  const total = ACTIONS.reduce((sum, a) => sum + a.weight, 0);
  let r = Math.random() * total;
  for (const a of ACTIONS) {
    r -= a.weight;
    if (r < 0) return a;
  }
  return ACTIONS[0] as (typeof ACTIONS)[number];
}

/** Sends execute_command, bounded by its own timeout plus the grace. */
async function execute(c: Caller, command: string, output: string, timeoutS: number) {
  const exp: Expectation = { target: c.target, command, output, sentAt: Date.now() };
  c.j.tally.called('execute_command');
  const args = { ...connection(c.target), command, timeout: timeoutS };
  const call = await c.j.server.call('execute_command', args, timeoutS * 1000 + CALL_GRACE_MS);
  return { exp, call };
}

/** A short command printing a token; `timeoutS` small makes it expire while queued or connecting. */
export async function tokenCommand(c: Caller, timeoutS = Math.random() < 0.1 ? between(0.02, 0.1) : 30) {
  const t = token();
  const variants: [string, string][] = [
    [`echo ${t}`, `${t}\n`],
    [`echo ${t} >&2`, `${t}\n`],
    [`printf 'a\\n%s\\n' ${t}`, `a\n${t}\n`],
    [`cd / && echo ${t}`, `${t}\n`],
    [`echo ${t}\necho done`, `${t}\ndone\n`],
  ];
  const [command, output] = variants[Math.floor(Math.random() * variants.length)] as [string, string];
  const { exp, call } = await execute(c, command, output, timeoutS);
  return judgeExecute(c.j, exp, call);
}

async function largeOutput(c: Caller) {
  const n = Math.round(between(2_000, 120_000));
  const t = token();
  const { exp, call } = await execute(c, `seq 1 ${n}; echo ${t}`, `${seqText(n)}${t}\n`, 30);
  await judgeExecute(c.j, exp, call);
}

/** Outlives its timeout: must come back running with an id, then end through get_command_status. */
async function slowShortTimeout(c: Caller) {
  const t = token();
  const seconds = between(0.3, 1.5).toFixed(2);
  const { exp, call } = await execute(c, `sleep ${seconds}; echo ${t}`, `${t}\n`, between(0.05, 0.25));
  await judgeExecute(c.j, exp, call);
}

/** execute_command_async, then every page read back by offset; the whole output must arrive byte-exact. */
async function asyncPaged(c: Caller) {
  const t = token();
  const lines = Math.round(Math.exp(between(0, Math.log(20_000))));
  const command = `sleep 0.2; for i in $(seq 1 ${lines}); do echo ${t}-$i; done`;
  const output = Array.from({ length: lines }, (_, i) => `${t}-${i + 1}\n`).join('');
  const exp: Expectation = { target: c.target, command, output, sentAt: Date.now() };
  c.j.tally.called('execute_command_async');
  const call = await c.j.server.call(
    'execute_command_async',
    { ...connection(c.target), command },
    CALL_GRACE_MS * 2,
  );
  const id = started(c, exp, call);
  if (!id) return;
  // Small pages where the output is small enough to read in a few dozen calls.
  const sizes = [undefined, 65_536, 4_096, 512].filter((s) => s === undefined || output.length / s <= 60);
  await follow(c.j, exp, id, { maxBytes: sizes[Math.floor(Math.random() * sizes.length)] });
}

/** The commandId of an execute_command_async answer, or undefined once the answer was judged. */
function started(c: Caller, exp: Expectation, call: Call): string | undefined {
  if (!answered(c.j, exp, call)) return undefined;
  const r = call.result;
  if (r.isError) {
    judgeError(c.j, exp, textOf(r));
    return undefined;
  }
  const id = (r.structuredContent as { commandId?: string }).commandId;
  if (!id) c.j.tally.problem('unexplained', `execute_command_async without a commandId: ${exp.command}`);
  else c.j.tally.ok('running');
  return id;
}

/** A long sleep, interrupted by id; then at once another command, which must not catch that interrupt. */
async function interruptById(c: Caller) {
  const t = token();
  const { exp, call } = await execute(c, `sleep 5; echo ${t}`, `${t}\n`, between(0.1, 0.3));
  const s = await judgeStart(c.j, exp, call);
  if (!s.running) return;
  await sleep(between(0, 400));
  await interrupt(c, s.commandId);
  await tokenCommand(c, 10);
  await follow(c.j, exp, s.commandId);
}

/**
 * The timing sweep: interrupt a command from 50 ms before to 10 ms after it would end by itself, then run
 * the next command at once. An interrupt that arrives late lands on that next command.
 */
async function interruptSweep(c: Caller) {
  const t = token();
  const seconds = between(0.25, 0.6);
  const { exp, call } = await execute(c, `sleep ${seconds.toFixed(3)}; echo ${t}`, `${t}\n`, 0.1);
  const s = await judgeStart(c.j, exp, call);
  if (!s.running) return;
  // durationMs says how long it has run; the answer took a little longer to arrive, so this errs late.
  const endsAt = Date.now() - s.result.durationMs + seconds * 1000;
  await sleep(endsAt - between(-10, 50) - Date.now());
  await interrupt(c, s.commandId);
  await tokenCommand(c, 10);
  await follow(c.j, exp, s.commandId);
}

async function interrupt(c: Caller, commandId: string) {
  c.j.tally.interruptAsked(commandId);
  c.j.tally.called('interrupt_command_by_id');
  const call = await c.j.server.call('interrupt_command_by_id', { command_id: commandId }, CALL_GRACE_MS);
  checkToolAnswer(c, `interrupt_command_by_id ${commandId}`, call);
}

/** interrupt_command by host hits whatever runs there; the answer names it, so that one was ours to stop. */
async function interruptByHost(c: Caller) {
  const t = token();
  const { exp, call } = await execute(c, `sleep 5; echo ${t}`, `${t}\n`, between(0.1, 0.3));
  const s = await judgeStart(c.j, exp, call);
  if (!s.running) return;
  await sleep(between(0, 300));
  c.j.tally.called('interrupt_command');
  const answer = await c.j.server.call('interrupt_command', hostOnly(c.target), CALL_GRACE_MS);
  // A session another caller just closed has nothing to interrupt.
  const fine = checkToolAnswer(c, `interrupt_command ${sessionId(c.target)}`, answer, /no open session/i);
  if (fine && answer.ok) {
    const named = answer.result.structuredContent as { commandId?: string };
    if (named.commandId) c.j.tally.interruptAsked(named.commandId);
  }
  await follow(c.j, exp, s.commandId);
}

/**
 * close_session, then three calls at once on the fresh session: the middle one with a timeout that
 * expires while the first is still connecting. None of them may hear "session was closed".
 */
async function closeAndRace(c: Caller) {
  const closed = c.j.tally.closing(sessionId(c.target));
  c.j.tally.called('close_session');
  const call = await c.j.server.call('close_session', hostOnly(c.target), CALL_GRACE_MS);
  closed();
  checkToolAnswer(c, `close_session ${sessionId(c.target)}`, call, /no open session/i);
  await Promise.all([
    tokenCommand(c, 30),
    sleep(3).then(() => tokenCommand(c, between(0.01, 0.15))),
    sleep(6).then(() => tokenCommand(c, 30)),
  ]);
}

async function lists(c: Caller) {
  const [name, args] = (
    [
      ['list_running_commands', {}],
      ['list_command_history', { limit: 100 }],
      ['list_sessions', {}],
    ] as const
  )[Math.floor(Math.random() * 3)] as [string, Record<string, unknown>];
  c.j.tally.called(name);
  checkToolAnswer(c, name, await c.j.server.call(name, args, CALL_GRACE_MS));
}

/** A tool that is not a command: it must answer, and without an error unless `allowed` matches it. */
function checkToolAnswer(c: Caller, what: string, call: Call, allowed?: RegExp): boolean {
  if (!answered(c.j, { command: what }, call)) return false;
  const r = call.result;
  if (!r.isError) return true;
  const text = textOf(r);
  if (allowed?.test(text)) return false;
  // A command seen running a moment ago that the server no longer knows: its record was dropped.
  if (/no command "/i.test(text)) c.j.tally.problem('lost', `${what} failed: ${text}`, 'command forgotten');
  else c.j.tally.problem('unexplained', `${what} failed: ${text}`, 'tool error');
  return false;
}

function hostOnly(t: Target) {
  return { host: t.host, port: t.port, username: t.username };
}

function seqText(n: number): string {
  return Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');
}
