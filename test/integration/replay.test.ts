// The replay server over real SSH: a plain ssh2 client with a pty and a shell, as an agent's session would
// open one. Every server is closed, every wait bounded; failures show the unread output.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import ssh2 from 'ssh2';
import { parseReplaySource } from '../../src/transcript/load.js';
import { type ReplayMiss, type ReplayServer, startReplay } from '../../src/transcript/replay.js';
import type { DeviceSimulator } from '../simulators/device-sim.js';
import { login, RawShell, WAIT_MS } from '../support/raw-shell.js';

/** A router session as recorded: banner, a command with a 0.3 s pause, enable with a secret, a paged
 *  answer continued with space, an unknown command, exit. */
const ROUTER = `transcript: 1
device: "hand-written test router"
channel: {type: shell, pty: {term: vt100, cols: 80, rows: 24}}
events:
  - {t: 0.01, out: "\\r\\n*** lab router: authorized access only ***\\r\\n\\r\\nlab1>"}
  - {t: 1.0, command: "show clock"}
  - {t: 1.0, in: "show clock\\r"}
  - {t: 1.0, out: "show clock\\r\\n"}
  - {t: 1.3, out: "*10:00:01.000 UTC Fri Dec 4 2026\\r\\nlab1>"}
  - {t: 1.3, result: {status: ok, exit: 0}}
  - {t: 2.0, command: "enable"}
  - {t: 2.0, in: "enable\\r"}
  - {t: 2.01, out: "enable\\r\\nPassword: "}
  - {t: 2.2, in: "{{secret:enable}}\\r"}
  - {t: 2.21, out: "\\r\\nlab1#"}
  - {t: 2.21, result: {status: ok, mode: privileged}}
  - {t: 3.0, command: "show logging"}
  - {t: 3.0, in: "show logging\\r"}
  - {t: 3.01, out: "show logging\\r\\nlog line 1\\r\\nlog line 2\\r\\n --More-- "}
  - {t: 3.5, in: " "}
  - {t: 3.51, out: "\\b\\b\\b\\b\\b\\b\\b\\b\\b\\b          \\b\\b\\b\\b\\b\\b\\b\\b\\b\\blog line 3\\r\\nlab1#"}
  - {t: 3.51, result: {status: ok}}
  - {t: 4.0, command: "shiw clock", unknown: true}
  - {t: 4.0, in: "shiw clock\\r"}
  - {t: 4.01, out: "shiw clock\\r\\n  ^\\r\\n% Invalid input detected at '^' marker.\\r\\n\\r\\nlab1#"}
  - {t: 4.01, result: {status: ok}}
  - {t: 5.0, in: "exit\\r"}
  - {t: 5.01, out: "exit\\r\\n"}
  - {t: 5.01, close: {exit: 0}}
`;

/** A collector file, shaped like the ones scrapli_replay writes, with different answers before and after
 *  the session set-up inputs. */
const COLLECTOR = `events:
  exec:
    pre_on_open:
      terminal length 0:
        channel_output: sw1>
        result_privilege_level: exec
        returns_prompt: true
        closes_connection: false
        type: standard
      show version:
        channel_output: "Software version 4.2\\n --More-- "
        result_privilege_level: exec
        returns_prompt: false
        closes_connection: false
        type: standard
    post_on_open:
      terminal length 0:
        channel_output: sw1>
        result_privilege_level: exec
        returns_prompt: true
        closes_connection: false
        type: standard
      show version:
        channel_output: "Software version 4.2\\nUptime 3 weeks\\n\\nsw1>"
        result_privilege_level: exec
        returns_prompt: true
        closes_connection: false
        type: standard
      enable:
        result_privilege_level: privilege_exec
        event_steps:
          - channel_input: enable
            channel_output: "Password: "
            hidden_input: false
            returns_prompt: true
          - channel_input: __AUTH_SECONDARY__
            channel_output: sw1#
            hidden_input: true
            returns_prompt: true
        type: interactive
  privilege_exec:
    post_on_open:
      exit:
        channel_output: __CLOSES_CONNECTION__
        result_privilege_level: privilege_exec
        returns_prompt: false
        closes_connection: true
        type: standard
unknown_events:
  exec:
    post_on_open:
      channel_output: "% Invalid input\\nsw1>"
      result_privilege_level: exec
      returns_prompt: true
      closes_connection: false
  privilege_exec:
    post_on_open:
      channel_output: "% Invalid input\\nsw1#"
      result_privilege_level: privilege_exec
      returns_prompt: true
      closes_connection: false
initial_privilege_level: exec
privilege_level_prompts:
  exec: sw1>
  privilege_exec: sw1#
on_open_inputs:
  - terminal length 0
`;

/** RawShell logs into "simulators"; a replay server is one with any user and password. */
function target(server: ReplayServer, username = 'netops', password = 'anything'): DeviceSimulator {
  assert.equal(server.host, '127.0.0.1');
  return {
    host: '127.0.0.1',
    port: server.port,
    username,
    password,
    hostKeyFingerprint: server.hostKeyFingerprint,
    close: () => server.close(),
    transcript: () => '',
    output: () => '',
    config: () => [],
    configState: () => undefined,
  };
}

async function withReplay(
  source: string,
  options: Parameters<typeof startReplay>[1],
  body: (server: ReplayServer, misses: ReplayMiss[]) => Promise<void>,
): Promise<void> {
  const misses: ReplayMiss[] = [];
  const server = await startReplay(parseReplaySource(source, 'router.yaml'), {
    ...options,
    onMiss: (m) => misses.push(m),
  });
  try {
    await body(server, misses);
  } finally {
    await server.close();
  }
}

describe('replay server over SSH', { timeout: 60_000 }, () => {
  let server: ReplayServer;
  let misses: ReplayMiss[];
  before(async () => {
    misses = [];
    server = await startReplay(parseReplaySource(ROUTER, 'router.yaml'), {
      speed: 0,
      onMiss: (m) => misses.push(m),
    });
  });
  after(async () => {
    await server?.close();
  });

  it('greets with the recorded banner and prompt, under the host key it reports', async () => {
    const { client, hostKey } = await login(target(server), { password: 'whatever' });
    client.end();
    const fingerprint = `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
    assert.equal(fingerprint, server.hostKeyFingerprint);
    const sh = await RawShell.open(target(server));
    try {
      assert.equal(await sh.expect(/lab1>$/), '\r\n*** lab router: authorized access only ***\r\n\r\nlab1>');
    } finally {
      sh.close();
    }
  });

  it('answers a recorded command byte-exactly, a paged answer continued with space, a secret with any text', async () => {
    const sh = await RawShell.open(target(server));
    try {
      await sh.expect(/lab1>$/);
      assert.equal(
        await sh.run('show clock', /lab1>$/),
        'show clock\r\n*10:00:01.000 UTC Fri Dec 4 2026\r\nlab1>',
      );
      assert.equal(await sh.run('enable', /Password: $/), 'enable\r\nPassword: ');
      assert.equal(await sh.run('not-the-recorded-secret', /lab1#$/), '\r\nlab1#');
      assert.equal(
        await sh.run('show logging', / --More-- $/),
        'show logging\r\nlog line 1\r\nlog line 2\r\n --More-- ',
      );
      sh.send(' ');
      assert.equal(
        await sh.expect(/lab1#$/),
        '\b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\blog line 3\r\nlab1#',
      );
      sh.send('exit\r');
      await Promise.race([
        sh.closed,
        delay(WAIT_MS).then(() => assert.fail('channel not closed after exit')),
      ]);
    } finally {
      sh.close();
    }
  });

  it("answers an unknown command with the recorded unknown-command answer, echoing the client's input", async () => {
    const sh = await RawShell.open(target(server));
    try {
      await sh.expect(/lab1>$/);
      await sh.run('enable', /Password: $/);
      await sh.run('x', /lab1#$/);
      const before = misses.length;
      assert.equal(
        await sh.run('show bogus thing', /lab1#$/),
        "show bogus thing\r\n  ^\r\n% Invalid input detected at '^' marker.\r\n\r\nlab1#",
      );
      assert.deepEqual(misses.slice(before), [
        {
          connection: misses[before]?.connection,
          state: 'lab1#',
          input: 'show bogus thing',
          answer: 'unknown-command',
          where: 'router.yaml:24',
        },
      ]);
    } finally {
      sh.close();
    }
  });

  it('answers input with no recorded answer with a replay error line, then the prompt', async () => {
    const sh = await RawShell.open(target(server));
    try {
      await sh.expect(/lab1>$/);
      assert.equal(
        await sh.run('show inventory', /lab1>$/),
        'show inventory\r\n% replay: no recorded answer for "show inventory" at "lab1>" (transcript router.yaml:7 has "show clock" next)\r\nlab1>',
      );
      assert.equal(misses.at(-1)?.answer, 'replay-error');
      // Enter alone repaints the prompt, as a device does.
      assert.equal(await sh.run('', /lab1>$/), '\r\nlab1>');
    } finally {
      sh.close();
    }
  });

  it('serves two clients at once: one sending garbage and vanishing does not disturb the other', async () => {
    const good = await RawShell.open(target(server));
    const bad = await RawShell.open(target(server));
    try {
      await good.expect(/lab1>$/);
      await bad.expect(/lab1>$/);
      bad.send('\x00\xff\x1b[999;999R\x1b]0;x\x07garbage\r\x03\x04');
      bad.send(Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0x0d]).toString('latin1'));
      assert.equal(
        await good.run('show clock', /lab1>$/),
        'show clock\r\n*10:00:01.000 UTC Fri Dec 4 2026\r\nlab1>',
      );
      bad.close();
      await Promise.race([bad.closed, delay(WAIT_MS).then(() => assert.fail('bad client not closed'))]);
      assert.equal(await good.run('enable', /Password: $/), 'enable\r\nPassword: ');
      assert.equal(await good.run('s3cret', /lab1#$/), '\r\nlab1#');
      assert.match(bad.all, /% replay: no recorded answer for "garbage" at "lab1>"/);
    } finally {
      good.close();
      bad.close();
    }
  });

  it('close() drops connected clients and returns promptly', async () => {
    await withReplay(ROUTER, { speed: 0 }, async (own) => {
      const sh = await RawShell.open(target(own));
      await sh.expect(/lab1>$/);
      const started = Date.now();
      await own.close();
      assert.ok(Date.now() - started < 2000, 'close took too long');
      await Promise.race([sh.closed, delay(WAIT_MS).then(() => assert.fail('client not disconnected'))]);
    });
  });
});

describe('replay pace', { timeout: 60_000 }, () => {
  // "show clock" was answered in two pieces 0.3 s apart.
  for (const speed of [1, 0]) {
    it(`speed ${speed} ${speed ? 'keeps' : 'drops'} the recorded 0.3 s pause`, async () => {
      await withReplay(ROUTER, { speed }, async (server) => {
        const sh = await RawShell.open(target(server));
        try {
          await sh.expect(/lab1>$/);
          const started = performance.now();
          await sh.run('show clock', /lab1>$/);
          const elapsed = performance.now() - started;
          if (speed === 1) assert.ok(elapsed >= 250, `answered in ${elapsed.toFixed(0)} ms`);
          else assert.ok(elapsed < 250, `answered in ${elapsed.toFixed(0)} ms`);
        } finally {
          sh.close();
        }
      });
    });
  }
});

describe('replay access', { timeout: 60_000 }, () => {
  it('with a user and password set, only they get in', async () => {
    await withReplay(ROUTER, { speed: 0, username: 'netops', password: 'lab-pass' }, async (server) => {
      await assert.rejects(
        login(target(server, 'netops', 'nope'), { password: 'nope' }),
        /authentication methods failed/,
      );
      await assert.rejects(
        login(target(server, 'root', 'lab-pass'), { password: 'lab-pass' }),
        /authentication methods failed/,
      );
      const sh = await RawShell.open(target(server, 'netops', 'lab-pass'));
      try {
        await sh.expect(/lab1>$/);
      } finally {
        sh.close();
      }
    });
  });
});

describe('replay host key', { timeout: 60_000 }, () => {
  it('serves under a host key read from a file, and names a file that is not a key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'replay-key-'));
    try {
      const keyFile = path.join(dir, 'host_key');
      writeFileSync(keyFile, ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }).private, { mode: 0o600 });
      const first = await startReplay(parseReplaySource(ROUTER, 'router.yaml'), {
        speed: 0,
        hostKeyFile: keyFile,
      });
      const again = await startReplay(parseReplaySource(ROUTER, 'router.yaml'), {
        speed: 0,
        hostKeyFile: keyFile,
      });
      try {
        assert.equal(first.hostKeyFingerprint, again.hostKeyFingerprint);
        const { client, hostKey } = await login(target(again), { password: 'x' });
        client.end();
        const seen = `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
        assert.equal(seen, first.hostKeyFingerprint);
      } finally {
        await first.close();
        await again.close();
      }
      const notKey = path.join(dir, 'not_a_key');
      writeFileSync(notKey, 'hello\n');
      await assert.rejects(
        startReplay(parseReplaySource(ROUTER, 'router.yaml'), { hostKeyFile: notKey }),
        (e: Error) => e.message.startsWith(`host key ${notKey}: not an unencrypted private key`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('replaying a collector file', { timeout: 60_000 }, () => {
  it('answers from before the set-up inputs until they are sent, then from after', async () => {
    const misses: ReplayMiss[] = [];
    const server = await startReplay(parseReplaySource(COLLECTOR, 'sw1.yaml'), {
      speed: 0,
      onMiss: (m) => misses.push(m),
    });
    try {
      const sh = await RawShell.open(target(server));
      try {
        assert.equal(await sh.expect(/sw1>$/), 'sw1>');
        // Before set-up the device pages.
        assert.equal(
          await sh.run('show version', / --More-- $/),
          'show version\r\nSoftware version 4.2\r\n --More-- ',
        );
        sh.send('q');
        assert.equal(await sh.expect(/sw1>$/), 'q\r\n% Invalid input\r\nsw1>');
        assert.equal(await sh.run('terminal length 0', /sw1>$/), 'terminal length 0\r\nsw1>');
        assert.equal(
          await sh.run('show version', /sw1>$/),
          'show version\r\nSoftware version 4.2\r\nUptime 3 weeks\r\n\r\nsw1>',
        );
        assert.equal(await sh.run('show vlan', /sw1>$/), 'show vlan\r\n% Invalid input\r\nsw1>');
        assert.equal(await sh.run('', /sw1>$/), '\r\nsw1>');
        assert.equal(await sh.run('enable', /Password: $/), 'enable\r\nPassword: ');
        assert.equal(await sh.run('any password', /sw1#$/), '\r\nsw1#');
        sh.send('exit\r');
        await Promise.race([
          sh.closed,
          delay(WAIT_MS).then(() => assert.fail('exit did not close the channel')),
        ]);
      } finally {
        sh.close();
      }
      // A second session starts over, before set-up.
      const again = await RawShell.open(target(server));
      try {
        await again.expect(/sw1>$/);
        await again.run('show version', / --More-- $/);
      } finally {
        again.close();
      }
      assert.deepEqual(
        misses.map((m) => [m.state, m.input, m.answer]),
        [
          ['--More--', 'q', 'unknown-command'],
          ['sw1>', 'show vlan', 'unknown-command'],
        ],
      );
    } finally {
      await server.close();
    }
  });
});

describe('replay command', { timeout: 60_000 }, () => {
  const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
  let dir: string;
  before(() => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`);
    dir = mkdtempSync(path.join(tmpdir(), 'replay-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Spawns the CLI; resolves its first stdout line. */
  function spawnReplay(args: string[]): {
    child: ChildProcess;
    firstLine: Promise<string>;
    stderr: () => string;
  } {
    const child = spawn(process.execPath, [CLI, 'replay', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const firstLine = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output in time; stderr: ${err}`)), 10_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl !== -1) {
          clearTimeout(timer);
          resolve(out.slice(0, nl));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code} before printing; stderr: ${err}`));
      });
    });
    firstLine.catch(() => undefined); // a run that is meant to fail never prints; its test reads the exit
    return { child, firstLine, stderr: () => err };
  }

  function exited(child: ChildProcess, ms = 5000): Promise<number | null> {
    if (child.exitCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('did not exit in time'));
      }, ms);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  it('prints where it listens, serves the recording, reports misses on stderr and exits on SIGTERM', async () => {
    const file = path.join(dir, 'router.yaml');
    writeFileSync(file, ROUTER);
    const { child, firstLine, stderr } = spawnReplay([file, '--fast']);
    try {
      const line = await firstLine;
      const m =
        /^replaying (.+) on 127\.0\.0\.1:(\d+) \(host key (SHA256:[A-Za-z0-9+/]{43})\); any user and password$/.exec(
          line,
        );
      assert.ok(m, line);
      assert.equal(m[1], file);
      const fake = {
        port: Number(m[2]),
        hostKeyFingerprint: m[3] as string,
        host: '127.0.0.1',
        close: async () => {},
      };
      const sh = await RawShell.open(target(fake as unknown as ReplayServer));
      try {
        await sh.expect(/lab1>$/);
        assert.equal(
          await sh.run('show clock', /lab1>$/),
          'show clock\r\n*10:00:01.000 UTC Fri Dec 4 2026\r\nlab1>',
        );
        await sh.run('show inventory', /lab1>$/);
      } finally {
        sh.close();
      }
      child.kill('SIGTERM');
      assert.equal(await exited(child), 0);
      assert.match(
        stderr(),
        /replay: connection 1: no recorded answer for "show inventory" at "lab1>"; answered with a replay error/,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('names file:line and exits 1 for a broken file; exits 2 for bad arguments', async () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, ROUTER.replace('{t: 2.0, in: "enable\\r"}', '{t: 2.0, in: 42}'));
    const bad = spawnReplay([broken]);
    assert.equal(await exited(bad.child), 1);
    assert.match(bad.stderr(), new RegExp(`${broken}:12:\\d+: events\\.7`));
    const usage = spawnReplay([broken, '--speed', 'fast']);
    assert.equal(await exited(usage.child), 2);
    assert.match(usage.stderr(), /--speed must be a number/);
  });
});
