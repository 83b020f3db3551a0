// Reliability under faults, over stdio against a real sshd: a call that gives up only gives up itself,
// closing leaves nothing behind (connections, remote processes), Ctrl+C reaches only the command it was
// meant for, and a command whose connection died says why.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SshdHarness, sshExec, startSshd } from '../harness/sshd.js';
import { startServer, textOf } from '../support/mcp-client.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

type Structured = Record<string, unknown> & { status?: string; output?: string; exitCode?: number | null };

describe('reliability under faults', { timeout: 240_000 }, () => {
  let sshd: SshdHarness;
  let proxy: TcpProxy;
  let server: Awaited<ReturnType<typeof startServer>>;

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await server.call(name, args);
    return { result, s: result.structuredContent as Structured, text: textOf(result) };
  };
  const via = (port: number) => ({
    host: '127.0.0.1',
    port,
    username: sshd.user,
    key_filename: sshd.userKeyPath,
  });
  /** Live `sleep` processes of the test user on the host (zombies left to a pid 1 that never reaps do not count). */
  const remoteSleeps = async () =>
    (
      await sshExec(sshd, `ps -u "$(id -u)" -o stat= -o comm= | awk '$2 == "sleep" && $1 !~ /^Z/' | wc -l`)
    ).stdout.trim();

  before(async () => {
    sshd = await startSshd();
    proxy = await startTcpProxy(sshd.port);
    server = await startServer(sshd.clientHome, { args: ['--tools', 'all'] });
  });
  after(async () => {
    await server?.close();
    await proxy?.close();
    await sshd?.stop();
  });

  it('a call whose wait ends while queued behind a connecting call gives up only itself', async () => {
    proxy.delayMs = 1500;
    try {
      const first = call('execute_command', { ...via(proxy.port), command: 'echo first', timeout: 20 });
      await sleep(100);
      const third = call('execute_command', { ...via(proxy.port), command: 'echo third', timeout: 20 });
      const second = await call('execute_command', {
        ...via(proxy.port),
        command: 'echo second',
        timeout: 0.3,
      });
      assert.equal(second.result.isError, true);
      assert.match(second.text, /did not start within the timeout; it was not sent/);
      for (const [done, expected] of [
        [await first, 'first\n'],
        [await third, 'third\n'],
      ] as const) {
        assert.equal(done.result.isError, undefined, done.text);
        assert.equal(done.s.output, expected);
      }
    } finally {
      proxy.delayMs = 0;
      await call('close_all_sessions');
    }
  });

  it('close_all_sessions while sessions are still connecting leaves no connection open', async () => {
    proxy.delayMs = 1000;
    try {
      const calls = [0, 1, 2].map((i) =>
        call('execute_command', {
          ...via(proxy.port),
          username: sshd.user,
          command: `echo ${i}`,
          timeout: 20,
        }),
      );
      await sleep(200);
      await call('close_all_sessions');
      await Promise.all(calls);
      await sleep(1500);
      assert.equal(proxy.open(), 0, 'connections still open through the proxy');
    } finally {
      proxy.delayMs = 0;
    }
  });

  it('Ctrl+C for a command that is ending never reaches the next command', async () => {
    const target = via(sshd.port);
    let stray = 0;
    for (let i = 0; i < 40; i++) {
      const started = await call('execute_command_async', { ...target, command: 'sleep 0.05; echo done' });
      await sleep(30 + (i % 8) * 5);
      const stopped = await call('interrupt_command_by_id', { command_id: started.s.commandId });
      // The answer comes when the command has ended, with its final status.
      assert.notEqual(stopped.s.status, 'running', stopped.text);
      const next = await call('execute_command', { ...target, command: 'echo next', timeout: 10 });
      if (next.s.output !== 'next\n' || next.s.exitCode !== 0) stray++;
    }
    assert.equal(stray, 0, `${stray} of 40 next commands were hit by a stray interrupt`);
  });

  it('closing a session ends what it runs on the host; so does stopping the server', async () => {
    const target = via(sshd.port);
    await call('execute_command', { ...target, command: 'sleep 301 & echo started', timeout: 10 });
    const running = await call('execute_command', { ...target, command: 'sleep 302', timeout: 0.5 });
    assert.equal(running.s.status, 'running');
    assert.equal(await remoteSleeps(), '2');
    const closed = await call('close_session', target);
    assert.equal(closed.s.stopped, running.s.commandId, closed.text);
    assert.equal(closed.s.problems, undefined, closed.text);
    assert.equal(await remoteSleeps(), '0', 'sleeps left on the host after close_session');
    // Its result says it was stopped, and why: nobody asked to interrupt it.
    const stopped = (await call('get_command_status', { command_id: running.s.commandId })).s;
    assert.equal(stopped.status, 'interrupted', JSON.stringify(stopped));
    assert.match(String(stopped.error), /session was closed while it ran/, JSON.stringify(stopped));

    await call('execute_command', { ...target, command: 'sleep 303 & sleep 304', timeout: 0.5 });
    assert.equal(await remoteSleeps(), '2');
    const pid = server.pid as number;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
    assert.equal(isAlive(pid), false, 'the server did not exit on SIGTERM');
    assert.equal(await remoteSleeps(), '0', 'sleeps left on the host after SIGTERM');
    server = await startServer(sshd.clientHome, { args: ['--tools', 'all'] });
  });

  it('a client that gives up waiting (its request timed out) leaves the command running', async () => {
    const target = via(sshd.port);
    const gaveUp = await server.client
      .callTool(
        { name: 'execute_command', arguments: { ...target, command: 'sleep 2; echo survived', timeout: 30 } },
        undefined,
        {
          timeout: 500,
        },
      )
      .then(
        () => 'answered',
        (error: Error) => error.message,
      );
    assert.match(gaveUp, /timed out/);
    let last: Structured = {};
    for (let i = 0; i < 100; i++) {
      const history = (await call('list_command_history', { limit: 5 })).s as { commands?: Structured[] };
      last = history.commands?.find((c) => String(c.command).includes('survived')) ?? {};
      if (last.status === 'completed') break;
      await sleep(100);
    }
    assert.equal(last.status, 'completed', JSON.stringify(last));
    assert.equal(last.exitCode, 0);
  });

  it('a background command whose connection died says why it failed', async () => {
    const target = via(proxy.port);
    const started = await call('execute_command_async', { ...target, command: 'sleep 30' });
    await sleep(300);
    await proxy.close();
    proxy = await startTcpProxy(sshd.port);
    let status: Structured = {};
    for (let i = 0; i < 100; i++) {
      status = (await call('get_command_status', { command_id: started.s.commandId })).s;
      if (status.status !== 'running') break;
      await sleep(100);
    }
    assert.equal(status.status, 'failed');
    assert.match(String(status.error), /connection to 127\.0\.0\.1:\d+ was (lost|closed)/);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('background results', { timeout: 120_000 }, () => {
  let sshd: SshdHarness;
  let server: Awaited<ReturnType<typeof startServer>>;
  let dir: string;

  before(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(path.join(tmpdir(), 'mcpt-results-'));
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, 'limits:\n  keep_unread_results: 2\n');
    server = await startServer(sshd.clientHome, { args: ['--config', config, '--tools', 'all'] });
  });
  after(async () => {
    await server?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (id: unknown) => server.call('get_command_status', { command_id: id });

  it('keeps every result until it is read, however many commands ran meanwhile', async () => {
    const ids: unknown[] = [];
    for (let i = 0; i < 15; i++) {
      const started = await server.call('execute_command_async', {
        host: 'testhost',
        command: `echo token-${i}`,
      });
      ids.push((started.structuredContent as Structured).commandId);
      for (let j = 0; j < 50 && (await status(ids[i])).structuredContent?.status === 'running'; j++)
        await sleep(20);
    }
    for (const [i, id] of ids.entries()) {
      const read = await status(id);
      assert.equal(read.isError, undefined, textOf(read));
      assert.equal((read.structuredContent as Structured).output, `token-${i}\n`);
    }
  });

  it('drops a result nobody read once its age limit passed, and says so', async () => {
    const started = await server.call('execute_command_async', {
      host: 'testhost',
      command: 'echo forgotten',
    });
    const id = (started.structuredContent as Structured).commandId;
    await sleep(2500);
    // Any command ending (or read) applies the limits within a second (the registry's ENFORCE_AFTER_MS).
    await server.call('execute_command', { host: 'testhost', command: 'true' });
    await sleep(1500);
    // How it ended is still known; the output is gone, and the answer says why.
    const read = (await status(id)).structuredContent as Structured;
    assert.equal(read.status, 'completed');
    assert.equal(read.output, '');
    assert.match(String(read.note), /dropped unread 2 s after it ended/);
  });
});
