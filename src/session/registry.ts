import type { CommandRecord } from './command.js';

/** How much command output the whole server keeps, and for how long. */
export interface RetentionLimits {
  /** Finished outputs in memory, all sessions together; past it they move to their spill files. */
  memoryBytes: number;
  /** Outputs on disk, all sessions together; past it the oldest are dropped (read ones first). */
  diskBytes: number;
  /** An output nobody read is kept this long after its command ended. */
  unreadMs: number;
  /** An output that was read is kept this long after it was read (to read it again). */
  readMs: number;
  /**
   * Finished commands remembered (status, exit code, timings: a few hundred bytes each); past it the
   * oldest read ones are forgotten. Unread ones stay until read or too old.
   */
  historyMax: number;
}

export const DEFAULT_RETENTION: RetentionLimits = {
  memoryBytes: 64 * 1024 * 1024,
  diskBytes: 4 * 1024 * 1024 * 1024,
  unreadMs: 24 * 60 * 60 * 1000,
  readMs: 60 * 60 * 1000,
  historyMax: 10_000,
};

/** A finished output bigger than this goes to disk at the next pass: memory is for outputs being read now. */
const ARCHIVE_FROM_BYTES = 1024 * 1024;
/** How often outputs are checked against their age limits. */
const SWEEP_MS = 60_000;
/**
 * Commands that end within this long of each other share one pass over the limits: a pass looks at every
 * command kept (up to historyMax: 3 ms at 10,000), and a fan-out ends hundreds of commands a second. At
 * 100 ms apart, passes were still 6% of the server's main thread in fan-outs over 100 hosts with 6,000 commands
 * kept; the outputs that end meanwhile are in memory a second longer at most.
 */
const ENFORCE_AFTER_MS = 1000;
/** Ids of forgotten commands remembered, to say what became of them. */
const GONE_MAX = 10_000;

/**
 * Every command of the server, running and finished, and what is kept of its output. A result is kept
 * until it was read or its age limit passed, under one memory and one disk budget for all sessions: big or
 * read outputs move to disk, and when the disk budget is full the oldest outputs that were read go first,
 * then the oldest unread. Whatever is dropped says so, with why.
 */
export class CommandRegistry {
  private readonly records = new Map<string, CommandRecord>();
  /** Commands no longer listed: why. */
  private readonly gone = new Map<string, string>();
  private enforcing: Promise<void> | undefined;
  private again = false;
  private readonly sweep: NodeJS.Timeout;
  /** The pass due for commands that ended since the last one. */
  private soon: NodeJS.Timeout | undefined;

  constructor(private readonly limits: RetentionLimits = DEFAULT_RETENTION) {
    this.sweep = setInterval(() => void this.enforce(), SWEEP_MS);
    this.sweep.unref();
  }

  add(record: CommandRecord): void {
    this.records.set(record.id, record);
    void record.done.then(() => this.enforceSoon());
  }

  /** The limits, applied within ENFORCE_AFTER_MS: once for every command that ends meanwhile. */
  private enforceSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.enforce();
    }, ENFORCE_AFTER_MS);
    this.soon.unref();
  }

  get(id: string): CommandRecord | undefined {
    return this.records.get(id);
  }

  /** Why a command id is unknown: forgotten (and why), or never known. */
  whyUnknown(id: string): string {
    const why = this.gone.get(id);
    if (why) return `${id} is no longer kept: ${why}`;
    return `No command "${id}": list_running_commands and list_command_history show the known ids.`;
  }

  /** Newest first, skipping the `offset` newest. */
  history(limit: number, offset = 0): CommandRecord[] {
    return [...this.records.values()].reverse().slice(offset, offset + limit);
  }

  /** How many commands are known (running and kept). */
  get size(): number {
    return this.records.size;
  }

  running(): CommandRecord[] {
    return [...this.records.values()].filter((c) => !c.finished);
  }

  /** A caller now has the whole output of a finished command: it may leave memory. */
  markRead(record: CommandRecord): void {
    if (!record.finished || record.readAt) return;
    record.readAt = new Date();
    // Soon, not now: execute_command reads every whole output, and a pass walks every command kept.
    this.enforceSoon();
  }

  /** Apply the limits; runs one at a time (a call meanwhile runs again after it). */
  enforce(): Promise<void> {
    if (this.enforcing) {
      this.again = true;
      return this.enforcing;
    }
    this.enforcing = (async () => {
      do {
        this.again = false;
        await this.apply();
      } while (this.again);
    })().finally(() => {
      this.enforcing = undefined;
    });
    return this.enforcing;
  }

  /** One pass over every command kept (up to historyMax): walks, and copies only what it must. */
  private async apply(): Promise<void> {
    const now = Date.now();
    const finished: CommandRecord[] = [];
    for (const r of this.records.values()) if (r.finished) finished.push(r);
    // Too old: unread ones after unreadMs, read ones after readMs.
    for (const r of finished) {
      if (r.outputGone !== undefined) continue;
      if (r.readAt && now - r.readAt.getTime() > this.limits.readMs) {
        await this.drop(r, `its output was released ${duration(this.limits.readMs)} after it was read`);
      } else if (!r.readAt && now - (r.finishedAt as Date).getTime() > this.limits.unreadMs) {
        await this.drop(r, `its output was dropped unread ${duration(this.limits.unreadMs)} after it ended`);
      }
    }
    // Memory: big outputs and outputs already read go to disk; then the oldest, until within budget.
    const withOutput = this.withOutput();
    let memory = 0;
    for (const r of withOutput) memory += r.output.stats.memoryBytes;
    for (const r of withOutput) {
      if (!r.finished || r.output.archived) continue;
      const bytes = r.output.stats.memoryBytes;
      if (memory > this.limits.memoryBytes || bytes >= ARCHIVE_FROM_BYTES || (r.readAt && bytes > 0)) {
        await r.output.archive();
        memory -= bytes - r.output.stats.memoryBytes;
      }
    }
    // Disk: the oldest outputs that were read go first, then the oldest unread.
    let disk = 0;
    for (const r of withOutput) disk += r.output.stats.spilledBytes;
    const byAge = disk > this.limits.diskBytes ? withOutput.filter((r) => r.finished) : [];
    const order = [...byAge.filter((r) => r.readAt), ...byAge.filter((r) => !r.readAt)];
    for (const r of order) {
      if (disk <= this.limits.diskBytes) break;
      disk -= r.output.stats.spilledBytes;
      await this.drop(
        r,
        r.readAt
          ? 'its output was released after it was read, to make room on disk'
          : `its output was dropped unread: the server keeps at most ${this.limits.diskBytes} bytes of output on disk`,
      );
    }
    // History: the oldest finished commands whose output is gone or was read leave the list.
    let extra = finished.length - this.limits.historyMax;
    for (const r of finished) {
      if (extra <= 0) break;
      if (r.outputGone === undefined && !r.readAt) continue;
      this.forget(
        r,
        r.outputGone ??
          `it ended ${r.status} and was read; only the newest ${this.limits.historyMax} finished commands are listed`,
      );
      extra--;
    }
  }

  private withOutput(): CommandRecord[] {
    return [...this.records.values()].filter((r) => r.outputGone === undefined);
  }

  private async drop(record: CommandRecord, why: string): Promise<void> {
    record.outputGone = why;
    await record.output.dispose();
  }

  private forget(record: CommandRecord, why: string): void {
    this.records.delete(record.id);
    if (record.outputGone === undefined) void this.drop(record, why);
    this.gone.set(
      record.id,
      `${why} (it ended ${record.status}, exit status ${record.outcome?.exitCode ?? 'none'})`,
    );
    if (this.gone.size > GONE_MAX) this.gone.delete(this.gone.keys().next().value as string);
  }

  /** Every output's spill file deleted (shutdown). */
  async dispose(): Promise<void> {
    clearInterval(this.sweep);
    clearTimeout(this.soon);
    await Promise.all([...this.records.values()].map((r) => r.output.dispose()));
  }
}

function duration(ms: number): string {
  if (ms >= 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}
