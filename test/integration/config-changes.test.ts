// Configuration changes through the session layer (SessionManager.configChange, ConfigChange) against the
// device simulators with candidate configurations: diff, commit, commit confirmed expiring and rolling
// back, rejected lines, discard, rollback, and a connection dropped during a commit confirmed. Device
// minutes are scaled down (confirmMinuteMs) so the devices' own timers run out within the test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DialectRegistry } from '../../src/dialect/loader.js';
import { type ConfigChange, ConfigConnectionLostError } from '../../src/session/config-change.js';
import { SessionManager } from '../../src/session/manager.js';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { eosProfile } from '../simulators/eos.js';
import { iosProfile } from '../simulators/ios.js';
import { junosProfile } from '../simulators/junos.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

/** One device minute, in ms: long enough for a few commands, short enough to wait out. */
const MINUTE_MS = 1500;

function managerIn(home: string): SessionManager {
  writeFileSync(path.join(home, 'config'), '');
  return new SessionManager({
    dialects: new DialectRegistry(),
    connectTimeoutMs: 10_000,
    sshPaths: { sshConfig: path.join(home, 'config'), knownHosts: path.join(home, 'known_hosts'), home },
    output: { memoryBytes: 1024 * 1024, spillBytes: 0 },
  });
}

function target(sim: DeviceSimulator, port = sim.port) {
  return { host: '127.0.0.1', port, username: sim.username, password: sim.password };
}

/** Runs one operation on the simulator's session (through the manager's queue, as the tools do). */
function on<T>(
  manager: SessionManager,
  sim: DeviceSimulator,
  dialect: string,
  work: (change: ConfigChange) => Promise<T>,
  port = sim.port,
): Promise<T> {
  return manager
    .configChange(target(sim, port), { stepTimeoutMs: 20_000, dialect }, 'configure', [], work, undefined)
    .then((done) => done.value);
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const has = (sim: DeviceSimulator, text: string) => sim.config().some((line) => line.includes(text));

describe('configuration changes against the device simulators, through the session layer', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'cfg-int-'));
  let manager: SessionManager;
  let junos: DeviceSimulator;
  let eos: DeviceSimulator;
  let ios: DeviceSimulator;
  let plainIos: DeviceSimulator;

  before(async () => {
    manager = managerIn(home);
    junos = await startDeviceSimulator(junosProfile({ hostname: 'lab-r1', confirmMinuteMs: MINUTE_MS }));
    eos = await startDeviceSimulator(eosProfile({ hostname: 'lab-sw1', confirmMinuteMs: MINUTE_MS }));
    ios = await startDeviceSimulator(
      iosProfile({ hostname: 'lab-rtr1', confirmMinuteMs: MINUTE_MS, enableSecret: null }),
    );
    plainIos = await startDeviceSimulator(
      iosProfile({ hostname: 'lab-rtr2', archive: false, enableSecret: null }),
    );
  });
  after(async () => {
    await manager?.dispose();
    for (const sim of [junos, eos, ios, plainIos]) await sim?.close();
    rmSync(home, { recursive: true, force: true });
  });

  describe('junos', () => {
    const run = <T>(work: (c: ConfigChange) => Promise<T>) => on(manager, junos, 'junos', work);

    it('dry run shows the diff and leaves the device as it was', async () => {
      const before = junos.config();
      const r = await run((c) => c.configure({ lines: ['set system location building-7'], dryRun: true }));
      assert.equal(r.outcome, 'dry_run');
      assert.match(r.diff, /\+\s+location building-7;/);
      assert.deepEqual(junos.config(), before);
    });

    it('commits with a comment, and the device holds the lines', async () => {
      const r = await run((c) =>
        c.configure({
          lines: ['set system location building-7', 'set system contact noc'],
          comment: 'CHG-1',
        }),
      );
      assert.equal(r.outcome, 'committed', r.notes.join('; '));
      assert.match(r.diff, /location building-7/);
      assert.ok(r.commitId, 'a commit id');
      assert.ok(has(junos, 'location building-7') && has(junos, 'contact noc'));
      assert.equal(junos.configState()?.history[0]?.comment, 'CHG-1');
    });

    it('stops at a rejected line: nothing after it sent, candidate discarded, operational mode', async () => {
      const before = junos.config();
      const r = await run((c) =>
        c.configure({
          lines: ['set system location first', 'set sytem ntp server 10.9.9.9', 'set system contact after'],
        }),
      );
      assert.equal(r.outcome, 'rejected');
      assert.equal(r.rejected?.index, 2);
      assert.match(r.rejected?.error ?? '', /syntax error|unknown command/);
      assert.ok(!junos.transcript().includes('set system contact after'), 'nothing after it was sent');
      assert.deepEqual(junos.config(), before);
      assert.equal(junos.configState()?.extra?.exclusiveLock ?? null, null, 'no lock left behind');
      const session = await manager.find(target(junos));
      assert.equal(session?.mode, 'operational');
    });

    it('commit confirmed not confirmed: the device rolls back by itself; confirmed: it stays', async () => {
      const r = await run((c) => c.configure({ lines: ['set system location timed'], confirmMinutes: 1 }));
      assert.equal(r.outcome, 'pending_confirm');
      assert.ok(has(junos, 'location timed'));
      const state = await run((c) => c.state());
      assert.equal(state.pendingConfirm, true);
      await until('the automatic rollback', () => !has(junos, 'location timed'), 6 * MINUTE_MS);
      assert.equal((await run((c) => c.state())).pendingConfirm, false);

      await run((c) => c.configure({ lines: ['set system location kept'], confirmMinutes: 1 }));
      await run((c) => c.confirm());
      await sleep(MINUTE_MS * 1.5);
      assert.ok(has(junos, 'location kept'), 'confirmed: still there after the timer');
    });

    it('rollback undoes the last commit', async () => {
      await run((c) => c.configure({ lines: ['set system contact rollme'] }));
      assert.ok(has(junos, 'contact rollme'));
      const r = await run((c) => c.rollback());
      assert.equal(r.checkpoint, '1');
      assert.ok(!has(junos, 'contact rollme'));
    });

    it('discard_changes drops an uncommitted shared candidate', async () => {
      // Another user's leftovers: `configure`, a set, and leave without committing (kept in the shared candidate).
      for (const command of ['configure', 'set system location leftover']) {
        const record = await manager.execute(target(junos), command, { timeoutMs: 10_000, dialect: 'junos' });
        assert.equal(record.status, 'completed', command);
      }
      const state = await run((c) => c.state());
      assert.equal(state.pendingCandidate, true);
      assert.match(state.diff ?? '', /leftover/);
      const r = await run((c) => c.discard());
      assert.equal(r.discarded, true);
      assert.equal((await run((c) => c.state())).pendingCandidate, false);
    });

    it('a connection dropped during commit confirmed: the next session sees it pending, the device rolls back', async () => {
      const proxy = await startTcpProxy(junos.port);
      try {
        const sent = junos.transcript().length;
        const change = on(
          manager,
          junos,
          'junos',
          (c) => c.configure({ lines: ['set system location dropped'], confirmMinutes: 1 }),
          proxy.port,
        );
        let failed: Error | undefined;
        change.catch((error: Error) => {
          failed = error;
        });
        await until(
          'the commit confirmed',
          () => {
            if (failed) throw failed;
            return junos.transcript().slice(sent).includes('commit confirmed 1');
          },
          20_000,
        );
        await proxy.close();
        // Dropped before the answer came back: the error says the device's timer undoes it. A commit whose
        // answer won the race is pending all the same; either way the device holds it unconfirmed.
        const ended = await change.then(
          (r) => r.outcome,
          (error: Error) => error,
        );
        if (ended instanceof Error) {
          assert.ok(ended instanceof ConfigConnectionLostError, ended.message);
          assert.match(ended.message, /connection to the device was lost/);
        } else assert.equal(ended, 'pending_confirm');
      } finally {
        await proxy.close();
      }
      // The next session (direct, not through the proxy) reports the pending commit, then the device's
      // own timer rolls it back.
      const state = await run((c) => c.state());
      assert.equal(state.pendingConfirm, true);
      await assert.rejects(
        run((c) => c.configure({ lines: ['set system location other'], confirmMinutes: 1 })),
        /commit confirmed is waiting for confirmation/,
      );
      await until('the automatic rollback', () => !has(junos, 'location dropped'), 6 * MINUTE_MS);
    });
  });

  describe('arista-eos', () => {
    const run = <T>(work: (c: ConfigChange) => Promise<T>) => on(manager, eos, 'arista-eos', work);

    it('dry run, commit, rejected line', async () => {
      const lines = ['interface Ethernet5', 'description storage-120'];
      const dry = await run((c) => c.configure({ lines, dryRun: true }));
      assert.equal(dry.outcome, 'dry_run', JSON.stringify(dry));
      assert.match(dry.diff, /\+\s*description storage-120/);
      assert.ok(!has(eos, 'storage-120'));
      const r = await run((c) => c.configure({ lines }));
      assert.equal(r.outcome, 'committed', r.notes.join('; '));
      assert.ok(has(eos, 'storage-120'));
      const before = eos.config();
      const bad = await run((c) =>
        c.configure({ lines: ['vlan 121', 'interfce Ethernet1', 'description never'] }),
      );
      assert.equal(bad.outcome, 'rejected');
      assert.equal(bad.rejected?.index, 2);
      assert.match(bad.rejected?.error ?? '', /^% Invalid input/);
      assert.ok(!eos.transcript().includes('description never'));
      assert.deepEqual(eos.config(), before);
      assert.equal((await run((c) => c.state())).pendingCandidate, false, 'the session was aborted');
    });

    it('commit timer: rolls back unless confirmed; confirmed: stays', async () => {
      const r = await run((c) =>
        c.configure({ lines: ['interface Ethernet6', 'description timed-130'], confirmMinutes: 1 }),
      );
      assert.equal(r.outcome, 'pending_confirm');
      assert.ok(has(eos, 'timed-130'));
      assert.equal((await run((c) => c.state())).pendingConfirm, true);
      await until('the automatic rollback', () => !has(eos, 'timed-130'), 6 * MINUTE_MS);
      await run((c) =>
        c.configure({ lines: ['interface Ethernet7', 'description kept-131'], confirmMinutes: 1 }),
      );
      await run((c) => c.confirm());
      await sleep(MINUTE_MS * 1.5);
      assert.ok(has(eos, 'kept-131'));
    });

    it('rollback returns to the checkpoint a change saved: the last one, or one named', async () => {
      const before = eos.config();
      // As the configure tool does: the manager remembers the checkpoint a committed change names.
      const lines = ['interface Ethernet8', 'description undo-140'];
      const r = await manager
        .configChange(
          target(eos),
          { stepTimeoutMs: 20_000, dialect: 'arista-eos' },
          'configure',
          lines,
          (c) => c.configure({ lines }),
          (v) => ({ outcome: v.outcome, ...(v.checkpoint !== undefined && { checkpoint: v.checkpoint }) }),
        )
        .then((done) => done.value);
      assert.equal(r.outcome, 'committed', r.notes.join('; '));
      assert.ok(r.checkpoint, 'the change names its checkpoint');
      assert.ok(
        ((eos.configState()?.extra.checkpoints ?? []) as { name: string }[]).some(
          (c) => c.name === r.checkpoint,
        ),
        'the device holds it',
      );
      assert.ok(has(eos, 'undo-140'));
      const back = await run((c) => c.rollback());
      assert.equal(back.checkpoint, r.checkpoint, back.notes.join('; '));
      assert.deepEqual(eos.config(), before);

      const r2 = await run((c) => c.configure({ lines: ['interface Ethernet9', 'description undo-141'] }));
      assert.ok(r2.checkpoint && r2.checkpoint !== r.checkpoint);
      await run((c) => c.configure({ lines: ['interface Ethernet10', 'description undo-142'] }));
      assert.ok(has(eos, 'undo-141') && has(eos, 'undo-142'));
      const named = await run((c) => c.rollback(r2.checkpoint));
      assert.equal(named.checkpoint, r2.checkpoint);
      assert.deepEqual(eos.config(), before);
      const now = eos.config();
      await assert.rejects(
        run((c) => c.rollback('nosuch')),
        /No such file/,
        'an unknown checkpoint fails the rollback',
      );
      assert.deepEqual(eos.config(), now);
      assert.equal((await run((c) => c.state())).pendingCandidate, false, 'its session was aborted');
    });
  });

  describe('cisco-ios', () => {
    const run = <T>(work: (c: ConfigChange) => Promise<T>) => on(manager, ios, 'cisco-ios', work);

    it('with the archive: a change under a checkpoint, its diff, and rollback to it', async () => {
      const r = await run((c) =>
        c.configure({ lines: ['interface Loopback10', 'description mgmt'], comment: 'not on IOS' }),
      );
      assert.equal(r.outcome, 'committed', r.notes.join('; '));
      assert.ok(r.checkpoint, 'a checkpoint');
      assert.match(r.diff, /\+\s*interface Loopback10|\+description mgmt|\+ ?description mgmt/);
      assert.ok(has(ios, 'interface Loopback10'));
      const back = await on(manager, ios, 'cisco-ios', (c) => c.rollback(r.checkpoint));
      assert.equal(back.checkpoint, r.checkpoint);
      assert.ok(!has(ios, 'interface Loopback10'));
    });

    it('a rejected line returns the device to the checkpoint', async () => {
      const before = ios.config();
      const r = await run((c) =>
        c.configure({ lines: ['interface Loopback11', 'interfce Loopback12', 'shutdown'] }),
      );
      assert.equal(r.outcome, 'rejected');
      assert.equal(r.rejected?.index, 2);
      assert.match(r.rejected?.error ?? '', /^% Invalid input/);
      assert.ok(!ios.transcript().includes('shutdown\n') || !has(ios, 'Loopback11'));
      assert.deepEqual(ios.config(), before);
    });

    it('revert timer: rolls back unless configure confirm', async () => {
      const r = await run((c) => c.configure({ lines: ['interface Loopback12'], confirmMinutes: 1 }));
      assert.equal(r.outcome, 'pending_confirm');
      assert.ok(has(ios, 'interface Loopback12'));
      assert.equal((await run((c) => c.state())).pendingConfirm, true);
      await until('the revert', () => !has(ios, 'interface Loopback12'), 6 * MINUTE_MS);
      await run((c) => c.configure({ lines: ['interface Loopback13'], confirmMinutes: 1 }));
      await run((c) => c.confirm());
      await sleep(MINUTE_MS * 1.5);
      assert.ok(has(ios, 'interface Loopback13'));
    });

    it('without the archive: refused, unless line by line is asked for', async () => {
      const plain = <T>(work: (c: ConfigChange) => Promise<T>) => on(manager, plainIos, 'cisco-ios', work);
      await assert.rejects(
        plain((c) => c.configure({ lines: ['interface Loopback20'] })),
        /archive is not set up.*line_by_line/s,
      );
      assert.ok(!has(plainIos, 'Loopback20'));
      await assert.rejects(
        plain((c) => c.configure({ lines: ['interface Loopback20'], dryRun: true })),
        /dry_run/,
      );
      const r = await plain((c) => c.configure({ lines: ['interface Loopback20'], lineByLine: true }));
      assert.equal(r.outcome, 'committed');
      assert.ok(has(plainIos, 'interface Loopback20'));
    });
  });
});
