import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { SshError, type TargetRequest } from '../ssh/index.js';
import type { CommandRecord } from './command.js';
import { CommandDeniedError, type RunRequest } from './manager.js';
import { SessionBusyError } from './session.js';

/**
 * Fan-out: one command on many hosts, a bounded number at a time, each through the session manager's one
 * command path (its policy, dialect, audit record and command registry), and the answers grouped by
 * identical output. A fan-out outlives the call that started it: what the call did not wait for goes on in
 * the background under its id.
 */

/** Why a host gave no usable answer. */
export type HostFailure =
  | 'unreachable'
  | 'auth'
  | 'host_key'
  | 'policy'
  | 'timeout'
  | 'input'
  | 'device_error'
  | 'busy'
  | 'interrupted'
  | 'cancelled'
  | 'error';

export type HostState = 'pending' | 'running' | 'ok' | 'failed';

export interface HostResult {
  host: string;
  state: HostState;
  commandId?: string;
  exitCode?: number | null;
  failure?: HostFailure;
  /** Why it failed, as the layer below said it. */
  error?: string;
  /** Identifies the normalised output: hosts with equal keys printed the same. */
  key?: string;
  /** Bytes the host printed. */
  bytes?: number;
  durationMs?: number;
}

/** What a fan-out needs of the session manager (SessionManager has it; tests may fake it). */
export interface FanoutExecutor {
  execute(request: TargetRequest, command: string, run: RunRequest): Promise<CommandRecord>;
  interruptAndWait(id: string): Promise<boolean>;
}

export interface FanoutOptions {
  /** Hosts run at once. */
  concurrency: number;
  /** How long each host's command may run (connecting included); past it it gets Ctrl+C and counts as timed out. */
  hostTimeoutMs: number;
  /** Called as each host finishes (progress). */
  onHostDone?: (result: HostResult, fanout: Fanout) => void;
}

export type FanoutStatus = 'running' | 'completed' | 'cancelled';

/** One line of output with its trailing whitespace gone, and no blank lines at the end. */
export function normaliseOutput(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}

/** The key of an output as a command record keeps it: head and tail normalised, and what lies between. */
async function outputKey(record: CommandRecord): Promise<{ key: string; bytes: number }> {
  const captured = await record.output.capture();
  const hash = createHash('sha256');
  hash.update(normaliseOutput(captured.head));
  if (captured.omittedBytes > 0 || captured.tail) {
    hash.update(`\u0000${captured.omittedBytes}\u0000`);
    hash.update(normaliseOutput(captured.tail));
  }
  return { key: hash.digest('hex').slice(0, 32), bytes: captured.totalBytes };
}

/** What kind of failure an error from the manager is. */
export function failureOf(error: unknown): HostFailure {
  if (error instanceof CommandDeniedError) return 'policy';
  if (error instanceof SessionBusyError) return 'busy';
  if (error instanceof SshError) {
    if (error.code === 'auth-failed') return 'auth';
    if (error.code === 'host-key-changed' || error.code === 'host-key-unknown') return 'host_key';
    if (error.code === 'config' || error.code === 'algorithm-mismatch') return 'error';
    return 'unreachable';
  }
  return 'error';
}

/** Hosts that printed the same (after normalising), most hosts first; a group per exit status too. */
export interface OutputGroup {
  key: string;
  exitCode: number | null;
  hosts: HostResult[];
}

export function groupResults(results: readonly HostResult[]): OutputGroup[] {
  const groups = new Map<string, OutputGroup>();
  for (const r of results) {
    if (r.state !== 'ok' || r.key === undefined) continue;
    const exitCode = r.exitCode ?? null;
    const id = `${r.key}\u0000${exitCode}`;
    let group = groups.get(id);
    if (!group) {
      group = { key: r.key, exitCode, hosts: [] };
      groups.set(id, group);
    }
    group.hosts.push(r);
  }
  return [...groups.values()].sort((a, b) => b.hosts.length - a.hosts.length);
}

export class Fanout {
  readonly startedAt = new Date();
  finishedAt: Date | undefined;
  readonly results: HostResult[];
  /** Set when the user cancelled: hosts not started are skipped, running ones interrupted. */
  cancelledBecause: string | undefined;
  /** Resolves when every host has finished or been skipped. */
  readonly done: Promise<void>;
  private readonly stop = new AbortController();
  /** Hosts finished (ok or failed) and failed so far: read per host finished, so not counted each time. */
  private finishedHosts = 0;
  private failedHosts = 0;

  constructor(
    readonly id: string,
    readonly command: string,
    hosts: readonly string[],
    private readonly executor: FanoutExecutor,
    private readonly options: FanoutOptions,
  ) {
    this.results = hosts.map((host) => ({ host, state: 'pending' }));
    // Every running host listens for the user's cancel: as many listeners as the concurrency allows.
    setMaxListeners(0, this.stop.signal);
    this.done = this.runAll().finally(() => {
      this.finishedAt = new Date();
    });
  }

  get status(): FanoutStatus {
    if (this.cancelledBecause !== undefined) return this.finished ? 'cancelled' : 'running';
    return this.finished ? 'completed' : 'running';
  }

  get finished(): boolean {
    return this.finishedAt !== undefined;
  }

  /** Hosts finished so far (ok or failed), and how many of them failed. */
  get progress(): { done: number; failed: number } {
    return { done: this.finishedHosts, failed: this.failedHosts };
  }

  counts() {
    const running = this.results.filter((r) => r.state === 'running').length;
    const { done, failed } = this.progress;
    const hosts = this.results.length;
    return { hosts, ok: done - failed, failed, running, pending: hosts - done - running };
  }

  /**
   * The user stopped it: hosts not yet started are skipped, running commands get Ctrl+C. (A client that
   * only stopped waiting does not call this: the fan-out goes on.)
   */
  cancel(reason = 'cancelled by the user'): boolean {
    if (this.finished || this.cancelledBecause !== undefined) return false;
    this.cancelledBecause = reason;
    this.stop.abort(reason);
    return true;
  }

  /**
   * Resolves when the fan-out ends, `ms` pass, or `signal` aborts: one wait, not one per host finished
   * (500 hosts on open sessions finish within a second or two).
   */
  settle(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.finished || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      signal?.addEventListener('abort', finish, { once: true });
      void this.done.then(finish, finish);
    });
  }

  private async runAll(): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (;;) {
        const index = next++;
        const result = this.results[index];
        if (!result) return;
        if (this.stop.signal.aborted) {
          this.settleHost(result, {
            state: 'failed',
            failure: 'cancelled',
            error: 'not started: the fan-out was cancelled',
          });
          continue;
        }
        await this.runHost(result);
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency, this.results.length));
    await Promise.all(Array.from({ length: workers }, worker));
  }

  private async runHost(result: HostResult): Promise<void> {
    result.state = 'running';
    const t0 = performance.now();
    const timeoutMs = this.options.hostTimeoutMs;
    const outcome: Partial<HostResult> = {};
    try {
      const record = await this.executor.execute({ host: result.host }, this.command, {
        timeoutMs,
        signal: this.stop.signal,
        onStart: (r) => {
          result.commandId = r.id;
        },
      });
      outcome.commandId = record.id;
      if (!record.finished) {
        // A fleet command must not hold its session: a prompt or a command past its time gets Ctrl+C.
        const waiting = record.live.waiting;
        await this.executor.interruptAndWait(record.id);
        const cancelled = this.cancelledBecause;
        Object.assign(
          outcome,
          cancelled !== undefined
            ? { failure: 'interrupted', error: `${cancelled}; Ctrl+C sent` }
            : waiting
              ? {
                  failure: 'input',
                  error: `it asked for input ("${waiting.prompt.slice(0, 200)}"); Ctrl+C sent`,
                }
              : { failure: 'timeout', error: `still running after ${timeoutMs / 1000} s; Ctrl+C sent` },
        );
      } else if (record.status === 'interrupted') {
        outcome.failure = 'interrupted';
        outcome.error = this.cancelledBecause ?? record.cause ?? 'interrupted';
      } else if (record.status === 'failed') {
        outcome.failure = 'error';
        outcome.error = record.cause;
      } else if (record.outcome?.error !== undefined) {
        outcome.failure = 'device_error';
        outcome.error = record.outcome.error;
      }
      outcome.exitCode = record.outcome?.exitCode ?? null;
      if (outcome.failure === undefined) {
        Object.assign(outcome, await outputKey(record));
        outcome.state = 'ok';
      } else {
        outcome.bytes = record.output.totalBytes;
        outcome.state = 'failed';
      }
    } catch (error) {
      outcome.state = 'failed';
      outcome.failure = this.stop.signal.aborted ? 'cancelled' : failureOf(error);
      outcome.error = (error as Error).message;
    }
    outcome.durationMs = Math.round(performance.now() - t0);
    this.settleHost(result, outcome);
  }

  private settleHost(result: HostResult, outcome: Partial<HostResult>): void {
    Object.assign(result, outcome);
    if (result.state === 'pending' || result.state === 'running') result.state = 'failed';
    this.finishedHosts++;
    if (result.state === 'failed') this.failedHosts++;
    this.options.onHostDone?.(result, this);
  }
}

/** Fan-outs by id: the newest `keep` (finished ones are forgotten first; running ones stay). */
export class FanoutRegistry {
  private readonly fanouts = new Map<string, Fanout>();
  private seq = 0;

  constructor(
    private readonly executor: FanoutExecutor,
    private readonly keep = 50,
  ) {}

  start(command: string, hosts: readonly string[], options: FanoutOptions): Fanout {
    const fanout = new Fanout(`fan-${++this.seq}`, command, hosts, this.executor, options);
    this.fanouts.set(fanout.id, fanout);
    for (const [id, old] of this.fanouts) {
      if (this.fanouts.size <= this.keep) break;
      if (old.finished) this.fanouts.delete(id);
    }
    return fanout;
  }

  get(id: string): Fanout | undefined {
    return this.fanouts.get(id);
  }

  /** The newest fan-out, if any. */
  latest(): Fanout | undefined {
    return [...this.fanouts.values()].at(-1);
  }

  /** Why an id is unknown. */
  whyUnknown(id: string): string {
    const n = Number(/^fan-(\d+)$/.exec(id)?.[1]);
    if (n > 0 && n <= this.seq) return `${id} is no longer kept: only the newest ${this.keep} fan-outs are`;
    return `No fan-out "${id}"${this.seq > 0 ? `; the newest is fan-${this.seq}` : ''}`;
  }

  /** The user stops every running fan-out (server shutdown). */
  cancelAll(reason: string): void {
    for (const fanout of this.fanouts.values()) fanout.cancel(reason);
  }
}
