import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { CLI } from './mcp-client.js';

/** One line the server wrote: parsed, or kept as text when it is not JSON (a malformed answer). */
export type Answer = { json: Record<string, unknown>; raw: string } | { json?: undefined; raw: string };

export interface RawStart {
  env?: Record<string, string>;
  args?: string[];
  /** node options before the CLI, e.g. ['--import', file]. */
  nodeArgs?: string[];
  cwd?: string;
}

/**
 * The built server over raw stdio: bytes in, lines out, no SDK client in between, so malformed input
 * reaches the server as sent and every answer is seen as written.
 */
export class RawClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly answers: Answer[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private partial = '';
  private waiters = new Set<() => void>();

  constructor(start: RawStart = {}) {
    this.child = spawn(process.execPath, [...(start.nodeArgs ?? []), CLI, ...(start.args ?? [])], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...start.env },
      ...(start.cwd && { cwd: start.cwd }),
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => this.onText(text));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      // Enough to explain a failure; a flood of warnings must not grow without end.
      this.stderr = (this.stderr + text).slice(-64 * 1024);
    });
    this.child.stdin.on('error', () => {}); // EPIPE after a crash: the exit says what happened
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.wake();
    });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (!this.alive || this.child.stdin.destroyed) return resolve();
      if (this.child.stdin.write(data)) resolve();
      else this.child.stdin.once('drain', resolve);
    });
  }

  send(message: unknown): Promise<void> {
    return this.write(`${JSON.stringify(message)}\n`);
  }

  /** Waits until `done` holds for the answers so far (true), the time is up or the server died (false). */
  async until(done: (answers: Answer[]) => boolean, timeoutMs: number): Promise<boolean> {
    if (done(this.answers)) return true;
    return new Promise((resolve) => {
      const check = () => {
        if (done(this.answers)) finish(true);
        else if (!this.alive) finish(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The answer with this id, or undefined after the timeout. */
  async answerTo(id: string | number, timeoutMs = 5000): Promise<Record<string, unknown> | undefined> {
    const find = () => this.answers.find((a) => a.json?.id === id)?.json;
    await this.until(() => find() !== undefined, timeoutMs);
    return find();
  }

  async request(message: { id: string | number } & Record<string, unknown>, timeoutMs = 5000) {
    await this.send({ jsonrpc: '2.0', ...message });
    return this.answerTo(message.id, timeoutMs);
  }

  /** The answers so far, forgotten here (a long run keeps only what it has not looked at yet). */
  take(): Answer[] {
    return this.answers.splice(0);
  }

  /** initialize + notifications/initialized, as a client starts. */
  async initialize(): Promise<void> {
    const answer = await this.request({
      id: 'init',
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    });
    if (!answer?.result) throw new Error(`initialize failed: ${JSON.stringify(answer)} ${this.stderr}`);
    await this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** Ends stdin (the server's cue to exit) and waits; kills it if it does not go within `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.stdin.end();
    if (await this.until(() => !this.alive, graceMs)) return;
    if (this.alive) {
      this.child.kill('SIGKILL');
      await this.until(() => !this.alive, 2000);
    }
  }

  private onText(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const raw of lines) {
      try {
        const json = JSON.parse(raw) as unknown;
        if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
          this.answers.push({ json: json as Record<string, unknown>, raw });
        } else this.answers.push({ raw });
      } catch {
        this.answers.push({ raw });
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
