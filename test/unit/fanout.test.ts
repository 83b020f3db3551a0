// Fan-out without SSH: target selection from an inventory, grouping by normalised output, the worker pool's
// bound, failure kinds, and cancellation (hosts not started are skipped, running ones interrupted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Inventory } from '../../src/config/inventory.js';
import { configSchema } from '../../src/config/schema.js';
import { selectTargets, TargetError } from '../../src/config/targets.js';
import { OutputStore } from '../../src/expect/output-store.js';
import { CommandRecord } from '../../src/session/command.js';
import {
  type FanoutExecutor,
  FanoutRegistry,
  failureOf,
  groupResults,
  type HostResult,
  normaliseOutput,
} from '../../src/session/fanout.js';
import { CommandDeniedError, type RunRequest } from '../../src/session/manager.js';
import { SshError } from '../../src/ssh/index.js';

const inventory = new Inventory(
  configSchema.parse({
    defaults: { dialect: 'linux' },
    groups: { core: {}, edge: { dialect: 'eos-like' } },
    hosts: {
      'core-1': { groups: ['core'], tags: ['dc1'] },
      'core-2': { groups: ['core'], tags: ['dc2'] },
      'edge-1': { groups: ['edge'], tags: ['dc1'] },
      'edge-2': { groups: ['edge'] },
      lone: { dialect: 'other' },
    },
  }),
  '/tmp',
);

describe('fan-out target selection', () => {
  it('takes groups, tags, dialects, globs and plain names, each host once in first-selected order', () => {
    assert.deepEqual(selectTargets(['group:core'], inventory).hosts, ['core-1', 'core-2']);
    assert.deepEqual(selectTargets(['tag:dc1'], inventory).hosts, ['core-1', 'edge-1']);
    assert.deepEqual(selectTargets(['dialect:eos-like'], inventory).hosts, ['edge-1', 'edge-2']);
    assert.deepEqual(selectTargets(['dialect:linux'], inventory).hosts, ['core-1', 'core-2']);
    assert.deepEqual(selectTargets(['*-1'], inventory).hosts, ['core-1', 'edge-1']);
    assert.deepEqual(selectTargets(['edge-?', 'group:core', 'edge-1', 'other.example'], inventory).hosts, [
      'edge-1',
      'edge-2',
      'core-1',
      'core-2',
      'other.example',
    ]);
    // A port after a host name is not a selector.
    assert.deepEqual(selectTargets(['web:22'], inventory).hosts, ['web:22']);
  });

  it('says which selectors matched nothing, and refuses a group or selector kind that does not exist', () => {
    assert.deepEqual(selectTargets(['tag:none', 'lone'], inventory), {
      hosts: ['lone'],
      empty: ['tag:none'],
    });
    assert.throws(
      () => selectTargets(['group:cor'], inventory),
      /no group named "cor" \(did you mean "core"\?\)/,
    );
    assert.throws(() => selectTargets(['role:x'], inventory), /unknown selector "role:"/);
    assert.throws(() => selectTargets(['group:core'], undefined), TargetError);
    assert.deepEqual(selectTargets(['a', 'b'], undefined).hosts, ['a', 'b']);
  });
});

describe('fan-out grouping', () => {
  it('ignores trailing whitespace and blank lines at the end, not leading or inner differences', () => {
    assert.equal(normaliseOutput('a  \r\nb\t\n\n\n'), 'a\nb');
    assert.notEqual(normaliseOutput(' a'), normaliseOutput('a'));
  });

  it('groups ok hosts by output and exit status, most hosts first; failures stay out', () => {
    const r = (host: string, key: string, exitCode = 0, state: HostResult['state'] = 'ok'): HostResult => ({
      host,
      key,
      exitCode,
      state,
    });
    const groups = groupResults([
      r('a', 'x'),
      r('b', 'y'),
      r('c', 'y'),
      r('d', 'y', 1),
      r('e', 'y', 0, 'failed'),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.key, g.exitCode, g.hosts.map((h) => h.host)]),
      [
        ['y', 0, ['b', 'c']],
        ['x', 0, ['a']],
        ['y', 1, ['d']],
      ],
    );
  });

  it('names the kind of failure from the error', () => {
    assert.equal(failureOf(new CommandDeniedError('no', 'deny x')), 'policy');
    assert.equal(failureOf(new SshError('refused', 'refused')), 'unreachable');
    assert.equal(failureOf(new SshError('timeout', 'slow')), 'unreachable');
    assert.equal(failureOf(new SshError('auth-failed', 'denied')), 'auth');
    assert.equal(failureOf(new SshError('host-key-changed', 'changed')), 'host_key');
    assert.equal(failureOf(new Error('other')), 'error');
  });
});

/** A manager stand-in: each host prints `outputs[host]` after `delayMs`, honouring Ctrl+C by signal. */
function fakeExecutor(outputs: Record<string, string>, delayMs: number) {
  let seq = 0;
  let running = 0;
  const stats = { maxRunning: 0, started: [] as string[] };
  const executor: FanoutExecutor = {
    async execute(request, _command, run: RunRequest) {
      const host = request.host;
      if (host === 'denied') throw new CommandDeniedError('refused by policy', 'deny *');
      if (host === 'down') throw new SshError('refused', 'Connection refused by down:22');
      stats.started.push(host);
      running++;
      stats.maxRunning = Math.max(stats.maxRunning, running);
      const output = new OutputStore({ memoryBytes: 65536, spillBytes: 0 });
      const record = new CommandRecord(`cmd-${++seq}`, `u@${host}:22`, 'cmd', 'linux', output);
      run.onStart?.(record);
      const interrupted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delayMs);
        run.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      running--;
      output.push(interrupted ? '^C' : (outputs[host] ?? ''));
      record.complete({
        exitCode: interrupted ? 130 : 0,
        output: output.finish(),
        timedOut: false,
        interrupted,
        shellLost: false,
      });
      return record;
    },
    interruptAndWait: async () => true,
  };
  return { executor, stats };
}

describe('fan-out runs', () => {
  it('runs at most `concurrency` hosts at once and reports each host as it finishes', async () => {
    const hosts = Array.from({ length: 12 }, (_, i) => `h${i}`);
    const outputs = Object.fromEntries(hosts.map((h, i) => [h, i % 3 === 0 ? 'odd one  \n' : 'same\n']));
    const { executor, stats } = fakeExecutor(outputs, 20);
    const done: string[] = [];
    const fanout = new FanoutRegistry(executor).start('cmd', [...hosts, 'denied', 'down'], {
      concurrency: 4,
      hostTimeoutMs: 5000,
      onHostDone: (r) => done.push(r.host),
    });
    await fanout.done;
    assert.equal(stats.maxRunning, 4);
    assert.equal(done.length, 14);
    assert.equal(fanout.status, 'completed');
    assert.deepEqual(fanout.counts(), { hosts: 14, ok: 12, failed: 2, running: 0, pending: 0 });
    const groups = groupResults(fanout.results);
    assert.deepEqual(
      groups.map((g) => g.hosts.length),
      [8, 4],
    );
    const failed = fanout.results.filter((r) => r.state === 'failed').map((r) => [r.host, r.failure]);
    assert.deepEqual(failed, [
      ['denied', 'policy'],
      ['down', 'unreachable'],
    ]);
  });

  it('cancelled: hosts not started are skipped, running ones interrupted', async () => {
    const hosts = Array.from({ length: 10 }, (_, i) => `h${i}`);
    const { executor, stats } = fakeExecutor({}, 5000);
    const fanout = new FanoutRegistry(executor).start('sleep', hosts, {
      concurrency: 3,
      hostTimeoutMs: 10_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fanout.cancel(), true);
    await fanout.done;
    assert.equal(fanout.status, 'cancelled');
    assert.equal(stats.started.length, 3);
    const kinds = fanout.results.map((r) => r.failure);
    assert.deepEqual(kinds.slice(0, 3), ['interrupted', 'interrupted', 'interrupted']);
    assert.ok(kinds.slice(3).every((k) => k === 'cancelled'));
  });
});
