// Fan-out end to end: the built server over stdio against a fleet of 44 inventory hosts on real OpenSSH.
// Three sshds, each listening on up to 15 loopback addresses (127.0.0.x) with a user of its own, give 42
// reachable hosts, plus one whose policy refuses the command and one where nothing listens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { FanoutFailed, FanoutGroup } from '../../src/server/tools/fleet.js';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { startServer, textOf } from '../support/mcp-client.js';

type Structured = Record<string, unknown>;
type Group = FanoutGroup;
type Failed = FanoutFailed;

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => `127.0.0.${from + i}`);
/** Each sshd: 14 fleet hosts; the first also serves `locked` on a 15th address. */
const FLEETS = [
  { addresses: range(11, 15), role: 'role core\n', group: 'a' },
  { addresses: range(31, 14), role: 'role edge\n', group: 'b' },
  // Trailing blanks and an empty line: the same output as b once normalised.
  { addresses: range(51, 14), role: 'role edge   \n\n', group: 'c' },
];
const DOWN = '127.0.0.99';

describe('execute_on_hosts over stdio against 44 hosts on real sshds', () => {
  const sshds: SshdHarness[] = [];
  let dir: string;
  let configFile: string;
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  let server: Awaited<ReturnType<typeof startServer>>;
  const fleetHosts: string[] = [];

  const call = async (
    name: string,
    args: Structured,
    options: {
      onprogress?: (p: { progress: number; message?: string }) => void;
      signal?: AbortSignal;
      timeout?: number;
    } = {},
    on = server,
  ) => {
    const result = (await on.client.callTool({ name, arguments: args }, undefined, {
      timeout: options.timeout ?? 120_000,
      ...(options.onprogress && { onprogress: options.onprogress }),
      ...(options.signal && { signal: options.signal }),
    })) as CallToolResult;
    return { result, text: textOf(result), s: result.structuredContent as Structured };
  };

  before(async () => {
    sshds.push(...(await Promise.all(FLEETS.map((f) => startSshd({ listenAddresses: f.addresses })))));
    dir = mkdtempSync(path.join(tmpdir(), 'mcpt-fleet-'));
    const hosts: string[] = [];
    let n = 0;
    FLEETS.forEach((fleet, i) => {
      const sshd = sshds[i] as SshdHarness;
      writeFileSync(path.join(sshd.home, 'role'), fleet.role, { mode: 0o644 });
      fleet.addresses.forEach((address, j) => {
        const name =
          i === 0 && j === fleet.addresses.length - 1 ? 'locked' : `r${String(++n).padStart(2, '0')}`;
        if (name !== 'locked') fleetHosts.push(name);
        const policy = name === 'locked' ? '\n    policy:\n      allow: [echo]' : '';
        hosts.push(
          `  ${name}:\n    host: ${address}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    key: ${sshd.userKeyPath}\n    groups: [fleet, ${fleet.group}]${policy}`,
        );
      });
    });
    const a = sshds[0] as SshdHarness;
    hosts.push(
      `  down:\n    host: ${DOWN}\n    port: ${a.port}\n    user: ${a.user}\n    key: ${a.userKeyPath}\n    groups: [fleet]`,
    );
    configFile = path.join(dir, 'mcp-ssh-session.config.yaml');
    writeFileSync(
      configFile,
      `defaults:\n  dialect: linux\n  host_key: off\ngroups:\n  fleet: {}\n  a: {}\n  b: {}\n  c: {}\nhosts:\n${hosts.join('\n')}\n`,
    );
    server = await startServer(a.clientHome, { args: ['--config', configFile, '--tools', 'all'] });
    servers.push(server);
  });

  after(async () => {
    for (const s of servers) await s.close().catch(() => {});
    await Promise.all(sshds.map((s) => s.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('groups 42 hosts by identical output, reports the unreachable and the refused host, with progress as hosts finish', async () => {
    const progress: { progress: number; message?: string }[] = [];
    // What the server sent, in order: the SDK client may drop the last progress notification when it
    // arrives with the answer (typescript-sdk#2580), so that one is checked here.
    const wire: string[] = [];
    const untap = server.tap((m) => {
      if ('method' in m && m.method === 'notifications/progress') {
        const p = m.params as { progress: number; message?: string };
        wire.push(`progress ${p.progress}: ${p.message}`);
      } else if ('result' in m) wire.push('answer');
    });
    const t0 = performance.now();
    const { result, text, s } = await call(
      'execute_on_hosts',
      { targets: ['group:fleet'], command: 'cat ~/role' },
      { onprogress: (p) => progress.push(p) },
    ).finally(untap);
    const wallMs = performance.now() - t0;
    assert.equal(result.isError, undefined, text);
    assert.equal(s.status, 'completed', text);
    assert.deepEqual(s.counts, { hosts: 44, ok: 42, failed: 2 }, text);
    const groups = s.groups as Group[];
    assert.deepEqual(
      groups.map((g) => [g.output, g.hosts.length]),
      [
        ['role edge', 28],
        ['role core', 14],
      ],
      text,
    );
    const failed = Object.fromEntries((s.failed as Failed[]).map((f) => [f.host, f]));
    assert.equal(failed.down?.failure, 'unreachable', text);
    assert.match(failed.down?.error ?? '', /refused/i);
    assert.equal(failed.locked?.failure, 'policy', text);
    assert.match(
      text,
      /^fan-1 completed: 42 of 44 hosts ok, 2 failed; 2 distinct outputs; \d+ ms\.\n== Output A \(28 hosts; cmd-\d+\): r15, r16, /,
    );
    assert.match(text, /== Failed \(2\):\n/);
    // The first host at once, then at most one every 250 ms, the count only going up, all 44 just before
    // the answer.
    const counts = progress.map((p) => p.progress);
    assert.equal(counts[0], 1, JSON.stringify(progress.slice(0, 3)));
    assert.equal(wire.at(-1), 'answer', wire.join('\n'));
    assert.match(
      wire.at(-2) ?? '',
      /^progress 44: 44\/44 hosts finished, 2 failed; last \S+: \w+$/,
      wire.join('\n'),
    );
    assert.ok(
      counts.every((c, i) => i === 0 || c > (counts[i - 1] as number)),
      JSON.stringify(counts),
    );
    assert.ok(
      progress.length <= Math.ceil(wallMs / 250) + 2,
      `${progress.length} in ${Math.round(wallMs)} ms`,
    );
    // Each host's own output is one call away.
    const one = await call('get_command_status', { command_id: groups[1]?.commandId });
    assert.equal((one.s.output as string).trim(), 'role core');
    console.log(`fan-out to 44 hosts, connecting: ${Math.round(wallMs)} ms`);
  });

  it('reuses the sessions: a second run opens none, and 42 hosts with one output take a few KB', async () => {
    const t0 = performance.now();
    const { result, text, s } = await call('execute_on_hosts', { targets: ['r*'], command: 'echo same' });
    const wallMs = performance.now() - t0;
    assert.equal(s.status, 'completed', text);
    assert.deepEqual(s.counts, { hosts: 42, ok: 42, failed: 0 });
    const groups = s.groups as Group[];
    assert.equal(groups.length, 1);
    assert.equal(groups[0]?.hosts.length, 42);
    const size = JSON.stringify(result).length;
    assert.ok(size <= 20_000, `result is ${size} characters`);
    const sessions = await call('list_sessions', {});
    // 42, and locked's: it connected before its policy refused the command.
    assert.equal((sessions.s.sessions as unknown[]).length, 43, sessions.text);
    console.log(`fan-out to 42 hosts, reusing sessions: ${Math.round(wallMs)} ms; result ${size} characters`);
  });

  it('keeps long and many distinct outputs within 20,000 characters per block, each host readable in full', async () => {
    const long = await call('execute_on_hosts', { targets: ['group:fleet'], command: 'seq 1 20000' });
    const lg = long.s.groups as Group[];
    assert.equal(lg.length, 1, long.text);
    assert.equal(lg[0]?.truncated, true);
    assert.equal(lg[0]?.totalBytes, 108_894);
    assert.ok(long.text.length <= 20_000 && JSON.stringify(long.s).length <= 20_000);
    const full = await call('get_command_status', { command_id: lg[0]?.commandId, tail: 1 });
    assert.equal((full.s.output as string).trim(), '20000');

    // 42 distinct outputs of ~9 KB each: some shown (cut), the rest counted, every host reachable.
    const many = await call('execute_on_hosts', {
      targets: ['fleet*', 'group:fleet'],
      command: 'echo "$SSH_CONNECTION" | cut -d" " -f3; seq 1 2000',
    });
    const mg = many.s.groups as Group[];
    const shown = mg.length + ((many.s.moreGroups as number | undefined) ?? 0);
    assert.equal(shown, 42, many.text.slice(0, 2000));
    assert.ok(mg.length >= 10, `only ${mg.length} distinct outputs shown`);
    console.log(
      `42 distinct outputs of ~9 KB: ${mg.length} shown; text ${many.text.length}, structured ${JSON.stringify(many.s).length} characters`,
    );
    assert.ok(many.text.length <= 20_000, `text ${many.text.length}`);
    assert.ok(JSON.stringify(many.s).length <= 20_000, `structured ${JSON.stringify(many.s).length}`);
    assert.match(String(many.s.note), /fleet\* matched no host/);
    const host = await call('get_fanout_status', { host: 'r42' });
    assert.equal(host.s.state, 'ok', host.text);
    assert.match(host.s.output as string, /^127\.0\.0\.\d+\n1\n2\n/);
    assert.match(host.s.output as string, /\n2000\n?$/);
  });

  describe('against an sshd with MaxStartups 2; idle_timeout 3 s', () => {
    let paced: Awaited<ReturnType<typeof startServer>>;
    let strict: SshdHarness;
    before(async () => {
      strict = await startSshd({ listenAddresses: range(71, 14), extraConfig: 'MaxStartups 2\n' });
      sshds.push(strict);
      const hosts = strict.addresses.map(
        (address, i) =>
          `  p${String(i + 1).padStart(2, '0')}:\n    host: ${address}\n    port: ${strict.port}\n    user: ${strict.user}\n    key: ${strict.userKeyPath}`,
      );
      const file = path.join(dir, 'paced.config.yaml');
      writeFileSync(
        file,
        `defaults:\n  dialect: linux\n  host_key: off\nlimits:\n  idle_timeout: 3\nhosts:\n${hosts.join('\n')}\n`,
      );
      paced = await startServer(strict.clientHome, { args: ['--config', file, '--tools', 'all'] });
      servers.push(paced);
    });

    it('connects 14 hosts at once through backoff and retry, then closes the idle sessions', async () => {
      const { s, text } = await call('execute_on_hosts', { targets: ['p*'], command: 'echo ok' }, {}, paced);
      assert.deepEqual(s.counts, { hosts: 14, ok: 14, failed: 0 }, text);
      assert.match(strict.logs(), /drop connection #\d+ .* past MaxStartups/);
      // sshd dropped connections past its MaxStartups, and the server tried them again.
      assert.match(paced.stderr(), /closed the connection before the SSH handshake; trying again in \d+ ms/);
      // Each session goes idle_timeout after its command (the ones that connected first may be gone already).
      let left = 14;
      for (let i = 0; i < 60 && left > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        left = ((await call('list_sessions', {}, {}, paced)).s.sessions as unknown[]).length;
      }
      assert.equal(left, 0, 'idle sessions closed after idle_timeout');
      assert.match(paced.stderr(), /closing \S+: unused for \d+ s \(idle_timeout\)/);
      // A closed session opens again on the next call.
      const again = await call('execute_on_hosts', { targets: ['p01'], command: 'echo back' }, {}, paced);
      assert.equal((again.s.groups as Group[])[0]?.output, 'back');
    });
  });

  describe('with max_wait 4 s', () => {
    let quick: Awaited<ReturnType<typeof startServer>>;
    before(async () => {
      quick = await startServer((sshds[0] as SshdHarness).clientHome, {
        args: ['--config', configFile, '--tools', 'all', '--max-wait', '4'],
      });
      servers.push(quick);
    });

    it('goes on in the background past the wait; get_fanout_status returns what finished so far', async () => {
      const started = await call(
        'execute_on_hosts',
        { targets: ['group:a'], command: 'sleep 6; echo done' },
        {},
        quick,
      );
      assert.equal(started.s.status, 'running', started.text);
      const id = started.s.fanoutId as string;
      assert.match(started.text, /still running: get_fanout_status\(fanout_id="fan-1"\)/);
      // locked is refused at once: it is among what finished so far.
      assert.deepEqual(
        (started.s.failed as Failed[]).map((f) => f.failure),
        ['policy'],
      );
      const ended = await call('get_fanout_status', { fanout_id: id, wait: 30 }, {}, quick);
      const final =
        ended.s.status === 'completed'
          ? ended
          : await call('get_fanout_status', { fanout_id: id, wait: 30 }, {}, quick);
      assert.equal(final.s.status, 'completed', final.text);
      assert.deepEqual(final.s.counts, { hosts: 15, ok: 14, failed: 1 });
      assert.equal((final.s.groups as Group[])[0]?.output, 'done');
    });

    it('a client timeout leaves the fan-out running; a user cancel skips hosts not started and interrupts the rest', async () => {
      await assert.rejects(
        call(
          'execute_on_hosts',
          { targets: ['group:c'], command: 'sleep 3; echo late' },
          { timeout: 1500 },
          quick,
        ),
        /timed out/i,
      );
      const late = await call('get_fanout_status', { wait: 30 }, {}, quick);
      assert.equal(late.s.status, 'completed', late.text);
      assert.deepEqual(late.s.counts, { hosts: 14, ok: 14, failed: 0 });

      const controller = new AbortController();
      const t0 = performance.now();
      const cancelled = call(
        'execute_on_hosts',
        { targets: ['group:b'], command: 'sleep 30', concurrency: 4 },
        { signal: controller.signal },
        quick,
      );
      await new Promise((resolve) => setTimeout(resolve, 2500));
      controller.abort('the user pressed stop');
      await assert.rejects(cancelled);
      const status = await call('get_fanout_status', { wait: 20 }, {}, quick);
      assert.equal(status.s.status, 'cancelled', status.text);
      const failures = (status.s.failed as Failed[]).map((f) => f.failure).sort();
      assert.deepEqual(
        failures,
        [...Array(10).fill('cancelled'), ...Array(4).fill('interrupted')],
        status.text,
      );
      assert.ok(performance.now() - t0 < 15_000, 'the sleeps were interrupted, not waited out');
      // The interrupted commands ended with Ctrl+C, their sessions free for the next call.
      const again = await call('execute_on_hosts', { targets: ['group:b'], command: 'echo free' }, {}, quick);
      assert.deepEqual(again.s.counts, { hosts: 14, ok: 14, failed: 0 }, again.text);
    });
  });
});
