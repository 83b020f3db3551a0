// What one phase saw: every result in exactly one class, problems with a few examples, and the facts
// (which sessions this suite closed, which commands it interrupted) that decide some verdicts at the end.
import { EXAMPLES_KEPT } from './config.js';

/** The four acceptable classes of a result. */
export const FINE = ['completed', 'failedWithCause', 'interrupted', 'running'] as const;
export type Fine = (typeof FINE)[number];

/** What the suite counts against the server. */
export const PROBLEMS = ['misattributed', 'lost', 'stray', 'unexplained', 'wronglyClosed'] as const;
export type Problem = (typeof PROBLEMS)[number];

export const PROBLEM_LABEL: Record<Problem, string> = {
  misattributed: 'misattributed',
  lost: 'lost',
  stray: 'stray interrupts',
  unexplained: 'unexplained',
  wronglyClosed: 'wrongly closed',
};

/** A close_session this suite sent: from when it was sent until its answer came back. */
interface Close {
  session: string;
  sent: number;
  answered: number;
}

/** A verdict that needs the whole phase: was this session closed, was this command interrupted, by us? */
type Deferred =
  | { kind: 'interrupted'; commandId: string; detail: string }
  | { kind: 'closed'; session: string; from: number; to: number; detail: string };

export class Tally {
  readonly fine: Record<Fine, number> = { completed: 0, failedWithCause: 0, interrupted: 0, running: 0 };
  readonly problems: Record<Problem, number> = {
    misattributed: 0,
    lost: 0,
    stray: 0,
    unexplained: 0,
    wronglyClosed: 0,
  };
  /** Problems by kind and what exactly went wrong ("lost: command forgotten"), with a few examples each. */
  readonly kinds = new Map<string, { count: number; examples: string[] }>();
  /** Failures with a cause, by the shape of the cause (ids and numbers blanked). */
  readonly causes = new Map<string, number>();
  /** Tool calls made, by tool. */
  readonly calls = new Map<string, number>();
  private readonly closes: Close[] = [];
  private readonly interruptsAsked = new Set<string>();
  private readonly deferred: Deferred[] = [];

  constructor(readonly phase: string) {}

  called(tool: string): void {
    this.calls.set(tool, (this.calls.get(tool) ?? 0) + 1);
  }

  ok(kind: Fine): void {
    this.fine[kind]++;
  }

  failedWithCause(cause: string): void {
    this.fine.failedWithCause++;
    const shape = cause
      .replace(/\s+/g, ' ')
      .replace(/tk[a-z0-9]{4}x\d+/g, 'TOKEN')
      .replace(/cmd-\d+/g, 'cmd-N')
      .replace(/\([^)]*\)/g, '(...)')
      .replace(/\d+(\.\d+)*/g, 'N')
      .slice(0, 110);
    this.causes.set(shape, (this.causes.get(shape) ?? 0) + 1);
  }

  problem(kind: Problem, detail: string, what = 'other'): void {
    this.problems[kind]++;
    const key = `${PROBLEM_LABEL[kind]}: ${what}`;
    const entry = this.kinds.get(key) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < EXAMPLES_KEPT) entry.examples.push(detail.replace(/\s+/g, ' ').slice(0, 400));
    this.kinds.set(key, entry);
  }

  /** Call before sending close_session; call the result when its answer arrives. */
  closing(session: string): () => void {
    const close: Close = { session, sent: Date.now(), answered: Number.POSITIVE_INFINITY };
    this.closes.push(close);
    return () => {
      close.answered = Date.now();
    };
  }

  interruptAsked(commandId: string): void {
    this.interruptsAsked.add(commandId);
  }

  /** An interrupted (or exit 130) command: fine if this suite interrupted it, a stray interrupt if not. */
  interrupted(commandId: string, detail: string): void {
    this.deferred.push({ kind: 'interrupted', commandId, detail });
  }

  /** "session was closed" between from and to: fine if this suite closed it meanwhile. */
  closedSeen(session: string, from: number, to: number, detail: string): void {
    this.deferred.push({ kind: 'closed', session, from, to, detail });
  }

  /** Decide the deferred verdicts; call once every caller of the phase has finished. */
  settle(): void {
    for (const d of this.deferred.splice(0)) {
      if (d.kind === 'interrupted') {
        if (this.interruptsAsked.has(d.commandId)) this.ok('interrupted');
        else
          this.problem('stray', `${d.commandId} was interrupted but nobody asked: ${d.detail}`, 'exit 130');
        continue;
      }
      const ours = this.closes.some((c) => c.session === d.session && c.sent <= d.to && c.answered >= d.from);
      if (ours) this.failedWithCause('session was closed (by this suite)');
      else this.problem('wronglyClosed', `${d.session}: ${d.detail}`, 'nobody closed it');
    }
  }

  get problemTotal(): number {
    return PROBLEMS.reduce((sum, p) => sum + this.problems[p], 0);
  }

  get callTotal(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }
}
