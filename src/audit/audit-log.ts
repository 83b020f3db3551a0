import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { log } from '../util/log.js';
import { redact } from '../util/secrets.js';

/** One line of the audit log: what ran where, how it ended, and what the command policy decided. */
export interface AuditRecord {
  time: string;
  /** The name the agent used (inventory name, alias or address). */
  host: string;
  /** user@host:port, once known. */
  session?: string;
  dialect?: string;
  commandId?: string;
  command: string;
  /** allowed, denied (never sent), or not-checked (no policy for the host). */
  policy: 'allowed' | 'denied' | 'not-checked';
  /** The rule that denied the command, or why it could not be checked. */
  policyRule?: string;
  /** `typed`: text sent into the running command `commandId` (send_input, send_keys); `command` holds it. */
  status: 'completed' | 'interrupted' | 'failed' | 'denied' | 'typed';
  exitCode?: number | null;
  durationMs?: number;
  bytesOut?: number;
  error?: string;
  /** The login user of the session (who the device saw make a change). */
  user?: string;
  /** Who asked: the authenticated user of a shared (HTTP) server. */
  caller?: string;
  /** A configuration operation (configure, confirm_commit, discard_changes, rollback): what it did. */
  change?: ChangeAudit;
}

/** What a configuration operation changed, for the audit log (secrets masked like every field). */
export interface ChangeAudit {
  operation: 'configure' | 'confirm_commit' | 'discard_changes' | 'rollback';
  outcome: string;
  lines?: string[];
  diff?: string;
  commitId?: string;
  checkpoint?: string;
  confirmMinutes?: number;
  comment?: string;
  rejectedLine?: number;
}

/** Where audit records go: the log itself, or a view of it that adds who asked. */
export type AuditSink = Pick<AuditLog, 'write' | 'close'>;

/**
 * Append-only JSONL file, mode 0600 (it names hosts and commands). Lines are written in call order through
 * one file handle; a write failure is logged, never thrown: a full disk must not stop the agent's work, but
 * it is loud on stderr.
 */
export class AuditLog {
  private handle: Promise<import('node:fs/promises').FileHandle> | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  write(record: AuditRecord): Promise<void> {
    // Masked before encoding: a secret with a quote or backslash would no longer match once JSON-escaped.
    const line = `${JSON.stringify(record, (_key, value) => (typeof value === 'string' ? redact(value) : value))}\n`;
    this.tail = this.tail.then(async () => {
      try {
        const handle = await this.open();
        await handle.appendFile(line);
      } catch (error) {
        this.handle = undefined; // try again on the next record: the folder may appear, the disk may free up
        log.error(`audit log ${this.path}: ${(error as Error).message}`);
      }
    });
    return this.tail;
  }

  async close(): Promise<void> {
    await this.tail;
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }

  private open() {
    this.handle ??= (async () => {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const handle = await open(this.path, 'a', 0o600);
      // The mode given to open() only applies to a new file; an existing one may be readable by others.
      const mode = (await stat(this.path)).mode & 0o777;
      if (mode !== 0o600) {
        await chmod(this.path, 0o600);
        log.warn(`audit log ${this.path} had mode ${mode.toString(8)}; set it to 600`);
      }
      return handle;
    })();
    return this.handle;
  }
}
