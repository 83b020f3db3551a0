// What MCP clients accept (docs/architecture.md, DESIGN §7): Claude Code keeps only structuredContent and
// cuts past 25,000 tokens, Claude Desktop refuses results over 1 MB, clients give up after 60 s. Every
// result is compact, fits a budget per block (100,000 bytes by default) and never reaches 1 MB on the wire.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { startServer, textOf } from '../support/mcp-client.js';

type Structured = Record<string, unknown>;
type Server = Awaited<ReturnType<typeof startServer>>;

const chars = (value: unknown) => JSON.stringify(value).length;
const wire = (result: CallToolResult) => Buffer.byteLength(JSON.stringify(result));

describe('compact results within a budget, against a real sshd', () => {
  let sshd: SshdHarness;
  /** Default limits. */
  let server: Server;
  /** A deployment with a small budget (a client that cuts at a few kB) and calls that wait 1 s at most. */
  let small: Server;

  const call = async (on: Server, name: string, args: Structured = {}) => {
    const result = await on.call(name, args);
    assert.equal(result.isError, undefined, textOf(result));
    return result;
  };
  const run = async (on: Server, command: string, extra: Structured = {}) =>
    (await call(on, 'execute_command', { host: 'testhost', command, ...extra }))
      .structuredContent as Structured;

  before(async () => {
    sshd = await startSshd();
    server = await startServer(sshd.clientHome, { args: ['--tools', 'all'] });
    small = await startServer(sshd.clientHome, {
      args: ['--tools', 'all'],
      env: { MCP_SSH_MAX_RESULT_BYTES: '2000', MCP_SSH_MAX_WAIT: '1' },
    });
  });
  after(async () => {
    await server?.close();
    await small?.close();
    await sshd?.stop();
  });

  it('answers `echo hi` in at most 250 characters, leaving out false flags and zero counts', async () => {
    const r = await run(server, 'echo hi');
    assert.ok(chars(r) <= 250, `${chars(r)} characters: ${JSON.stringify(r)}`);
    assert.equal(r.output, 'hi\n');
    assert.equal(r.exitCode, 0);
    assert.equal(r.totalBytes, 3);
    assert.ok(Number.isInteger(r.durationMs), `durationMs ${r.durationMs} is rounded`);
    for (const key of ['timedOut', 'interrupted', 'truncated', 'omittedBytes', 'sessionReset', 'note']) {
      assert.equal(key in r, false, `${key} is left out: ${JSON.stringify(r)}`);
    }
  });

  it('reports a missing command and a failing builtin as a bash script does, not as "main: line N"', async () => {
    const missing = await run(server, 'nosuchcmd_mcp --x');
    assert.equal(missing.output, 'bash: line 1: nosuchcmd_mcp: command not found\n');
    assert.equal(missing.exitCode, 127);
    const cd = await run(server, 'echo first\ncd /nonexistent-mcp');
    assert.equal(cd.output, 'first\nbash: line 2: cd: /nonexistent-mcp: No such file or directory\n');
    assert.equal(cd.exitCode, 1);
    // Setting that up leaves the shell where a login leaves it.
    const where = await run(server, 'pwd; [ -z "$OLDPWD" ] && echo "[unset]"');
    assert.equal(where.output, `${sshd.home}\n[unset]\n`);
  });

  it('counts binary output by the bytes the host sent', async () => {
    const r = await run(server, 'head -c 300000 /dev/urandom');
    assert.equal(r.totalBytes, 300000);
    assert.equal(r.exitCode, 0);
  });

  it('cuts a 3 MB output to head and tail: each block within 100,000, the wire far under 1 MB', async () => {
    const result = await call(server, 'execute_command', {
      host: 'testhost',
      command: "echo START; head -c 3000000 /dev/zero | tr '\\0' a; echo; echo END",
    });
    const r = result.structuredContent as Structured;
    assert.ok(chars(r) <= 100_000, `structuredContent: ${chars(r)}`);
    assert.ok(chars(textOf(result)) <= 100_000, `text: ${chars(textOf(result))}`);
    assert.ok(wire(result) < 250_000, `on the wire: ${wire(result)}`);
    assert.equal(r.truncated, true);
    assert.ok(Number(r.omittedBytes) > 2_800_000);
    assert.equal(r.totalBytes, 3_000_011);
    const output = String(r.output);
    const ends = `${output.slice(0, 20)}...${output.slice(-20)}`;
    assert.ok(output.startsWith('START\naaa') && output.endsWith('aaa\nEND\n'), ends);
    assert.ok(/\[\.\.\. \d+ of 3000011 bytes left out here \.\.\.\]/.test(output), ends);
    assert.match(String(r.note), /get_command_status/);
    assert.ok(/aaa\nEND\n\[completed; exit status 0;/.test(textOf(result)), textOf(result).slice(-200));
  });

  it('asks for more room per call (max_bytes), never past the hard ceiling', async () => {
    const command = "head -c 3000000 /dev/zero | tr '\\0' b";
    const more = await call(server, 'execute_command', { host: 'testhost', command, max_bytes: 250_000 });
    const r = more.structuredContent as Structured;
    assert.ok(chars(r) > 200_000 && chars(r) <= 260_000, `structuredContent: ${chars(r)}`);
    const most = await call(server, 'execute_command', { host: 'testhost', command, max_bytes: 5_000_000 });
    assert.ok(
      chars(most.structuredContent) <= 400_000,
      `structuredContent: ${chars(most.structuredContent)}`,
    );
    assert.ok(wire(most) < 1_000_000, `on the wire: ${wire(most)}`);
  });

  it('pages output of control characters (six bytes each in JSON) within the budget', async () => {
    const r = await run(server, "head -c 300000 /dev/zero | tr '\\0' '\\1'");
    assert.equal(r.totalBytes, 300_000);
    let offset = 0;
    let pages = 0;
    for (; offset < 300_000 && pages < 40; pages++) {
      const page = await call(server, 'get_command_status', { command_id: r.commandId, offset });
      const s = page.structuredContent as Structured;
      assert.ok(chars(s) <= 100_000, `page at ${offset}: ${chars(s)}`);
      assert.ok(wire(page) < 250_000, `page at ${offset} on the wire: ${wire(page)}`);
      assert.match(String(s.output), /^\u0001+$/);
      assert.equal(String(s.output).length, Number(s.nextOffset) - offset);
      offset = Number(s.nextOffset);
    }
    assert.equal(offset, 300_000);
  });

  it('reads a 3 MB file a budget at a time, with where to read on', async () => {
    const content = 'line of a big file\n'.repeat(160_000);
    await writeFile(path.join(sshd.home, 'big.txt'), content);
    const first = await call(server, 'read_file', { host: 'testhost', remote_path: '~/big.txt' });
    const s = first.structuredContent as Structured;
    assert.ok(chars(s) <= 100_000, `structuredContent: ${chars(s)}`);
    assert.ok(wire(first) < 250_000, `on the wire: ${wire(first)}`);
    assert.equal(s.truncated, true);
    assert.equal(s.nextOffset, s.bytes);
    assert.equal(s.content, content.slice(0, Number(s.bytes)));
    const next = (
      await call(server, 'read_file', { host: 'testhost', remote_path: '~/big.txt', offset: s.nextOffset })
    ).structuredContent as Structured;
    assert.equal(next.offset, s.nextOffset);
    assert.equal(next.content, content.slice(Number(s.bytes), Number(s.bytes) + Number(next.bytes)));
  });

  it('cuts a long history to what fits, saying how many were left out and how to see them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(String((await run(small, `: ${i} ${'x'.repeat(3000)}`)).commandId));
    const seen: string[] = [];
    let offset = 0;
    for (let calls = 0; calls < 20 && offset !== undefined; calls++) {
      const result = await call(small, 'list_command_history', { limit: 10, offset });
      const s = result.structuredContent as { commands: Structured[]; nextOffset?: number; note?: string };
      assert.ok(chars(s) <= 2000, `structuredContent: ${chars(s)}`);
      assert.ok(chars(textOf(result)) <= 2000, `text: ${chars(textOf(result))}`);
      assert.ok(s.commands.length > 0, JSON.stringify(s));
      for (const c of s.commands) {
        assert.match(String(c.command), /\.\.\. \[\d+ more characters\]$/);
        seen.push(String(c.commandId));
      }
      if (s.nextOffset === undefined) break;
      assert.match(
        String(s.note),
        new RegExp(`^\\d+ more left out .*list_command_history\\(offset=${s.nextOffset}\\)`),
      );
      assert.match(textOf(result), /more left out of this result/);
      offset = s.nextOffset;
    }
    assert.deepEqual(seen, [...ids].reverse());
  });

  it('cuts the lines of a screen wider than the budget, and says so', async () => {
    const started = await run(small, "for i in $(seq 1 30); do printf '%0150d\\n' $i; done; sleep 30", {
      pty: true,
      timeout: 2,
    });
    assert.equal(started.status, 'running');
    const result = await call(small, 'read_screen', { command_id: started.commandId });
    const s = result.structuredContent as { lines: string[]; note?: string; cols: number };
    assert.ok(chars(s) <= 2000, `structuredContent: ${chars(s)}`);
    assert.match(String(s.note), /lines cut to \d+ characters of 120 columns/);
    assert.ok(s.lines.some((l) => /^0+\d/.test(l)));
    // Not interrupt_command_by_id: on main too, Ctrl+C to a pty command leaves its session's shell closed.
    await call(small, 'close_session', { host: 'testhost' });
  });

  it('waits no longer than max_wait: a longer command goes on in the background, and the result says so', async () => {
    const t0 = Date.now();
    const r = await run(small, 'echo started; sleep 3; echo done', { timeout: 600 });
    const waited = Date.now() - t0;
    assert.ok(waited < 2500, `the call waited ${waited} ms`);
    assert.equal(r.status, 'running', JSON.stringify(r));
    assert.equal(r.timedOut, true);
    assert.equal(r.output, 'started\n');
    assert.match(String(r.note), /wait is capped at 1 s \(max_wait\)/);
    assert.match(String(r.note), new RegExp(`get_command_status\\(command_id="${r.commandId}"\\)`));
    let status: Structured = {};
    for (let i = 0; i < 100 && status.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await call(small, 'get_command_status', { command_id: r.commandId }))
        .structuredContent as Structured;
    }
    assert.equal(status.status, 'completed', 'the command was not stopped by the end of the wait');
    assert.equal(status.output, 'started\ndone\n');
  });

  it('says nothing of max_wait when the call asked for a shorter wait', async () => {
    const r = await run(small, 'sleep 2', { timeout: 0.3 });
    assert.equal(r.status, 'running');
    assert.equal(r.note, undefined);
    await call(small, 'interrupt_command_by_id', { command_id: r.commandId });
  });

  describe('line views of an output, without rerunning the command', () => {
    const status = async (args: Structured) => {
      const result = await call(server, 'get_command_status', args);
      return { s: result.structuredContent as Structured, text: textOf(result) };
    };
    let seq: string;
    before(async () => {
      seq = String((await run(server, 'seq 1 100000')).commandId);
    });

    it('shows the last lines (tail), numbered', async () => {
      const { s, text } = await status({ command_id: seq, tail: 3 });
      assert.equal(s.output, '99998\n99999\n100000\n');
      assert.deepEqual([s.fromLine, s.toLine, s.totalLines, s.complete], [99_998, 100_000, 100_000, true]);
      assert.equal(s.nextOffset, 588_895);
      assert.ok(text.startsWith('99998\n99999\n100000\n[lines 99998-100000 of 100000]\n[cmd-'), text);
    });

    it('shows a slice by lines (from_line, lines), saying where to read on', async () => {
      const { s, text } = await status({ command_id: seq, from_line: 50_000, lines: 3 });
      assert.equal(s.output, '50000\n50001\n50002\n');
      assert.deepEqual([s.fromLine, s.toLine, s.complete], [50_000, 50_002, false]);
      assert.equal(s.note, 'read on with from_line=50003');
      assert.match(text, /\[lines 50000-50002 of 100000; read on with from_line=50003\]/);
    });

    it('greps with context, numbered as grep -n numbers them', async () => {
      const { s } = await status({ command_id: seq, grep: '^(10|20)$', context: 1 });
      assert.equal(s.output, '9-9\n10:10\n11-11\n--\n19-19\n20:20\n21-21\n');
      assert.equal(s.matches, 2);
      const capped = (await status({ command_id: seq, grep: '^\\d*7$', max_matches: 2 })).s;
      assert.equal(capped.output, '7:7\n17:17\n');
      assert.match(String(capped.note), /stopped after 2 matching lines .*offset=(\d+)/);
      const on = (
        await status({ command_id: seq, grep: '^\\d*7$', max_matches: 2, offset: capped.nextOffset })
      ).s;
      assert.equal(on.output, '27:27\n37:37\n');
    });

    it('refuses a pattern RE2 does not run, and views that do not go together', async () => {
      const bad = await server.call('get_command_status', { command_id: seq, grep: '(\\d)\\1' });
      assert.equal(bad.isError, true);
      assert.match(textOf(bad), /RE2 \(no lookaround or back-references\)/);
      const both = await server.call('get_command_status', { command_id: seq, tail: 2, from_line: 3 });
      assert.match(textOf(both), /give one of from_line, tail and grep/);
      const stray = await server.call('get_command_status', { command_id: seq, context: 2 });
      assert.match(textOf(stray), /context goes with grep/);
    });

    it('reads lines deep in a spilled output, and the lines of a command still running', async () => {
      const big = await run(server, 'seq 1 1000000');
      assert.equal(big.totalBytes, 6_888_896);
      const deep = (await status({ command_id: big.commandId, from_line: 765_432, lines: 2 })).s;
      assert.equal(deep.output, '765432\n765433\n');
      const last = (await status({ command_id: big.commandId, tail: 1 })).s;
      assert.equal(last.output, '1000000\n');
      const running = await run(server, 'for i in 1 2 3 4 5; do echo $i; done; sleep 30', { timeout: 1 });
      assert.equal(running.status, 'running');
      const s = (await status({ command_id: running.commandId, tail: 2 })).s;
      assert.deepEqual([s.output, s.toLine, s.status, s.complete], ['4\n5\n', 5, 'running', false]);
      await call(server, 'interrupt_command_by_id', { command_id: running.commandId });
    });
  });
});
