// Long-running and interactive commands over stdio against a real sshd: prompts answered with
// send_input (secrets too), Ctrl+C by id, MCP cancellation, a full-screen program read and driven,
// progress notifications, and a 50 MB output paged to the end.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { startServer, textOf } from '../support/mcp-client.js';

type Structured = Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('long-running and interactive commands', { timeout: 180_000 }, () => {
  let sshd: SshdHarness;
  let server: Awaited<ReturnType<typeof startServer>>;
  const everything: string[] = [];

  const call = async (name: string, args: Structured = {}) => {
    const result = await server.call(name, { ...args });
    everything.push(JSON.stringify(result));
    assert.equal(result.isError, undefined, textOf(result));
    return result.structuredContent as Structured;
  };
  const exec = (command: string, extra: Structured = {}) =>
    call('execute_command', { host: 'testhost', command, ...extra });
  /** get_command_status until the command has ended (bounded). */
  const finished = async (id: string) => {
    let s: Structured = {};
    for (let i = 0; i < 200; i++) {
      s = await call('get_command_status', { command_id: id });
      if (s.status !== 'running' && s.status !== 'awaiting_input') return s;
      await sleep(50);
    }
    throw new Error(`${id} did not finish: ${JSON.stringify(s)}`);
  };

  before(async () => {
    sshd = await startSshd();
    server = await startServer(sshd.clientHome, { args: ['--tools', 'all'] });
  });
  after(async () => {
    await server?.close();
    await sshd?.stop();
  });

  it('reports a yes/no prompt as awaiting_input and takes the answer from send_input', async () => {
    const r = await exec('read -p "Continue? [y/N] " answer; echo "answer=$answer"', {
      pty: true,
      timeout: 20,
    });
    assert.equal(r.status, 'awaiting_input');
    assert.deepEqual(r.waiting, { prompt: 'Continue? [y/N]', kind: 'yes_no' });
    const answered = await call('send_input', { command_id: r.commandId, text: 'y', wait_ms: 5000 });
    assert.equal(answered.status, 'completed');
    const s = await finished(String(r.commandId));
    assert.equal(s.exitCode, 0);
    assert.match(String(s.output), /answer=y/);
  });

  it('sees a prompt printed to no terminal (read -p, cat) as awaiting_input within a second', async () => {
    const t0 = Date.now();
    const r = await exec('read -p "Name: " name; read -s code; echo "name=$name code=$code"', {
      timeout: 20,
    });
    assert.equal(r.status, 'awaiting_input', JSON.stringify(r));
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    assert.deepEqual(r.waiting, { prompt: '', kind: 'stdin' });
    // The first answer is read in silence and the second read waits the same way.
    const second = await call('send_input', { command_id: r.commandId, text: 'ann', wait_ms: 3000 });
    assert.equal(second.status, 'awaiting_input', JSON.stringify(second));
    await call('send_input', { command_id: r.commandId, text: 'c0de', wait_ms: 3000 });
    const s = await finished(String(r.commandId));
    assert.equal(s.exitCode, 0);
    assert.equal(s.output, 'name=ann code=c0de\n');

    const cat = await exec('cat', { timeout: 20 });
    assert.equal(cat.status, 'awaiting_input', JSON.stringify(cat));
    await call('interrupt_command_by_id', { command_id: cat.commandId });
    assert.equal((await finished(String(cat.commandId))).status, 'interrupted');
  });

  it('does not take a quiet command that reads nothing for one waiting for input', async () => {
    const r = await exec('sleep 2; echo slept', { timeout: 20 });
    assert.equal(r.status, 'completed', JSON.stringify(r));
    assert.equal(r.output, 'slept\n');
    // Reading from its own pipe is not reading the shell's stdin.
    const piped = await exec('sleep 1 | cat; echo piped', { timeout: 20 });
    assert.equal(piped.status, 'completed', JSON.stringify(piped));
  });

  it("answers sudo's password prompt with a secret that appears nowhere", async () => {
    const r = await exec('sudo -k; sudo id -un', { timeout: 20 });
    assert.equal(r.status, 'awaiting_input');
    assert.equal((r.waiting as Structured).kind, 'password');
    assert.match(String((r.waiting as Structured).prompt), new RegExp(`password for ${sshd.user}:`));
    await call('send_input', { command_id: r.commandId, text: sshd.password, secret: true, wait_ms: 5000 });
    const s = await finished(String(r.commandId));
    assert.equal(s.exitCode, 0);
    assert.match(String(s.output), /^\[sudo\] password for \S+: root\n$/);
    assert.ok(!everything.some((t) => t.includes(sshd.password)), 'the password was echoed back');
    assert.ok(!server.stderr().includes(sshd.password), 'the password was logged');
  });

  it('interrupts a background command by id; the next command sees none of its output', async () => {
    const started = await call('execute_command_async', {
      host: 'testhost',
      command: 'echo before; sleep 600; echo never',
    });
    assert.equal(started.status, 'running');
    await sleep(300);
    const running = (await call('list_running_commands')).commands as Structured[];
    assert.ok(running.some((c) => c.commandId === started.commandId));
    const active = (await call('get_active_commands')).commands as Structured[];
    assert.ok(active.some((c) => c.commandId === started.commandId));
    const stop = await call('interrupt_command_by_id', { command_id: started.commandId });
    assert.equal(stop.interrupted, true);
    const s = await finished(String(started.commandId));
    assert.equal(s.status, 'interrupted');
    assert.equal(s.exitCode, 130);
    assert.equal(s.output, 'before\n');
    assert.equal((await exec('echo ok')).output, 'ok\n');
    const history = (await call('list_command_history', { limit: 5 })).commands as Structured[];
    assert.equal(history.find((c) => c.commandId === started.commandId)?.status, 'interrupted');
    assert.ok(!((await call('list_running_commands')) as { commands: Structured[] }).commands.length);
  });

  it('interrupts a command that has a terminal at once, as Ctrl+C would, and keeps the shell', async () => {
    await exec('export MCP_KEPT=yes');
    const started = await call('execute_command_async', { host: 'testhost', command: 'sleep 30', pty: true });
    await sleep(500);
    const t0 = Date.now();
    const stop = await call('interrupt_command_by_id', { command_id: started.commandId });
    assert.equal(stop.status, 'interrupted', JSON.stringify(stop));
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    assert.doesNotMatch(String(stop.output), /Session terminated/);
    const next = await exec('echo "kept=$MCP_KEPT"');
    assert.equal(next.output, 'kept=yes\n');
    assert.equal('sessionReset' in next, false, JSON.stringify(next));
  });

  it('interrupts the remote command when the MCP request is cancelled', async () => {
    const controller = new AbortController();
    const pending = server.client
      .callTool(
        { name: 'execute_command', arguments: { host: 'testhost', command: 'sleep 30' } },
        undefined,
        {
          signal: controller.signal,
        },
      )
      .catch((error: Error) => error);
    await sleep(400);
    controller.abort();
    assert.ok((await pending) instanceof Error);
    let last: Structured | undefined;
    for (let i = 0; i < 100; i++) {
      const history = (await call('list_command_history', { limit: 1 })).commands as Structured[];
      last = history[0];
      if (last?.status !== 'running') break;
      await sleep(50);
    }
    assert.equal(last?.command, 'sleep 30');
    assert.equal(last?.status, 'interrupted');
    assert.equal((await exec('echo after-cancel')).output, 'after-cancel\n');
  });

  it('shows top as a screen and quits it with send_keys', async () => {
    const r = await exec('top -d 0.3', { timeout: 1.5 });
    assert.equal(r.status, 'running');
    let screen: Structured = {};
    for (let i = 0; i < 50; i++) {
      screen = await call('read_screen', { host: 'testhost' });
      if ((screen.lines as string[]).some((l) => /^Tasks:/.test(l))) break;
      await sleep(100);
    }
    const lines = screen.lines as string[];
    assert.equal(lines.length, 40);
    assert.equal(screen.cols, 120);
    assert.match(lines[0] ?? '', /^top - .*load average/);
    assert.ok(
      lines.some((l) => /^Tasks:/.test(l)),
      lines.join('\n'),
    );
    await call('send_keys', { command_id: r.commandId, keys: 'q', wait_ms: 3000 });
    const s = await finished(String(r.commandId));
    assert.equal(s.status, 'completed');
    assert.equal(s.exitCode, 0);
  });

  it('pages through less with send_keys, as a person would', async () => {
    await exec("seq -f 'row %g' 1 100 > ~/mcpt-less.txt");
    const r = await exec('less ~/mcpt-less.txt', { pty: true, timeout: 1 });
    assert.equal(r.status, 'running');
    const screen = async () => (await call('read_screen', { command_id: r.commandId })).lines as string[];
    let lines = await screen();
    assert.equal(lines[0], 'row 1');
    assert.equal(lines[38], 'row 39');
    await call('send_keys', { command_id: r.commandId, keys: 'G', wait_ms: 500 });
    lines = await screen();
    assert.ok(lines.includes('row 100'), lines.join('\n'));
    assert.match(lines[39] ?? '', /\(END\)/);
    await call('send_keys', { command_id: r.commandId, keys: 'q', wait_ms: 3000 });
    assert.equal((await finished(String(r.commandId))).exitCode, 0);
  });

  it('sends progress notifications while a command runs', async () => {
    const progress: { progress: number; message?: string }[] = [];
    const result = (await server.client.callTool(
      {
        name: 'execute_command',
        arguments: { host: 'testhost', command: 'for i in 1 2 3 4 5 6; do echo line $i; sleep 0.3; done' },
      },
      undefined,
      { onprogress: (p) => progress.push(p), timeout: 30_000 },
    )) as CallToolResult;
    assert.equal((result.structuredContent as Structured).exitCode, 0);
    assert.ok(progress.length >= 2 && progress.length <= 6, `${progress.length} notifications`);
    const lastProgress = progress.at(-1);
    assert.ok((lastProgress?.progress ?? 0) > (progress[0]?.progress ?? 0));
    assert.match(lastProgress?.message ?? '', /^\d+ lines, \d+ bytes: line \d$/);
  });

  it('pages a 50 MB output to the end, byte for byte', async () => {
    const size = 50_000_000;
    const line = 'The quick brown fox jumps over the lazy dog 0123456789\n';
    const command = `yes '${line.trimEnd()}' | head -c ${size}`;
    const started = await call('execute_command_async', { host: 'testhost', command });
    const s = await finished(String(started.commandId));
    assert.equal(s.exitCode, 0);
    assert.equal(s.totalBytes, size);
    const hash = createHash('sha256');
    let offset = 0;
    let pages = 0;
    for (; offset < size && pages < 1000; pages++) {
      const page = await call('get_command_status', { command_id: started.commandId, offset });
      assert.equal(page.offset, offset);
      assert.equal(page.gap, undefined);
      hash.update(String(page.output));
      offset = Number(page.nextOffset);
    }
    assert.equal(offset, size);
    const expected = createHash('sha256');
    const whole = line.repeat(Math.ceil(size / line.length)).slice(0, size);
    expected.update(whole);
    assert.equal(hash.digest('hex'), expected.digest('hex'));
    assert.ok(pages >= 24, `${pages} pages`);
  });
});
