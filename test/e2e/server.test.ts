import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { startServer, textOf } from '../support/mcp-client.js';

type Structured = Record<string, unknown>;

describe('mcp-ssh-session over stdio against a real sshd', () => {
  let sshd: SshdHarness;
  let server: Awaited<ReturnType<typeof startServer>>;
  let sessionId: string;

  const run = async (command: string, extra: Record<string, unknown> = {}) => {
    const result = await server.call('execute_command', { host: 'testhost', command, ...extra });
    assert.equal(result.isError, undefined, textOf(result));
    return result.structuredContent as Structured;
  };

  before(async () => {
    sshd = await startSshd();
    server = await startServer(sshd.clientHome, { args: ['--tools', 'all'] });
    sessionId = `${sshd.user}@127.0.0.1:${sshd.port}`;
  });
  after(async () => {
    await server?.close();
    await sshd?.stop();
  });

  it('lists the seed tools with schemas and annotations', async () => {
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name).sort();
    for (const name of [
      'close_all_sessions',
      'close_session',
      'execute_command',
      'get_active_commands',
      'interrupt_command',
      'list_sessions',
    ]) {
      assert.ok(names.includes(name), name);
    }
    for (const tool of tools) {
      assert.ok(tool.outputSchema, `${tool.name} has an outputSchema`);
      assert.ok(tool.annotations, `${tool.name} has annotations`);
      assert.ok(tool.description, `${tool.name} has a description`);
    }
  });

  it('runs a command through an ssh-config alias and returns exactly its output', async () => {
    const r = await run('echo hi');
    assert.equal(r.output, 'hi\n');
    assert.equal(r.exitCode, 0);
    assert.equal(r.session, sessionId);
    // Flags that are false are left out of the result (the schema marks them optional).
    assert.ok(!r.timedOut);
    assert.ok(!r.truncated);
    assert.ok(!r.sessionReset);
    assert.equal(typeof r.durationMs, 'number');
    // accept-new: the host key is now recorded under [127.0.0.1]:port
    const knownHosts = readFileSync(path.join(sshd.clientHome, '.ssh', 'known_hosts'), 'utf8');
    assert.match(knownHosts, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `, 'm'));
  });

  it('keeps shell state and reports real exit statuses', async () => {
    await run('cd /tmp && export E2E_VAR=kept');
    const r = await run('pwd; echo $E2E_VAR; (exit 3)');
    assert.equal(r.output, '/tmp\nkept\n');
    assert.equal(r.exitCode, 3);
  });

  it('puts the output in the text block too', async () => {
    const result = await server.call('execute_command', { host: 'testhost', command: 'echo visible' });
    assert.match(textOf(result), /^visible\n\[completed; exit status 0; [\d.]+ ms; /);
  });

  it('lists the session', async () => {
    const result = await server.call('list_sessions');
    const { sessions } = result.structuredContent as { sessions: { id: string }[] };
    assert.deepEqual(
      sessions.map((s) => s.id),
      [sessionId],
    );
  });

  it('runs calls on one session in order, never interleaved', async () => {
    const log = '~/order.log'; // in the test user's home, which the harness removes
    await run(`rm -f ${log}`);
    const first = run(`echo start1 >> ${log}; sleep 0.3; echo end1 >> ${log}`);
    const second = run(`echo start2 >> ${log}`);
    await Promise.all([first, second]);
    assert.equal((await run(`cat ${log}`)).output, 'start1\nend1\nstart2\n');
  });

  it('runs different sessions in parallel', async () => {
    // 127.0.0.1 and localhost are two sessions (user@host:port differ) on the same sshd.
    const other = { host: 'localhost', port: sshd.port, username: sshd.user, key_filename: sshd.userKeyPath };
    const first = run('sleep 1; echo one');
    const second = server.call('execute_command', { ...other, command: 'sleep 1; echo two' });
    let seen = 0;
    for (let i = 0; i < 100 && seen < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = ((await server.call('get_active_commands')).structuredContent as { commands: unknown[] })
        .commands.length;
    }
    assert.equal(seen, 2, 'both commands were running at the same time');
    assert.equal((await first).output, 'one\n');
    assert.equal(((await second).structuredContent as Structured).output, 'two\n');
    await server.call('close_session', other);
  });

  it('interrupts a running command: it returns at once with 130 and the shell stays usable', async () => {
    const running = run('echo before; sleep 600');
    let active: { commandId: string; session: string; command: string }[] = [];
    for (let i = 0; i < 50 && active.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      active = ((await server.call('get_active_commands')).structuredContent as { commands: typeof active })
        .commands;
    }
    assert.equal(active.length, 1);
    assert.equal(active[0]?.session, sessionId);
    assert.equal(active[0]?.command, 'echo before; sleep 600');
    const interrupt = await server.call('interrupt_command', { host: 'testhost' });
    assert.equal((interrupt.structuredContent as Structured).interrupted, true);
    const r = await running;
    assert.equal(r.exitCode, 130);
    assert.equal(r.interrupted, true);
    assert.equal(r.output, 'before\n');
    assert.equal((await run('echo $E2E_VAR')).output, 'kept\n');
  });

  it('keeps a command that outlives its timeout running, then gives its real exit status', async () => {
    const r = await run('echo started; sleep 1.5; echo done; (exit 7)', { timeout: 0.4 });
    assert.equal(r.status, 'running');
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.equal(r.output, 'started\n');
    const id = String(r.commandId);
    const busy = await server.call('execute_command', { host: 'testhost', command: 'echo too-soon' });
    assert.equal(busy.isError, true);
    assert.match(textOf(busy), new RegExp(`still running ${id} `));
    let status: Structured = {};
    for (let i = 0; i < 100 && status.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await server.call('get_command_status', { command_id: id })).structuredContent as Structured;
    }
    assert.equal(status.status, 'completed');
    assert.equal(status.exitCode, 7);
    assert.equal(status.output, 'started\ndone\n');
    assert.equal(status.complete, true);
    assert.equal((await run('echo ok')).output, 'ok\n');
  });

  it('keeps a result that was read readable while newer commands run; the history keeps its exit status', async () => {
    const first = await run('echo old; (exit 4)');
    for (let i = 0; i < 11; i++) await run(`echo ${i}`);
    const status = await server.call('get_command_status', { command_id: first.commandId });
    assert.equal((status.structuredContent as Structured).output, 'old\n');
    const history = (await server.call('list_command_history', { limit: 12 })).structuredContent as {
      commands: Structured[];
    };
    const listed = history.commands.find((c) => c.commandId === first.commandId);
    assert.equal(listed?.exitCode, 4);
    const recent = await server.call('get_command_status', { command_id: history.commands[0]?.commandId });
    assert.equal((recent.structuredContent as Structured).output, '10\n');
  });

  it('cuts a large output to head and tail with exact counts', async () => {
    const r = await run("head -c 5000000 /dev/zero | tr '\\0' a");
    assert.equal(r.truncated, true);
    assert.equal(r.totalBytes, 5_000_000);
    assert.match(String(r.output), /\[\.\.\. \d+ of 5000000 bytes left out here \.\.\.\]/);
    assert.ok(String(r.output).length < 2_200_000);
  });

  it('re-establishes a dropped connection and says the shell state was reset', async () => {
    // Kill the server side of this session's connection, as a reboot or a dropped link would.
    execFileSync('pkill', ['-KILL', '-u', sshd.user]);
    // The next call after the drop is noticed reconnects; a command written into the dying connection
    // instead is reported as having lost its shell (it may or may not have run, so it is not re-run).
    let sessions: { connected: boolean }[] = [];
    for (let i = 0; i < 100; i++) {
      ({ sessions } = (await server.call('list_sessions')).structuredContent as {
        sessions: { connected: boolean }[];
      });
      if (sessions[0]?.connected === false) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(sessions[0]?.connected, false, `the drop was not noticed: ${JSON.stringify(sessions)}`);
    const r = await run('[ -n "$E2E_VAR" ] && echo kept || echo gone');
    assert.equal(r.output, 'gone\n');
    assert.equal(r.sessionReset, true);
  });

  it('reports a shell that exits, then opens a new one and says so', async () => {
    const exited = await run('exit 4');
    assert.equal(exited.exitCode, 4);
    assert.match(String(exited.note), /shell ended/);
    const next = await run('echo again');
    assert.equal(next.output, 'again\n');
    assert.equal(next.sessionReset, true);
  });

  it('refuses a changed host key, naming the host and both fingerprints', async () => {
    // A second client whose known_hosts records another key for this host, as after a reinstall or an attack.
    const home = mkdtempSync(path.join(tmpdir(), 'e2e-home-'));
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    copyFileSync(path.join(sshd.clientHome, '.ssh', 'config'), path.join(home, '.ssh', 'config'));
    // A fixed key: a freshly generated one is, now and then (6 in 2000), one ssh2's parseKey rejects.
    const otherKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAXZ4r4mTgt2kFPgQmteRudm5djM+p/PiBktYZgMhjd5';
    writeFileSync(path.join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${otherKey}\n`);
    const other = await startServer(home);
    try {
      const result = await other.call('execute_command', { host: 'testhost', command: 'echo must-not-run' });
      assert.equal(result.isError, true);
      const text = textOf(result);
      assert.ok(text.includes(`[127.0.0.1]:${sshd.port}`), text);
      assert.ok(text.includes(sshd.hostKeyFingerprint), text);
      const recorded = ssh2.utils.parseKey(otherKey);
      assert.ok(!(recorded instanceof Error));
      const digest = createHash('sha256').update(recorded.getPublicSSH()).digest('base64');
      assert.ok(text.includes(`SHA256:${digest.replace(/=+$/, '')}`), text);
      assert.doesNotMatch(text, /must-not-run/);
    } finally {
      await other.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('runs a command with sudo: the password only answers sudo, and a wrong one is reported as such', async () => {
    const wrong = await server.call('execute_command', {
      host: 'testhost',
      command: 'id -u',
      sudo_password: 'not-the-password',
    });
    assert.equal(wrong.isError, undefined, textOf(wrong));
    const refused = wrong.structuredContent as Structured;
    assert.match(String(refused.error), /sudo secret was refused/);
    assert.notEqual(refused.exitCode, 0);
    assert.doesNotMatch(JSON.stringify(wrong), /not-the-password/);

    const right = await run('id -u', { sudo_password: sshd.password });
    assert.equal(right.output, '0\n');
    assert.equal(right.exitCode, 0);
    assert.doesNotMatch(JSON.stringify(right), new RegExp(sshd.password));
    // an explicit sudo keeps its own options, and the real exit status comes back
    await run('sudo -k');
    const status = await run('sudo sh -c "exit 7"', { sudo_password: sshd.password });
    assert.equal(status.exitCode, 7);
    assert.equal(status.output, '');
    assert.doesNotMatch(server.stderr(), new RegExp(sshd.password));
  });

  it('runs every command with sudo in a linux-sudo session', async () => {
    const other = { host: 'localhost', port: sshd.port, username: sshd.user, key_filename: sshd.userKeyPath };
    const result = await server.call('execute_command', {
      ...other,
      dialect: 'linux-sudo',
      sudo_password: sshd.password,
      command: 'id -un',
    });
    const r = result.structuredContent as Structured;
    assert.equal(r.dialect, 'linux-sudo', textOf(result));
    assert.equal(r.output, 'root\n');
    assert.doesNotMatch(JSON.stringify(result), new RegExp(sshd.password));
    await server.call('close_session', other);
  });

  it('lists the dialects and serves each as a resource', async () => {
    const { dialects } = (await server.call('list_dialects')).structuredContent as {
      dialects: { name: string; source: string; modes: string[] }[];
    };
    const names = dialects.map((d) => d.name);
    for (const name of ['arista-eos', 'cisco-ios', 'junos', 'linux', 'linux-sudo'])
      assert.ok(names.includes(name), name);
    assert.deepEqual(dialects.find((d) => d.name === 'junos')?.modes, [
      'operational',
      'configuration',
      'shell',
    ]);
    const { resources } = await server.client.listResources();
    assert.ok(resources.some((r) => r.uri === 'dialect://cisco-ios'));
    const { contents } = await server.client.readResource({ uri: 'dialect://cisco-ios' });
    const first = contents[0];
    assert.ok(first && 'text' in first);
    assert.match(first.text, /^name: cisco-ios$/m);
  });

  it('says enable does not apply to a Linux shell, without running anything', async () => {
    const result = await server.call('execute_command', {
      host: 'testhost',
      command: 'touch /tmp/should-not-exist-$USER',
      enable_password: 'enable-secret-123',
    });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /linux dialect has no privileged \(enable\) mode/);
    assert.doesNotMatch(textOf(result), /enable-secret-123/);
    assert.equal((await run('ls /tmp/should-not-exist-$USER 2>/dev/null; echo $?')).output, '2\n');
  });

  it('names the cause of a failed login without leaking the password', async () => {
    const result = await server.call('execute_command', {
      host: 'localhost', // not the open session's 127.0.0.1, so a new login is attempted
      port: sshd.port,
      username: sshd.user,
      password: 'wrong-password-xyz',
      key_filename: sshd.unauthorisedKeyPath,
      command: 'true',
    });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assert.match(text, /[Aa]uthentication failed/);
    assert.match(text, /password/);
    assert.doesNotMatch(text, /wrong-password-xyz/);
    assert.doesNotMatch(server.stderr(), /wrong-password-xyz/);
  });

  it('names an unknown host and a refused port', async () => {
    const unknown = await server.call('execute_command', { host: 'no-such-alias.invalid', command: 'true' });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /no-such-alias\.invalid/);
    const refused = await server.call('execute_command', { host: '127.0.0.1', port: 1, command: 'true' });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /refused/);
    // failed calls leave no half-open sessions behind and do not disturb the working one
    const { sessions } = (await server.call('list_sessions')).structuredContent as {
      sessions: { id: string }[];
    };
    assert.deepEqual(
      sessions.map((s) => s.id),
      [sessionId],
    );
  });

  it('rejects invalid parameters with a message naming the field', async () => {
    const result = await server.call('execute_command', { host: 'testhost', command: 'true', timeout: -1 });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /timeout/);
  });

  it('closes one session by alias, then all', async () => {
    const closed = await server.call('close_session', { host: 'testhost' });
    assert.deepEqual(closed.structuredContent, { session: sessionId, closed: true });
    const missing = await server.call('close_session', { host: 'testhost' });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /No open session/);
    await run('true');
    const all = await server.call('close_all_sessions');
    assert.deepEqual(all.structuredContent, { closed: [sessionId] });
  });
});
