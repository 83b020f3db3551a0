// Configuration changes on the device simulators, driven over a raw ssh2 shell: candidate / session / archive
// diffs, commits, confirmed commits that expire (time scaled with confirmMinuteMs) or are confirmed, rejected
// lines, discarding, rolling back, and a connection dropped while a confirm timer runs (the timer is device
// state: a new connection sees it pending, then the device rolls back by itself).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { DeviceSimulator } from '../simulators/device-sim.js';
import { eosProfile } from '../simulators/eos.js';
import { iosProfile } from '../simulators/ios.js';
import { junosProfile } from '../simulators/junos.js';
import { RawShell, withShell, withSim } from '../support/raw-shell.js';

/** Text between the echoed command line and the prompt that follows it. */
function body(chunk: string, promptLines = 1): string {
  const lines = chunk.split('\r\n');
  return lines.slice(1, lines.length - promptLines).join('\n');
}

/** Polls a condition (device state) for up to ms. */
async function until(what: string, cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

const J = /admin@lab-fw\d# $/;
const JOP = /admin@lab-fw\d> $/;

async function junosConfigure(sh: RawShell, how = 'configure'): Promise<string> {
  await sh.run('set cli complete-on-space off', JOP);
  await sh.run('set cli screen-length 0', JOP);
  return sh.run(how, /# $|> $/);
}

// -----------------------------------------------------------------------------------------------------------

describe('Junos simulator: configuration changes', { timeout: 60_000 }, () => {
  it('show | compare, commit comment, show system commit, | display set', async () => {
    await withShell(junosProfile(), JOP, async (sh, sim) => {
      await junosConfigure(sh);
      assert.equal(body(await sh.run('show | compare', J), 3), '', 'nothing to compare yet');
      await sh.run('set system host-name lab-fw9', J);
      await sh.run('set interfaces ge-0/0/99 unit 0 family inet address 10.99.0.1/24', J);
      await sh.run('set interfaces ge-0/0/9 unit 0 family inet address 10.9.9.1/24', J);
      const diff = await sh.run('show | compare', J);
      assert.equal(
        body(diff, 3),
        [
          '[edit system]',
          '-  host-name lab-fw1;',
          '+  host-name lab-fw9;',
          '[edit interfaces ge-0/0/9 unit 0 family inet]',
          '+      address 10.9.9.1/24;',
          '[edit interfaces]',
          '+   ge-0/0/99 {',
          '+       unit 0 {',
          '+           family inet {',
          '+               address 10.99.0.1/24;',
          '+           }',
          '+       }',
          '+   }',
        ].join('\n'),
      );
      assert.ok(!sim.config().includes('set system host-name lab-fw9'), 'the candidate is not running yet');
      assert.equal(
        await sh.run('commit check', J),
        'commit check\r\nconfiguration check succeeds\r\n\r\n[edit]\r\nadmin@lab-fw1# ',
      );
      const done = await sh.run('commit comment "CHG-1 rename"', J);
      assert.equal(done, 'commit comment "CHG-1 rename"\r\ncommit complete\r\n\r\n[edit]\r\nadmin@lab-fw9# ');
      assert.ok(sim.config().includes('set system host-name lab-fw9'));
      assert.ok(sim.config().includes('set interfaces ge-0/0/9 unit 0 family inet address 10.9.9.1/24'));
      assert.equal(body(await sh.run('show | compare', J), 3), '');
      const history = body(await sh.run('run show system commit', J), 3).split('\n');
      assert.match(history[0] ?? '', /^0 {3}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by admin via cli$/);
      assert.equal(history[1], '    CHG-1 rename');
      assert.equal(history[2], '1   2024-06-04 10:15:30 UTC by admin via cli');
      const back = await sh.run('show | compare rollback 1', J);
      assert.match(body(back, 3), /^\[edit system\]\n- {2}host-name lab-fw1;\n\+ {2}host-name lab-fw9;\n/);
      assert.equal(
        body(await sh.run('show system | display set | match host-name', J), 3),
        'set system host-name lab-fw9',
      );
      await sh.run('exit configuration-mode', JOP);
      assert.match(await sh.run('show configuration | compare rollback 1', JOP), /\+ {2}host-name lab-fw9;/);
      const state = sim.configState();
      assert.equal(state?.history[0]?.comment, 'CHG-1 rename');
      assert.equal(state?.pending, null);
    });
  });

  it('rejected lines: syntax error with a caret, ambiguity, missing argument, statement not found', async () => {
    await withShell(junosProfile(), JOP, async (sh, sim) => {
      await junosConfigure(sh);
      const bad = await sh.run('set foo bar', J);
      assert.equal(body(bad, 3), `${' '.repeat('admin@lab-fw1# set '.length)}^\nsyntax error.`);
      assert.match(await sh.run('set s x', J), /'s' is ambiguous\.\r\nPossible completions:\r\n {2}security/);
      assert.match(await sh.run('set system host-name', J), /\r\nmissing argument\.\r\n/);
      assert.match(
        await sh.run('delete system ntp', J),
        /^delete system ntp\r\nwarning: statement not found\r\n/,
      );
      assert.equal(body(await sh.run('show | compare', J), 3), '', 'nothing was changed');
      assert.equal(sim.configState()?.extra.sharedCandidateDiff, '');
    });
  });

  it('load set terminal: lines until Ctrl+D, a bad line is reported with line and column, the rest loads', async () => {
    await withShell(junosProfile(), JOP, async (sh) => {
      await junosConfigure(sh);
      assert.equal(
        await sh.run('load set terminal', /end input\]\r\n$/),
        'load set terminal\r\n[Type ^D at a new line to end input]\r\n',
      );
      sh.send('set system domain-name lab.example.net\rset bogus 1\rdelete routing-options static\r\x04');
      const out = await sh.expect(J);
      assert.match(out, /\^Dterminal:2:\(4\) syntax error: bogus\r\nload complete\r\n\r\n\[edit\]\r\n/);
      const diff = body(await sh.run('show | compare', J), 3);
      assert.match(diff, /\[edit system\]\n\+ {2}domain-name lab\.example\.net;/);
      assert.match(diff, /\[edit\]\n- {2}routing-options \{\n- {6}static \{/);
      assert.ok(!diff.includes('bogus'));
    });
  });

  it('rollback 0 discards the candidate; rollback 1 + commit undoes the last commit', async () => {
    await withShell(junosProfile(), JOP, async (sh, sim) => {
      await junosConfigure(sh);
      await sh.run('set snmp community public', J);
      assert.equal(
        await sh.run('rollback 0', J),
        'rollback 0\r\nload complete\r\n\r\n[edit]\r\nadmin@lab-fw1# ',
      );
      assert.equal(body(await sh.run('show | compare', J), 3), '');
      await sh.run('set system services telnet', J);
      await sh.run('commit', J);
      assert.ok(sim.config().includes('set system services telnet'));
      assert.match(await sh.run('rollback 1', J), /^rollback 1\r\nload complete\r\n/);
      assert.match(body(await sh.run('show | compare', J), 3), /^\[edit system services\]\n- {4}telnet;$/);
      await sh.run('commit', J);
      assert.ok(!sim.config().includes('set system services telnet'));
      assert.match(await sh.run('rollback 77', J), /error: .*rollback.*77/i);
      const exit = await sh.run('exit', JOP);
      assert.equal(
        exit,
        'exit\r\nExiting configuration mode\r\n\r\nadmin@lab-fw1> ',
        'no question without changes',
      );
    });
  });

  it('commit confirmed that is not confirmed: prompt countdown, broadcast, automatic rollback', async () => {
    await withShell(junosProfile({ confirmMinuteMs: 400 }), JOP, async (sh, sim) => {
      await junosConfigure(sh);
      await sh.run('set system services telnet', J);
      const out = await sh.run('commit confirmed 2', J);
      assert.equal(
        out,
        'commit confirmed 2\r\ncommit confirmed will be automatically rolled back in 2 minutes unless confirmed\r\n' +
          'commit complete\r\n\r\n# commit confirmed will be rolled back in 2 minutes\r\n[edit]\r\nadmin@lab-fw1# ',
      );
      assert.ok(sim.config().includes('set system services telnet'));
      const pending = sim.configState()?.pending;
      assert.equal(pending?.kind, 'commit-confirmed');
      assert.equal(pending?.minutes, 2);
      const log = body(await sh.run('run show system commit', /# $/), 4).split('\n');
      assert.match(log[0] ?? '', /by admin via cli commit confirmed, rollback in 2mins$/);
      assert.equal(log[1], '    rollback pending');
      const broadcast = await sh.expect(
        /automatic rollback complete\.\r\n\r\n\[edit\]\r\nadmin@lab-fw1# $/,
        5_000,
      );
      assert.match(
        broadcast,
        /Broadcast Message from root@lab-fw1\r\n {8}\(no tty\) at \d\d:\d\d UTC\.\.\.\r\n\r\n/,
      );
      assert.ok(!sim.config().includes('set system services telnet'), 'rolled back');
      assert.equal(sim.configState()?.pending, null);
      assert.equal(sim.configState()?.history[0]?.user, 'root');
      assert.equal(
        body(await sh.run('show | compare', J), 3),
        '',
        'the shared candidate follows the rollback',
      );
    });
  });

  it('commit confirmed confirmed in time by commit check (or commit) stays', async () => {
    await withShell(junosProfile({ confirmMinuteMs: 1_000 }), JOP, async (sh, sim) => {
      await junosConfigure(sh);
      await sh.run('set system services telnet', J);
      await sh.run('commit confirmed 1', J);
      assert.equal(
        await sh.run('commit check', J),
        'commit check\r\nconfiguration check succeeds\r\n\r\n[edit]\r\nadmin@lab-fw1# ',
        'confirmed: the countdown line is gone',
      );
      await delay(1_200);
      assert.ok(sim.config().includes('set system services telnet'));
      await sh.run('set system services ftp', J);
      await sh.run('commit confirmed 1', J);
      assert.equal(await sh.run('commit', J), 'commit\r\ncommit complete\r\n\r\n[edit]\r\nadmin@lab-fw1# ');
      await delay(1_200);
      assert.ok(sim.config().includes('set system services ftp'));
      assert.equal(sim.configState()?.pending, null);
    });
  });

  it('a dropped connection during commit confirmed: a new session sees it pending, then the rollback', async () => {
    await withSim(junosProfile({ confirmMinuteMs: 2_000 }), async (sim) => {
      const first = await RawShell.open(sim);
      await first.expect(JOP);
      await junosConfigure(first);
      await first.run('set system services telnet', J);
      await first.run('commit confirmed 1', J);
      first.close();
      await first.closed;
      const second = await RawShell.open(sim);
      try {
        await second.expect(JOP);
        await second.run('set cli screen-length 0', JOP);
        assert.match(
          await second.run('show system commit', JOP),
          /rollback in 1mins\r\n {4}rollback pending\r\n/,
        );
        const conf = await second.run('configure', J);
        assert.match(conf, /\r\n# commit confirmed will be rolled back in 1 minutes\r\n\[edit\]\r\n/);
        await second.expect(/Commit was not confirmed; automatic rollback complete\./, 6_000);
        assert.ok(!sim.config().includes('set system services telnet'));
      } finally {
        second.close();
      }
    });
  });

  it('configure exclusive locks out other sessions; configure private refuses a modified shared candidate', async () => {
    await withSim(junosProfile(), async (sim) => {
      const a = await RawShell.open(sim);
      const b = await RawShell.open(sim);
      try {
        await a.expect(JOP);
        await b.expect(JOP);
        assert.match(await junosConfigure(a, 'configure exclusive'), /Entering configuration mode/);
        await a.run('set system services telnet', J);
        const refused = await junosConfigure(b, 'configure exclusive');
        assert.match(
          refused,
          /^configure exclusive\r\nerror: configuration database locked by:\r\n {2}admin terminal p0 \(pid 4242\) on since [\d-]+ [\d:]+ UTC\r\n {6}exclusive \[edit\]\r\n/,
        );
        await b.run('configure', J);
        assert.match(await b.run('set system services ftp', J), /error: configuration database locked by:/);
        assert.match(await b.run('commit', J), /error: configuration database locked by:/);
        // The shared candidate holds A's uncommitted changes, so leaving asks.
        await b.run('exit configuration-mode', /\(yes\) $/);
        await b.run('yes', JOP);
        assert.match(await b.run('configure private', JOP), /error: configuration database locked by:/);
        await a.run('commit and-quit', JOP);
        assert.ok(sim.config().includes('set system services telnet'));
        // B changes the shared candidate; A may not open a private one until that is committed or discarded.
        await b.run('configure', J);
        await b.run('set system services ftp', J);
        const priv = await a.run('configure private', JOP);
        assert.match(
          priv,
          /error: shared configuration database modified\r\nUsers currently editing the configuration:\r\n {2}admin terminal p1 /,
        );
        await b.run('rollback 0', J);
        assert.match(
          await a.run('configure private', J),
          /warning: uncommitted changes will be discarded on exit/,
        );
        await a.run('set system services netconf ssh port 830', J);
        assert.equal(sim.configState()?.extra.sharedCandidateDiff, '', 'private changes stay private');
        await a.run('commit', J);
        assert.ok(sim.config().includes('set system services netconf ssh port 830'));
      } finally {
        a.close();
        b.close();
      }
    });
  });

  it('close() clears the confirm timer', async () => {
    const { startDeviceSimulator } = await import('../simulators/device-sim.js');
    const sim: DeviceSimulator = await startDeviceSimulator(junosProfile());
    const sh = await RawShell.open(sim);
    await sh.expect(JOP);
    await junosConfigure(sh);
    await sh.run('set system services telnet', J);
    await sh.run('commit confirmed 5', J);
    assert.equal(sim.configState()?.extra.activeTimers, 1);
    await sim.close();
    assert.equal(sim.configState()?.extra.activeTimers, 0);
  });
});

// -----------------------------------------------------------------------------------------------------------

const E = (mode: string) => new RegExp(`\\r\\nlab-sw\\d\\(${mode.replace(/[()]/g, '\\$&')}\\)#$`);
const EP = /\r\nlab-sw\d#$|^lab-sw\d#$/;

describe('EOS simulator: configuration sessions', { timeout: 60_000 }, () => {
  it('session prompt (first 6 characters), show session-config diffs, commit', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh, sim) => {
      await sh.run('terminal length 0', EP);
      await sh.run('configure session change-42', E('config-s-change'));
      await sh.run('hostname lab-sw9', E('config-s-change'));
      await sh.run('interface Ethernet1', E('config-s-change-if-Et1'));
      await sh.run('description new uplink', E('config-s-change-if-Et1'));
      const diff = body(await sh.run('show session-config diffs', E('config-s-change-if-Et1')));
      const lines = diff.split('\n');
      assert.equal(lines[0], '--- system:/running-config');
      assert.equal(lines[1], '+++ session:/change-42-session-config');
      assert.match(lines[2] ?? '', /^@@ -\d+,\d+ \+\d+,\d+ @@$/);
      assert.ok(lines.includes('-hostname lab-sw1') && lines.includes('+hostname lab-sw9'), diff);
      assert.ok(
        lines.includes('-   description server-1') && lines.includes('+   description new uplink'),
        diff,
      );
      assert.ok(lines.includes(' interface Ethernet1'), 'context lines start with a space');
      assert.ok(sim.config().includes('hostname lab-sw1'), 'running-config is untouched until commit');
      assert.equal(await sh.run('commit', /#$/), 'commit\r\nlab-sw9#');
      assert.ok(sim.config().includes('hostname lab-sw9'));
      assert.ok(sim.config().includes('   description new uplink'));
      const sessions = body(await sh.run('show configuration sessions', /lab-sw9#$/));
      assert.match(
        sessions,
        /^Maximum number of completed sessions: 1\nMaximum number of pending sessions: 5\n\n/,
      );
      assert.match(sessions, /\n {2}change-42 +completed/);
    });
  });

  it('a rejected line keeps the session; abort discards it', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh, sim) => {
      const before = sim.config();
      await sh.run('configure session bad1', E('config-s-bad1'));
      assert.equal(
        await sh.run('ntpx server 1.1.1.1', E('config-s-bad1')),
        "ntpx server 1.1.1.1\r\n% Invalid input (at token 0: 'ntpx')\r\nlab-sw1(config-s-bad1)#",
      );
      await sh.run('ntp server 10.0.0.1', E('config-s-bad1'));
      const diff = body(await sh.run('show session-config diffs', E('config-s-bad1')));
      assert.ok(diff.includes('+ntp server 10.0.0.1') && !diff.includes('ntpx'), diff);
      assert.match(
        body(await sh.run('show configuration sessions', E('config-s-bad1'))),
        /\n\* bad1 +pending +admin +vty3/,
      );
      assert.equal(await sh.run('abort', /#$/), 'abort\r\nlab-sw1#');
      assert.deepEqual(sim.config(), before);
      assert.ok(!body(await sh.run('show configuration sessions', EP)).includes('bad1'));
      assert.equal(
        body(await sh.run('show session-config named bad1 diffs', EP)),
        '% Session bad1 does not exist',
      );
    });
  });

  it('commit timer that runs out restores the checkpoint; configure session NAME commit confirms', async () => {
    await withShell(
      eosProfile({ startPrivileged: true, confirmMinuteMs: 400 }),
      /lab-sw1#$/,
      async (sh, sim) => {
        await sh.run('configure session t1', E('config-s-t1'));
        await sh.run('ntp server 10.0.0.1', E('config-s-t1'));
        assert.equal(await sh.run('commit timer 00:02:00', /#$/), 'commit timer 00:02:00\r\nlab-sw1#');
        assert.ok(sim.config().includes('ntp server 10.0.0.1'), 'applied at once');
        assert.equal(sim.configState()?.pending?.session, 't1');
        const detail = body(await sh.run('show configuration sessions detail', EP));
        assert.match(detail, /Session with pending commit timer: t1\n/);
        assert.match(detail, /\n {2}t1 +pendingCommitTimer +admin +\d+m\d+s/);
        await until('the commit timer to run out', () => sim.configState()?.pending === null);
        assert.ok(!sim.config().includes('ntp server 10.0.0.1'), 'rolled back');

        await sh.run('configure session t2', E('config-s-t2'));
        await sh.run('ntp server 10.0.0.2', E('config-s-t2'));
        await sh.run('commit timer 00:10:00', /#$/);
        assert.equal(
          await sh.run('configure session t2 commit', EP),
          'configure session t2 commit\r\nlab-sw1#',
        );
        assert.equal(sim.configState()?.pending, null);
        await delay(900);
        assert.ok(sim.config().includes('ntp server 10.0.0.2'), 'confirmed in time');
      },
    );
  });

  it('configure session NAME abort during the timer rolls back at once', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh, sim) => {
      const before = sim.config();
      await sh.run('configure session r1', E('config-s-r1'));
      await sh.run('no interface Ethernet2', E('config-s-r1'));
      await sh.run('commit timer 00:10:00', /#$/);
      assert.ok(!sim.config().includes('interface Ethernet2'));
      await sh.run('configure session r1 abort', EP);
      assert.deepEqual(sim.config(), before);
      assert.equal(sim.configState()?.pending, null);
      assert.equal(sim.configState()?.extra.activeTimers, 0);
    });
  });

  it('plain configure terminal still changes running-config at once', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh, sim) => {
      await sh.run('configure terminal', E('config'));
      await sh.run('ip route 10.9.0.0/16 192.168.0.1', E('config'));
      assert.ok(sim.config().includes('ip route 10.9.0.0/16 192.168.0.1'));
      await sh.run('end', EP);
    });
  });

  it('a dropped connection during commit timer: a new session sees it pending, then the rollback', async () => {
    await withSim(eosProfile({ startPrivileged: true, confirmMinuteMs: 2_000 }), async (sim) => {
      const first = await RawShell.open(sim);
      await first.expect(/lab-sw1#$/);
      await first.run('configure session drop1', E('config-s-drop1'));
      await first.run('ntp server 10.0.0.9', E('config-s-drop1'));
      await first.run('commit timer 00:01:00', /#$/);
      first.close();
      await first.closed;
      const second = await RawShell.open(sim);
      try {
        await second.expect(/lab-sw1#$/);
        await second.run('terminal length 0', /lab-sw1#$/);
        const detail = await second.run('show configuration sessions detail', /lab-sw1#$/);
        assert.match(detail, /drop1 +pendingCommitTimer/);
        await until('the rollback', () => !sim.config().includes('ntp server 10.0.0.9'), 6_000);
        assert.ok(!(await second.run('show running-config', /lab-sw1#$/)).includes('ntp server 10.0.0.9'));
      } finally {
        second.close();
      }
    });
  });
});

describe('EOS simulator: configuration checkpoints', { timeout: 60_000 }, () => {
  const names = (sim: DeviceSimulator) =>
    ((sim.configState()?.extra.checkpoints ?? []) as { name: string }[]).map((c) => c.name);

  it('save a checkpoint, commit a change, rollback checkpoint:NAME in a session and commit: as before', async () => {
    let kept: DeviceSimulator | undefined;
    await withSim(eosProfile({ startPrivileged: true }), async (sim) => {
      kept = sim;
      const before = sim.config();
      const first = await RawShell.open(sim);
      await first.expect(/lab-sw1#$/);
      await first.run('terminal length 0', EP);
      assert.equal(
        await first.run('configure checkpoint save pre-1', EP),
        'configure checkpoint save pre-1\r\nlab-sw1#',
      );
      const list = body(await first.run('show configuration checkpoints', EP));
      assert.match(list, /^Maximum number of checkpoints: 20\nFilename +Date +User\n-+ -+ -+\n/);
      assert.match(list, /\npre-1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +admin$/);
      await first.run('configure session c1', E('config-s-c1'));
      await first.run('hostname lab-sw7', E('config-s-c1'));
      await first.run('ntp server 10.0.0.7', E('config-s-c1'));
      await first.run('commit', /lab-sw7#$/);
      assert.ok(sim.config().includes('ntp server 10.0.0.7'));
      // Checkpoints are device state: a dropped connection leaves them.
      first.close();
      await first.closed;
      const second = await RawShell.open(sim);
      try {
        await second.expect(/lab-sw7#$/);
        await second.run('terminal length 0', /lab-sw7#$/);
        await second.run('configure session back1', /lab-sw7\(config-s-back1\)#$/);
        assert.equal(
          await second.run('rollback checkpoint:pre-1', /lab-sw7\(config-s-back1\)#$/),
          'rollback checkpoint:pre-1\r\nlab-sw7(config-s-back1)#',
        );
        assert.deepEqual(sim.config().includes('ntp server 10.0.0.7'), true, 'not applied before commit');
        const diff = body(await second.run('show session-config diffs', /lab-sw7\(config-s-back1\)#$/));
        assert.ok(diff.includes('-ntp server 10.0.0.7') && diff.includes('+hostname lab-sw1'), diff);
        await second.run('commit', /lab-sw1#$/);
        assert.deepEqual(sim.config(), before);
        assert.deepEqual(names(sim), ['pre-1']);
      } finally {
        second.close();
      }
    });
    await kept?.close();
    assert.deepEqual(kept ? names(kept) : ['?'], [], 'close() clears the checkpoints');
  });

  it('an unknown checkpoint is an error and leaves the session; rollback outside a session is invalid', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh, sim) => {
      await sh.run('configure session u1', E('config-s-u1'));
      await sh.run('ntp server 10.0.0.8', E('config-s-u1'));
      assert.equal(
        body(await sh.run('rollback checkpoint:nosuch', E('config-s-u1'))),
        '% Error: could not read checkpoint:nosuch (No such file or directory)',
      );
      assert.match(
        body(await sh.run('show session-config diffs', E('config-s-u1'))),
        /\+ntp server 10\.0\.0\.8/,
      );
      await sh.run('abort', EP);
      assert.equal(
        body(await sh.run('configure replace checkpoint:nosuch', EP)),
        '% Error: could not read checkpoint:nosuch (No such file or directory)',
      );
      await sh.run('configure terminal', E('config'));
      assert.match(body(await sh.run('rollback clean-config', E('config'))), /^% Invalid input/);
      await sh.run('end', EP);
      assert.deepEqual(names(sim), []);
    });
  });

  it('configure replace checkpoint:NAME applies it at once; rollback clean-config; at most 20 kept', async () => {
    await withShell(eosProfile({ startPrivileged: true }), /lab-sw1#$/, async (sh, sim) => {
      const before = sim.config();
      await sh.run('terminal length 0', EP);
      await sh.run('configure checkpoint save base', EP);
      await sh.run('configure terminal', E('config'));
      await sh.run('ip route 10.8.0.0/16 192.168.0.1', E('config'));
      await sh.run('end', EP);
      assert.ok(sim.config().includes('ip route 10.8.0.0/16 192.168.0.1'));
      assert.equal(
        await sh.run('configure replace checkpoint:base', EP),
        'configure replace checkpoint:base\r\nlab-sw1#',
      );
      assert.deepEqual(sim.config(), before);

      await sh.run('configure session clean', E('config-s-clean'));
      await sh.run('rollback clean-config', E('config-s-clean'));
      const diff = body(await sh.run('show session-config diffs', E('config-s-clean')));
      assert.ok(diff.includes('-hostname lab-sw1'), diff);
      await sh.run('abort', EP);
      assert.deepEqual(sim.config(), before);

      for (let i = 0; i < 21; i++) await sh.run(`configure checkpoint save n${i}`, EP);
      const kept = names(sim);
      assert.equal(kept.length, 20);
      assert.equal(kept[0], 'n1', 'the oldest went first');
      assert.equal(kept[19], 'n20');
      await sh.run('configure checkpoint save', EP);
      assert.match(names(sim)[19] ?? '', /^ckp-\d{8}-0$/, 'a name is made up when none is given');
    });
  });
});

// -----------------------------------------------------------------------------------------------------------

const I = /\r\nlab-rtr1#$/;
const IC = (mode = 'config') => new RegExp(`\\r\\nlab-rtr1\\(${mode}\\)#$`);

describe('IOS simulator: archive, revert timer, configure replace', { timeout: 60_000 }, () => {
  it('show archive, archive config, contextual config diffs', async () => {
    await withShell(iosProfile({ startPrivileged: true }), /lab-rtr1#$/, async (sh, sim) => {
      await sh.run('terminal length 0', I);
      const empty = body(await sh.run('show archive', I));
      assert.match(
        empty,
        /^The maximum archive configurations allowed is 10\.\nThere are currently 0 archive configurations saved\.\nThe next archive file will be named flash:archive-config-1\n Archive # {2}Name\n {3}1\n/,
      );
      assert.equal(await sh.run('archive config', I), 'archive config\r\nlab-rtr1#');
      assert.match(
        body(await sh.run('show archive', I)),
        /\n {3}1 {8}flash:archive-config-1 <- Most Recent\n {3}2\n/,
      );
      assert.equal(
        body(await sh.run('show archive config differences flash:archive-config-1', I)),
        '!No changes were found',
      );
      await sh.run('configure terminal', IC());
      await sh.run('interface Loopback9', IC('config-if'));
      await sh.run(' ip address 10.9.9.9 255.255.255.255', IC('config-if'));
      await sh.run('end', I);
      assert.ok(sim.config().includes(' ip address 10.9.9.9 255.255.255.255'));
      assert.equal(
        body(await sh.run('show archive config differences flash:archive-config-1', I)),
        '!Contextual Config Diffs:\n+interface Loopback9\n +ip address 10.9.9.9 255.255.255.255',
      );
      assert.equal(
        body(await sh.run('show archive config differences flash:archive-config-1 nvram:startup-config', I)),
        '!No changes were found',
      );
      assert.match(
        body(await sh.run('show archive config differences', I)),
        /^!Contextual Config Diffs:\n\+interface Loopback9\n/,
        'no argument: startup-config against running-config',
      );
      assert.equal(
        body(await sh.run('show archive config differences flash:nope', I)),
        '%Error opening flash:nope (File not found)',
      );
    });
  });

  it('revert timer that runs out: checkpoint restored, log lines on terminal monitor', async () => {
    await withShell(
      iosProfile({ startPrivileged: true, confirmMinuteMs: 500 }),
      /lab-rtr1#$/,
      async (sh, sim) => {
        const before = sim.config();
        await sh.run('terminal monitor', I);
        const enter = await sh.run('configure terminal revert timer 2', IC());
        assert.equal(
          enter,
          'configure terminal revert timer 2\r\nRollback Confirmed Change: Backing up current running config to flash:archive-config-1\r\n\r\n' +
            'Enter configuration commands, one per line.  End with CNTL/Z.\r\nlab-rtr1(config)#',
        );
        await sh.run('ip domain name changed.example.net', IC());
        await sh.run('end', I);
        assert.ok(sim.config().includes('ip domain name changed.example.net'), 'applied at once');
        const timer = body(await sh.run('show archive config rollback timer', I));
        assert.match(timer, /\nTimer type: Revert\nTimer value: 2 min\n/);
        assert.equal(sim.configState()?.pending?.kind, 'revert-timer');
        await sh.expect(
          /%ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_ROLLBACK_START: Start rolling to: flash:archive-config-1\r\n.*ROLLBACK_DONE.*\r\nlab-rtr1#$/,
          5_000,
        );
        await until('the revert', () => sim.configState()?.pending === null);
        assert.deepEqual(sim.config(), before);
        assert.equal(
          body(await sh.run('show archive config rollback timer', I)),
          '%No Rollback Confirmed Change pending',
        );
      },
    );
  });

  it('configure confirm keeps the change; a rejected line changes nothing', async () => {
    await withShell(
      iosProfile({ startPrivileged: true, confirmMinuteMs: 1_500 }),
      /lab-rtr1#$/,
      async (sh, sim) => {
        await sh.run('configure terminal revert timer 1', IC());
        const before = sim.config();
        const bad = await sh.run('bogus-command 1', IC());
        assert.match(bad, /\r\n% Invalid input detected at '\^' marker\.\r\n/);
        assert.match(await sh.run('interface', IC()), /% Incomplete command\./);
        assert.deepEqual(sim.config(), before);
        await sh.run('ip domain name kept.example.net', IC());
        await sh.run('end', I);
        assert.equal(await sh.run('configure confirm', I), 'configure confirm\r\nlab-rtr1#');
        assert.equal(
          body(await sh.run('configure confirm', I)),
          '%No Rollback Confirmed Change pending',
          'nothing left to confirm',
        );
        await delay(1_700);
        assert.ok(sim.config().includes('ip domain name kept.example.net'));
      },
    );
  });

  it('configure replace FILE force returns to an archived configuration (also with a time window)', async () => {
    await withShell(
      iosProfile({ startPrivileged: true, confirmMinuteMs: 500 }),
      /lab-rtr1#$/,
      async (sh, sim) => {
        await sh.run('archive config', I);
        const saved = sim.config();
        await sh.run('configure terminal', IC());
        await sh.run('hostname lab-rtr9', /\(config\)#$/);
        await sh.run('end', /lab-rtr9#$/);
        const out = await sh.run('configure replace flash:archive-config-1 force', /lab-rtr1#$/);
        assert.equal(
          out,
          'configure replace flash:archive-config-1 force\r\nTotal number of passes: 1\r\nRollback Done\r\nlab-rtr1#',
        );
        assert.deepEqual(sim.config(), saved);
        const ask = await sh.run('configure replace nvram:startup-config', /\[no\]: $/);
        assert.match(ask, /This will apply all necessary additions and deletions\r\n/);
        assert.match(await sh.run('y', I), /Total number of passes: 0\r\nRollback Done/);
        await sh.run('configure terminal', IC());
        await sh.run('ip domain name replaced.example.net', IC());
        await sh.run('end', I);
        await sh.run('copy running-config flash:candidate.cfg', /\? $/);
        assert.match(await sh.run('', I), /^\r\n\d+ bytes copied in [\d.]+ secs/);
        await sh.run('configure replace nvram:startup-config force', I);
        const timed = await sh.run('configure replace flash:candidate.cfg force time 2', I);
        assert.match(
          timed,
          /Backing up current running config to flash:archive-config-2\r\nTotal number of passes: 1\r\nRollback Done/,
        );
        assert.ok(sim.config().includes('ip domain name replaced.example.net'));
        await until('the revert', () => sim.configState()?.pending === null);
        assert.ok(!sim.config().includes('ip domain name replaced.example.net'), 'not confirmed: reverted');
      },
    );
  });

  it('a dropped connection during a revert timer: a new session sees it pending, then the revert', async () => {
    await withSim(iosProfile({ startPrivileged: true, confirmMinuteMs: 2_000 }), async (sim) => {
      const before = sim.config();
      const first = await RawShell.open(sim);
      await first.expect(/lab-rtr1#$/);
      await first.run('configure terminal revert timer 1', IC());
      await first.run('ip domain name dropped.example.net', IC());
      first.close();
      await first.closed;
      const second = await RawShell.open(sim);
      try {
        await second.expect(/lab-rtr1#$/);
        assert.match(await second.run('show archive config rollback timer', I), /Timer value: 1 min/);
        await until('the revert', () => sim.configState()?.pending === null, 6_000);
        assert.deepEqual(sim.config(), before);
      } finally {
        second.close();
      }
    });
  });

  it('without archive: show archive, revert timer and configure replace ... time fail as on such a device', async () => {
    await withShell(iosProfile({ startPrivileged: true, archive: false }), /lab-rtr1#$/, async (sh) => {
      assert.equal(body(await sh.run('show archive', I)), ' Archive feature not enabled');
      assert.equal(
        body(await sh.run('configure terminal revert timer 5', I)),
        '%Please turn config archive on before using Rollback Confirmed Change',
      );
      assert.equal(
        body(await sh.run('configure replace nvram:startup-config force time 5', I)),
        '%Please turn config archive on before using Rollback Confirmed Change',
      );
      assert.equal(body(await sh.run('configure confirm', I)), '%No Rollback Confirmed Change pending');
      assert.match(await sh.run('configure replace nvram:startup-config force', I), /Rollback Done/);
    });
  });
});
