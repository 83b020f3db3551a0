import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Dialect } from '../../src/dialect/dialect.js';
import { BUILTIN_DIALECT_DIR, loadDialectFile } from '../../src/dialect/loader.js';
import type { ExpectRunner, RunOptions } from '../../src/expect/runner.js';
import { openLocalShell } from '../support/local-shell.js';

const opts: RunOptions = { timeoutMs: 5000, maxOutputBytes: 1024 * 1024 };
const text = (o: { output: { head: string; tail: string } }) => o.output.head + o.output.tail;

describe('linux dialect driving a real local bash', () => {
  let dialect: Dialect;
  let runner: ExpectRunner;
  let kill: () => void;

  before(async () => {
    dialect = await loadDialectFile(path.join(BUILTIN_DIALECT_DIR, 'linux.yaml'));
    const shell = await openLocalShell(dialect);
    runner = shell.runner;
    kill = () => {
      try {
        if (shell.child.pid) process.kill(-shell.child.pid, 'SIGKILL');
      } catch {
        // already gone: the last test exits the shell
      }
    };
  });
  after(() => kill());

  it('learns the shell pid at open', () => {
    assert.match(runner.vars.shell_pid ?? '', /^\d+$/);
  });

  it('returns exactly what the command printed and its exit status', async () => {
    const r = await runner.run('echo hi', opts);
    assert.equal(text(r), 'hi\n');
    assert.equal(r.exitCode, 0);
    assert.equal((await runner.run('printf abc', opts)).output.head, 'abc');
    assert.equal((await runner.run('false', opts)).exitCode, 1);
    assert.equal((await runner.run('(exit 7)', opts)).exitCode, 7);
    assert.equal(text(await runner.run('echo out; echo err >&2', opts)), 'out\nerr\n');
  });

  it('keeps cd, export and functions between commands', async () => {
    await runner.run('cd /tmp && export MCP_T=42 && greet() { echo "hello $1"; }', opts);
    assert.equal(text(await runner.run('pwd; echo $MCP_T; greet you', opts)), '/tmp\n42\nhello you\n');
  });

  it('runs multi-line commands and here-docs', async () => {
    const r = await runner.run("for i in 1 2; do\n  echo \"n$i\"\ndone\ncat <<'EOF'\nit's $HOME\nEOF", opts);
    assert.equal(text(r), "n1\nn2\nit's $HOME\n");
  });

  it('survives unbalanced quotes and syntax errors with status 2', async () => {
    const r = await runner.run('echo "abc', opts);
    assert.equal(r.exitCode, 2);
    assert.match(text(r), /unexpected EOF|matching/);
    assert.equal((await runner.run('fi', opts)).exitCode, 2);
    assert.equal(text(await runner.run('echo fine', opts)), 'fine\n');
  });

  it('is not ended by output that imitates a marker', async () => {
    const r = await runner.run("printf '\\036MCPSSH0123456789abcdef:0\\036'; echo real", opts);
    assert.equal(text(r), '\x1eMCPSSH0123456789abcdef:0\x1ereal\n');
    assert.equal(r.exitCode, 0);
  });

  it('does not let stdin readers swallow the marker', async () => {
    for (const command of ['cat', 'head -c 1', 'read x; echo "got $x"']) {
      const r = await runner.run(command, { ...opts, timeoutMs: 300 });
      assert.equal(r.timedOut, true, command);
      assert.equal(r.shellLost, false, command);
      assert.equal(text(await runner.run('echo after', opts)), 'after\n', command);
    }
  });

  it('keeps what a program printed into the pipe byte for byte: codes and CR LF are its own (no terminal)', async () => {
    const r = await runner.run("printf '\\033[31mred\\033[0m\\r\\nnext\\r\\n'", opts);
    assert.equal(text(r), '\x1b[31mred\x1b[0m\r\nnext\r\n');
    assert.equal(r.output.totalBytes, 20);
  });

  it('interrupts the whole command line with status 130, and the shell goes on', async () => {
    const running = runner.run('echo a; sleep 600; echo b', opts);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(runner.interrupt(), true);
    const r = await running;
    assert.equal(r.exitCode, 130);
    assert.equal(r.interrupted, true);
    assert.equal(text(r), 'a\n');
    assert.equal(text(await runner.run('echo $MCP_T', opts)), '42\n');
  });

  it('keeps memory bounded and counts every byte of a 100 MB stream', async () => {
    const cap = 1024 * 1024;
    const r = await runner.run("head -c 100000000 /dev/zero | tr '\\0' a", {
      ...opts,
      timeoutMs: 60_000,
      maxOutputBytes: cap,
    });
    assert.equal(r.exitCode, 0);
    assert.equal(r.output.totalBytes, 100_000_000);
    assert.ok(r.output.head.length + r.output.tail.length <= cap);
    assert.equal(r.output.omittedBytes, 100_000_000 - cap);
  });

  it('reports a shell that exits, with its status', async () => {
    const r = await runner.run('exit 3', opts);
    assert.equal(r.shellLost, true);
    assert.equal(r.exitCode, 3);
    assert.equal(runner.isClosed, true);
  });
});
