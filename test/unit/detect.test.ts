// Detection drives the device with the runner, step by step: the first prompt is found as the runner finds
// it (Enter after a quiet spell), each probe is a runner step (its answer may come in fragments and be
// paged), and answers are searched within the runner's bounds. A fake SSH connection plays the device, so
// every byte each way is known.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Dialect } from '../../src/dialect/dialect.js';
import { DialectRegistry, defaultDialectDirs } from '../../src/dialect/loader.js';
import type { ExpectRunner, RunnerTrace } from '../../src/expect/runner.js';
import { detectDialect } from '../../src/session/detect.js';

type Client = Parameters<typeof detectDialect>[0];

const PROMPT = 'lab1>';
const VERSION_PAGE_1 = [
  'show version',
  'ROM: System Bootstrap, Version 15.0(1r)M15, RELEASE SOFTWARE (fc1)',
  'lab1 uptime is 3 weeks, 2 days, 4 hours, 11 minutes',
];
const VERSION_PAGE_2 = [
  'Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.4(3)M2, RELEASE SOFTWARE (fc2)',
  'Technical Support: http://www.cisco.com/techsupport',
];

interface DeviceOptions {
  /** Print this and wait for Enter before the first prompt. */
  pressReturn?: string;
  /** A line of this many blanks (then "x") at the end of the show version answer. */
  longLine?: number;
}

/** An IOS-like device behind a fake SSH connection; `typed` holds every write it received. */
class FakeDevice {
  readonly typed: string[] = [];
  private input = '';
  private started: boolean;
  private atPager = false;
  private closed = false;
  private sending = Promise.resolve();
  private readonly stream = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    write: (data: string) => this.receive(data),
    pause: () => {},
    resume: () => {},
    close: () => this.close(),
  });

  constructor(private readonly options: DeviceOptions = {}) {
    this.started = options.pressReturn === undefined;
  }

  readonly client = {
    shell: (_pty: unknown, done: (error: Error | undefined, stream: unknown) => void) => {
      done(undefined, this.stream);
      // Like a real device, it talks once the channel is open (a tick later).
      setTimeout(() => this.send(this.options.pressReturn ?? `\r\n${PROMPT}`), 5);
    },
    exec: (_command: string, done: (error: Error) => void) => done(new Error('exec is refused')),
  } as unknown as Client;

  /** Each piece arrives as a chunk of its own, a tick after the one before. */
  private send(...pieces: string[]): void {
    for (const piece of pieces) {
      this.sending = this.sending.then(
        () =>
          new Promise<void>((resolve) =>
            setImmediate(() => {
              if (!this.closed) this.stream.emit('data', Buffer.from(piece));
              resolve();
            }),
          ),
      );
    }
  }

  private receive(data: string): void {
    this.typed.push(data);
    if (this.atPager) {
      this.atPager = false;
      // The pager erases itself with backspaces, then the rest of the answer follows.
      this.send(`${'\b'.repeat(9)}${' '.repeat(9)}${'\b'.repeat(9)}`, ...this.rest(), `\r\n${PROMPT}`);
      return;
    }
    this.input += data;
    for (let end = this.input.search(/[\r\n]/); end >= 0; end = this.input.search(/[\r\n]/)) {
      const line = this.input.slice(0, end);
      this.input = this.input.slice(end + 1);
      if (line === 'exit') this.close();
      else this.send(...this.answer(line));
    }
  }

  /** What the device prints for a line typed, piece by piece. */
  private answer(line: string): string[] {
    if (!this.started) {
      this.started = true;
      return [`\r\n\r\n${PROMPT}`];
    }
    if (line === '') return [`\r\n${PROMPT}`];
    if (line.startsWith('terminal ')) return [`${line}\r\n${PROMPT}`];
    if (line !== 'show version')
      return [`${line}\r\n`, "% Invalid input detected at '^' marker.\r\n\r\n", PROMPT];
    // Split inside a word, inside an escape sequence and inside the pager prompt; the rest waits for a key.
    this.atPager = true;
    const page = VERSION_PAGE_1.join('\r\n');
    return [page.slice(0, 40), `${page.slice(40)}\r\n\x1b[`, 'K --Mo', 're-- '];
  }

  private rest(): string[] {
    const text = VERSION_PAGE_2.join('\r\n');
    const long = this.options.longLine ? [`\r\n${' '.repeat(this.options.longLine)}x`] : [];
    return [text.slice(0, 3), text.slice(3), ...long];
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.emit('close');
  }
}

describe('detection on the runner', () => {
  let dir: string;
  let candidates: Dialect[];
  let hostile: Dialect;
  let ios: Dialect;
  const opened: ExpectRunner[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'detect-dialects-'));
    // A user dialect whose probe pattern backtracks (a lookbehind keeps it off the linear engine): on one
    // 64 KiB line it would take seconds; on the runner's bounded lines it takes milliseconds.
    writeFileSync(
      path.join(dir, 'hostile.yaml'),
      `name: hostile
extends: cisco-ios
detect:
  prompt: '^lab1[>#]\\s?$'
  probes:
    - send: show version
      expect: '(?<!y)(?:\\s|x)+!'
`,
    );
    const registry = new DialectRegistry(defaultDialectDirs([dir]));
    candidates = (await registry.detectable()).filter((d) => d.name !== 'hostile');
    hostile = await registry.get('hostile');
    ios = await registry.get('cisco-ios');
  });
  after(() => {
    for (const runner of opened) runner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('presses Enter for a prompt, answers a pager in a fragmented probe answer, and hands the channel on', async () => {
    const device = new FakeDevice({ pressReturn: '\r\nlab1 line 0\r\n\r\nPress RETURN to get started.\r\n' });
    const trace: RunnerTrace[] = [];
    const { dialect, runner } = await detectDialect(device.client, candidates, {
      timeoutMs: 8000,
      setupProbe: (probe) => {
        probe.onTrace = (event) => trace.push(event);
      },
    });
    if (runner) opened.push(runner);
    assert.equal(dialect.name, 'cisco-ios');
    assert.ok(runner, 'the winner took the channel over');
    assert.equal(runner.mode, 'user');
    assert.equal(runner.vars.host, 'lab1');
    // One Enter for the prompt, one probe (the name is on its second page), one Space for the pager, then
    // the winner's own open steps.
    assert.deepEqual(device.typed, [
      '\n',
      'show version\n',
      ' ',
      'terminal length 0\n',
      'terminal width 512\n',
    ]);
    assert.ok(trace.some((e) => e.type === 'find-prompt'));
    assert.ok(trace.some((e) => e.type === 'answered' && e.line.includes('--More--')));
    const r = await runner.run('show clock', { timeoutMs: 2000, maxOutputBytes: 4096 });
    assert.equal(r.mode, 'user');
    assert.match(r.error ?? '', /Invalid input/);
  });

  it('searches probe answers within the runner bounds: a long line cannot stall it', async () => {
    assert.equal(hostile.trusted, false);
    const device = new FakeDevice({ longLine: 70_000 });
    const start = performance.now();
    const { dialect, runner } = await detectDialect(device.client, [ios, hostile], { timeoutMs: 8000 });
    const took = performance.now() - start;
    if (runner) opened.push(runner);
    assert.equal(dialect.name, 'cisco-ios');
    // Milliseconds of matching; on the whole answer the hostile pattern alone takes seconds.
    assert.ok(took < 2000, `detection took ${Math.round(took)} ms`);
  });
});
