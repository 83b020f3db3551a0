// The configuration engine (src/session/config-change.ts) against scripted fake devices that speak the
// shipped dialects' words: what is sent, in what order, and what is left on the device. The device
// simulators (test/integration/config-changes.test.ts) cover the same through SSH.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dialect } from '../../src/dialect/dialect.js';
import { DialectRegistry } from '../../src/dialect/loader.js';
import { ExpectRunner, type ShellChannel } from '../../src/expect/runner.js';
import {
  ConfigChange,
  ConfigChangeError,
  ConfigConnectionLostError,
  configSessionOf,
  maskConfigSecrets,
} from '../../src/session/config-change.js';

const registry = new DialectRegistry();

/** A reply: output lines, and whether the device is now in configuration mode. */
type Handler = (command: string, state: FakeState) => string | undefined;
interface FakeState {
  config: boolean;
  candidate: string[];
  running: string[];
  pending: boolean;
  /** Answer to an open question, if one is asked. */
  question?: (answer: string) => string;
}

/** A Junos-shaped device: operational `lab@r1> `, configuration `[edit]` + `lab@r1# `. */
function junosDevice(extra: Handler = () => undefined): Handler {
  return (command, s) => {
    const own = extra(command, s);
    if (own !== undefined) return own;
    if (command.startsWith('set cli')) return '';
    if (command === 'show system commit' || command === 'run show system commit')
      return `0   2026-12-04 19:00:00 UTC by lab via cli${s.pending ? ' commit confirmed, rollback in 5mins' : ''}\n`;
    if (command === 'configure exclusive' || command === 'configure') {
      s.config = true;
      return 'warning: uncommitted changes will be discarded on exit\nEntering configuration mode\n';
    }
    if (!s.config) return `unknown command.\n`;
    if (command === 'quiet-leave') {
      s.config = false;
      return '';
    }
    if (command.startsWith('set ') || command.startsWith('delete ')) {
      if (command.includes('bogus')) return '                  ^\nsyntax error.\n';
      s.candidate.push(command);
      return '';
    }
    if (command === 'show | compare') return s.candidate.map((l) => `+ ${l.slice(4)};`).join('\n');
    if (command === 'commit check') return 'configuration check succeeds\n';
    if (command.startsWith('commit')) {
      s.running.push(...s.candidate);
      s.candidate = [];
      s.pending = command.startsWith('commit confirmed');
      return 'commit complete\n';
    }
    if (command === 'rollback 0') {
      s.candidate = [];
      return 'load complete\n';
    }
    if (command === 'exit configuration-mode') {
      const leave = () => {
        s.config = false;
        s.candidate = [];
        return 'Exiting configuration mode\n';
      };
      if (s.candidate.length === 0) return leave();
      s.question = leave;
      return '\u0000ask';
    }
    return 'unknown command.\n';
  };
}

/** A fake channel that answers like a device, and keeps every line written to it. */
async function open(dialectName: string, handler: Handler, host = 'lab@r1') {
  const dialect: Dialect = await registry.get(dialectName);
  const state: FakeState = { config: false, candidate: [], running: [], pending: false };
  const sent: string[] = [];
  let runner: ExpectRunner | undefined;
  let dead = false;
  const prompt = () => (state.config ? `\r\n[edit]\r\n${host}# ` : `\r\n${host}> `);
  const reply = (text: string) => setImmediate(() => runner?.feed(Buffer.from(text)));
  const channel: ShellChannel = {
    write(data) {
      if (dead) return;
      const line = data.replace(/\n$/, '');
      if (state.question) {
        const answer = state.question;
        state.question = undefined;
        reply(`${line}\r\n${answer(line).replaceAll('\n', '\r\n')}${prompt()}`);
        return;
      }
      sent.push(line);
      const out = handler(line, state) ?? '';
      if (out === '\u0000ask') {
        reply(`${line}\r\nDiscard uncommitted changes? [yes,no] (yes) `);
        return;
      }
      if (out === '\u0000drop') {
        dead = true;
        setImmediate(() => runner?.closedByPeer(null, 'the connection was closed'));
        return;
      }
      reply(`${line}\r\n${out.replaceAll('\n', '\r\n')}${prompt()}`);
    },
    execSide: async () => null,
    close() {},
  };
  runner = new ExpectRunner(channel, dialect);
  const opened = runner.open(2000);
  runner.feed(Buffer.from(`--- JUNOS 23.2R1\r\n${host}> `));
  await opened;
  sent.length = 0;
  const change = (lastCheckpoint?: string) =>
    new ConfigChange(runner as ExpectRunner, {
      run: {},
      stepTimeoutMs: 2000,
      sessionName: 'mcp-test-1',
      ...(lastCheckpoint !== undefined && { lastCheckpoint }),
    });
  return { runner, state, sent, change, close: () => runner?.close() };
}

describe('ConfigChange on a Junos-shaped device', () => {
  it('loads, shows the diff, checks and commits, and returns to operational mode', async () => {
    const d = await open('junos', junosDevice());
    try {
      const r = await d.change().configure({
        lines: ['set system host-name r1', 'set interfaces ge-0/0/0 description uplink'],
        comment: 'ticket "42"',
      });
      assert.equal(r.outcome, 'committed');
      assert.match(r.diff, /\+ system host-name r1;/);
      assert.deepEqual(r.committed, [
        'set system host-name r1',
        'set interfaces ge-0/0/0 description uplink',
      ]);
      assert.equal(r.commitId, '2026-12-04 19:00:00 UTC');
      assert.deepEqual(d.sent, [
        'show system commit',
        'configure exclusive',
        'set system host-name r1',
        'set interfaces ge-0/0/0 description uplink',
        'show | compare',
        'commit check',
        'commit comment "ticket \\"42\\""',
        'run show system commit',
        'exit configuration-mode',
      ]);
      assert.equal(d.runner.mode, 'operational');
      assert.equal(d.state.running.length, 2);
    } finally {
      d.close();
    }
  });

  it('stops at the first rejected line: nothing after it is sent, the candidate is discarded', async () => {
    const d = await open('junos', junosDevice());
    try {
      const r = await d.change().configure({
        lines: ['set system host-name r1', 'set bogus thing', 'set system location here'],
        confirmMinutes: 5,
      });
      assert.equal(r.outcome, 'rejected');
      assert.deepEqual(r.rejected, { index: 2, line: 'set bogus thing', error: 'syntax error.' });
      assert.equal(r.confirmMinutes, undefined);
      assert.ok(!d.sent.includes('set system location here'), 'nothing after the rejected line');
      assert.ok(!d.sent.some((c) => c.startsWith('commit')), 'no commit');
      assert.ok(d.sent.includes('rollback 0'), 'the candidate is discarded');
      assert.equal(d.runner.mode, 'operational');
      assert.deepEqual(d.state.running, []);
    } finally {
      d.close();
    }
  });

  it('a line that asks a question is stopped there, not answered', async () => {
    const d = await open(
      'junos',
      junosDevice((c, s) => {
        if (c !== 'delete') return undefined;
        s.question = () => '';
        return '\u0000ask';
      }),
    );
    try {
      const r = await d.change().configure({ lines: ['set system location lab', 'delete', 'set system x'] });
      assert.equal(r.outcome, 'rejected');
      assert.match(
        r.rejected?.error ?? '',
        /the device asked "Discard uncommitted changes\? \[yes,no\] \(yes\)"/,
      );
      assert.ok(!d.sent.includes('set system x'));
    } finally {
      d.close();
    }
  });

  it('dry run: shows the diff and discards; commit confirmed: sends the minutes', async () => {
    const d = await open('junos', junosDevice());
    try {
      const dry = await d.change().configure({ lines: ['set system location lab'], dryRun: true });
      assert.equal(dry.outcome, 'dry_run');
      assert.match(dry.diff, /location lab/);
      assert.deepEqual(d.state.running, []);
      const r = await d.change().configure({ lines: ['set system location lab'], confirmMinutes: 5 });
      assert.equal(r.outcome, 'pending_confirm');
      assert.equal(r.confirmMinutes, 5);
      assert.ok(d.sent.includes('commit confirmed 5'));
      // A second change would confirm the first by the way: refused until it is settled.
      await assert.rejects(
        d.change().configure({ lines: ['set system location two'], confirmMinutes: 5 }),
        /commit confirmed is waiting for confirmation.*minutes_left 5/,
      );
      const state = await d.change().state();
      assert.equal(state.pendingConfirm, true);
      await d.change().confirm();
      assert.equal(d.state.pending, false);
      assert.equal(d.runner.mode, 'operational');
    } finally {
      d.close();
    }
  });

  it('no change: an empty diff commits nothing', async () => {
    const d = await open(
      'junos',
      junosDevice((c) => (c === 'show | compare' ? '' : undefined)),
    );
    try {
      const r = await d.change().configure({ lines: ['set system location lab'] });
      assert.equal(r.outcome, 'no_change');
      assert.ok(!d.sent.some((c) => /^commit(?! check)/.test(c)));
    } finally {
      d.close();
    }
  });

  it('a user who declines gets the change discarded', async () => {
    const d = await open('junos', junosDevice());
    try {
      let shown = '';
      const r = await d.change().configure({
        lines: ['set system location lab'],
        approve: async (diff) => {
          shown = diff;
          return { approved: false, why: 'declined' };
        },
      });
      assert.equal(r.outcome, 'declined');
      assert.match(shown, /location lab/);
      assert.ok(d.sent.includes('rollback 0'));
      assert.deepEqual(d.state.running, []);
    } finally {
      d.close();
    }
  });

  it('a line that leaves configuration mode stops the change', async () => {
    const d = await open('junos', junosDevice());
    try {
      // `exit` is refused before anything is sent; `edit`... `up 5` past the top leaves, and is caught.
      await assert.rejects(
        d.change().configure({ lines: ['set system location lab', 'exit configuration-mode'] }),
        /lines\[1\].*would commit, discard or leave/,
      );
      assert.deepEqual(d.sent, []);
      const r = await d.change().configure({ lines: ['set system location lab', 'quiet-leave'] });
      assert.equal(r.outcome, 'rejected');
      assert.equal(r.rejected?.index, 2);
      assert.match(r.rejected?.error ?? '', /left the configuration session/);
      assert.equal(d.runner.mode, 'operational');
      assert.deepEqual(d.state.running, []);
    } finally {
      d.close();
    }
  });

  it('a dropped connection during commit confirmed says the device rolls it back by itself', async () => {
    const d = await open(
      'junos',
      junosDevice((c) => (c.startsWith('commit confirmed') ? '\u0000drop' : undefined)),
    );
    try {
      await assert.rejects(
        d.change().configure({ lines: ['set system location lab'], confirmMinutes: 3 }),
        (error: Error) =>
          error instanceof ConfigConnectionLostError &&
          /rolls the change back by itself after 3 min/.test(error.message),
      );
    } finally {
      d.close();
    }
  });

  it('rollback uses the dialect default (1) when no checkpoint is known', async () => {
    const d = await open(
      'junos',
      junosDevice((c, s) => {
        if (c !== 'rollback 1') return undefined;
        s.candidate = ['set x'];
        return 'load complete\n';
      }),
    );
    try {
      const r = await d.change().rollback();
      assert.equal(r.checkpoint, '1');
      assert.deepEqual(d.sent.slice(-5), [
        'configure exclusive',
        'rollback 1',
        'show | compare',
        'commit',
        'exit configuration-mode',
      ]);
    } finally {
      d.close();
    }
  });
});

describe('ConfigChange refuses what it cannot do safely', () => {
  it('a dialect without config_session: this host has no configuration sessions', async () => {
    const linux = await registry.get('linux');
    assert.throws(() => configSessionOf(linux), /linux dialect, which has no configuration sessions/);
  });

  it('line breaks, empty lines, bad minutes, dry run with confirm', async () => {
    const d = await open('junos', junosDevice());
    try {
      const bad = [
        { lines: ['set a\nset b'] },
        { lines: [] },
        { lines: ['  '] },
        { lines: ['set a'], confirmMinutes: 0 },
        { lines: ['set a'], dryRun: true, confirmMinutes: 2 },
        { lines: ['set a'], comment: 'x\rcommit' },
      ];
      for (const request of bad) {
        await assert.rejects(d.change().configure(request), ConfigChangeError, JSON.stringify(request));
      }
      assert.deepEqual(d.sent, [], 'nothing was sent');
      await assert.rejects(d.change().rollback('1; commit'), /checkpoint must be one word/);
    } finally {
      d.close();
    }
  });

  it('IOS without the archive: refused, naming what to set up and line_by_line', async () => {
    const ios = await registry.get('cisco-ios');
    const section = configSessionOf(ios);
    assert.equal(section.candidate, false);
    assert.ok(
      section.requires[0]?.missing.some((p) => p.test('The next archive file will be named Not Configured')),
    );
    assert.ok(section.lineByLine, 'line_by_line is declared');
  });

  it('masks what the dialect marks as secrets', async () => {
    const junos = configSessionOf(await registry.get('junos'));
    assert.equal(
      maskConfigSecrets('+ encrypted-password "$6$abc"; ## SECRET-DATA', junos),
      '+ encrypted-password "***"; ## SECRET-DATA',
    );
    const ios = configSessionOf(await registry.get('cisco-ios'));
    assert.equal(
      maskConfigSecrets('username admin privilege 15 secret 0 hunter2', ios),
      'username admin privilege 15 secret 0 ***',
    );
    const eos = configSessionOf(await registry.get('arista-eos'));
    assert.equal(
      maskConfigSecrets('username ops secret sha512 $6$xyz', eos),
      'username ops secret sha512 ***',
    );
  });
});
