// What the server keeps of command outputs: until read or too old, within one memory and one disk budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputStore } from '../../src/expect/output-store.js';
import type { RunOutcome } from '../../src/expect/runner.js';
import { CommandRecord } from '../../src/session/command.js';
import { CommandRegistry, DEFAULT_RETENTION } from '../../src/session/registry.js';

let seq = 0;
/** A command that printed `bytes` bytes and ended. */
function finished(bytes: number): CommandRecord {
  const output = new OutputStore({ memoryBytes: 4 * 1024 * 1024, spillBytes: 64 * 1024 * 1024 });
  for (let left = bytes; left > 0; left -= 65536) output.push('x'.repeat(Math.min(65536, left)));
  const record = new CommandRecord(`cmd-${++seq}`, 's', 'cmd', 'linux', output);
  const captured = output.finish();
  const outcome: RunOutcome = {
    exitCode: 0,
    output: captured,
    timedOut: false,
    interrupted: false,
    shellLost: false,
  };
  record.complete(outcome);
  return record;
}

const settle = (registry: CommandRegistry) => registry.enforce();

describe('CommandRegistry', () => {
  it('keeps one copy of an output: the record holds no text, a big output goes to disk at once', async () => {
    const registry = new CommandRegistry(DEFAULT_RETENTION);
    const record = finished(3 * 1024 * 1024);
    assert.equal('output' in (record.outcome ?? {}), false);
    registry.add(record);
    await settle(registry);
    assert.equal(record.output.archived, true);
    assert.equal(record.output.stats.memoryBytes, 0);
    assert.equal((await record.output.capture()).totalBytes, 3 * 1024 * 1024);
    await registry.dispose();
  });

  it('lists at most historyMax finished commands, but keeps every unread output beyond it', async () => {
    const registry = new CommandRegistry({ ...DEFAULT_RETENTION, historyMax: 5 });
    const records = Array.from({ length: 12 }, () => finished(10));
    for (const r of records) registry.add(r);
    for (const r of records.slice(0, 4)) registry.markRead(r);
    await settle(registry);
    for (const r of records.slice(4)) assert.equal(registry.get(r.id), r, `${r.id} unread and kept`);
    assert.equal(registry.get(records[0]?.id as string), undefined);
    assert.match(
      registry.whyUnknown(records[0]?.id as string),
      /no longer kept: .*was read; only the newest 5/,
    );
    await registry.dispose();
  });

  it('applies the limits by itself, a second after commands end or are read, not at once', async () => {
    const registry = new CommandRegistry({ ...DEFAULT_RETENTION, historyMax: 2 });
    const records = Array.from({ length: 5 }, () => finished(10));
    for (const r of records) registry.add(r);
    await new Promise((resolve) => setImmediate(resolve));
    for (const r of records) registry.markRead(r);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(registry.size, 5, 'not at once');
    await new Promise((resolve) => setTimeout(resolve, 2400));
    assert.equal(registry.size, 2);
    await registry.dispose();
  });

  it('when the disk budget is full drops read outputs first, then the oldest unread, and says why', async () => {
    const mib = 1024 * 1024;
    const registry = new CommandRegistry({ ...DEFAULT_RETENTION, diskBytes: 5 * mib });
    const [read, old, young] = [finished(2 * mib), finished(2 * mib), finished(2 * mib)];
    registry.add(read);
    registry.markRead(read);
    registry.add(old);
    registry.add(young);
    await settle(registry);
    assert.match(String(read.outputGone), /released after it was read, to make room on disk/);
    assert.equal(old.outputGone, undefined);
    const fourth = finished(2 * mib);
    registry.add(fourth);
    await settle(registry);
    assert.match(
      String(old.outputGone),
      /dropped unread: the server keeps at most 5242880 bytes of output on disk/,
    );
    assert.equal(young.outputGone, undefined);
    assert.equal(fourth.outputGone, undefined);
    await registry.dispose();
  });

  it('drops unread outputs past their age limit', async () => {
    const registry = new CommandRegistry({ ...DEFAULT_RETENTION, unreadMs: 50 });
    const record = finished(10);
    registry.add(record);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await settle(registry);
    assert.match(String(record.outputGone), /dropped unread 0 s after it ended/);
    await registry.dispose();
  });
});
