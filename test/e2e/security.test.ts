// Security against a prompt-injected agent, over stdio against a real sshd: policy, secrets and host keys
// attach to the host reached whatever name reached it; a secret goes only where it was configured and is
// masked wherever it could surface (a split page, a wrapped screen line, a spill file).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { iosProfile } from '../simulators/ios.js';
import { startServer, textOf } from '../support/mcp-client.js';

type Structured = Record<string, unknown> & { status?: string; output?: string; commandId?: string };
const ENABLE = 'enable-9Zq-secret';

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : [full];
  });
}

describe('security: one host, whatever its name; secrets only where they belong', {
  timeout: 240_000,
}, () => {
  let sshd: SshdHarness;
  let sim: DeviceSimulator;
  let dir: string;
  let spill: string;
  let config: string;
  let server: Awaited<ReturnType<typeof startServer>>;
  const marker = path.join('/tmp', `mcpt-security-${process.pid}`);

  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await server.call(name, args);
    return { result, text: textOf(result), s: result.structuredContent as Structured };
  };

  before(async () => {
    sshd = await startSshd();
    sim = await startDeviceSimulator(iosProfile({ hostname: 'sec-rtr1', enableSecret: ENABLE }));
    dir = mkdtempSync(path.join(tmpdir(), 'mcpt-security-'));
    spill = path.join(dir, 'tmp');
    mkdirSync(spill);
    config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      `limits:
  max_output_bytes: 65536
hosts:
  lab:
    host: 127.0.0.1
    port: ${sshd.port}
    user: ${sshd.user}
    password: env:LAB_PASS
    sudo_password: env:LAB_PASS
    dialect: linux
    policy:
      deny: ["touch *"]
  rtr:
    host: 127.0.0.1
    port: ${sim.port}
    user: ${sim.username}
    password: env:RTR_PASS
    enable_password: env:RTR_ENABLE
    dialect: cisco-ios
    host_key: off
`,
    );
    server = await startServer(sshd.clientHome, {
      args: ['--config', config, '--tools', 'all'],
      env: { LAB_PASS: sshd.password, RTR_PASS: sim.password, RTR_ENABLE: ENABLE, TMPDIR: spill },
    });
  });
  after(async () => {
    await server?.close();
    await sim?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies the inventory host's policy whatever name reaches it", async () => {
    const names: Record<string, unknown>[] = [
      { host: 'lab' },
      { host: 'testhost' }, // an ~/.ssh/config alias of the same sshd
      { host: `${sshd.user}@127.0.0.1:${sshd.port}` },
      ...['127.0.0.1', '127.1', '127.000.000.001', '0x7f.0.0.1', 'localhost', '::ffff:127.0.0.1'].map(
        (host) => ({
          host,
          port: sshd.port,
          username: sshd.user,
          password: sshd.password,
        }),
      ),
    ];
    for (const name of names) {
      const r = await call('execute_command', { ...name, command: `touch ${marker}` });
      assert.equal(r.result.isError, true, `${JSON.stringify(name)}: ${r.text}`);
      assert.match(r.text, /refused by the policy for lab/, JSON.stringify(name));
    }
    assert.throws(() => statSync(marker), 'a refused command ran');
  });

  it('checks text typed into a running shell against the policy, as a command line', async () => {
    // An allowed command that reads commands: bash on stdin. What is typed into it is a command too.
    const shell = await call('execute_command_async', { host: 'lab', command: 'bash' });
    const id = String(shell.s.commandId);
    const typed = await call('send_input', { command_id: id, text: `echo typed-ok; touch ${marker}` });
    assert.equal(typed.result.isError, true, typed.text);
    assert.match(typed.text, /input refused by the policy for lab, nothing was typed/);
    const keys = await call('send_keys', { command_id: id, keys: `touch ${marker}<enter>` });
    assert.equal(keys.result.isError, true, keys.text);
    // Typed in pieces, the line is checked whole when Enter comes.
    const piece = await call('send_keys', { command_id: id, keys: 'tou' });
    assert.equal(piece.result.isError, undefined, piece.text);
    const rest = await call('send_keys', { command_id: id, keys: `ch ${marker}<enter>` });
    assert.equal(rest.result.isError, true, rest.text);
    // The shell still holds "tou": Enter sends that line (a command not found), then the shell goes on.
    for (const text of ['', 'echo typed-ok', 'exit']) {
      const fine = await call('send_input', { command_id: id, text });
      assert.equal(fine.result.isError, undefined, fine.text);
    }
    let done = await call('get_command_status', { command_id: id });
    for (let i = 0; i < 50 && done.s.status === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      done = await call('get_command_status', { command_id: id });
    }
    assert.equal(done.s.status, 'completed', done.text);
    assert.match(String(done.s.output), /typed-ok/);
    assert.throws(() => statSync(marker), 'a refused command ran');
  });

  it("refuses to write what the host would run later, out of the policy's sight", async () => {
    const home = String(
      (await call('execute_command', { host: 'lab', command: 'printf %s "$HOME"' })).s.output,
    );
    const link = `${home}/mcpt-innocent-${process.pid}`;
    await call('execute_command', { host: 'lab', command: `ln -sf ${home}/.bashrc ${link}` });
    const refused: Record<string, unknown>[] = [
      { remote_path: '~/.bash_profile' },
      { remote_path: '~/.ssh/rc' },
      { remote_path: `~/mcpt-${process.pid}.so` },
      { remote_path: `~/bin/mcpt-${process.pid}`, make_dirs: true },
      { remote_path: `~/mcpt-${process.pid}.sh`, permissions: '0755' },
      { remote_path: link },
    ];
    for (const args of refused) {
      const r = await call('write_file', { host: 'lab', content: `touch ${marker}\n`, ...args });
      assert.equal(r.result.isError, true, `${JSON.stringify(args)}: ${r.text}`);
      assert.match(r.text, /refused by policy/, JSON.stringify(args));
    }
    const notes = await call('write_file', {
      host: 'lab',
      remote_path: `~/mcpt-${process.pid}.txt`,
      content: 'x',
    });
    assert.equal(notes.result.isError, undefined, notes.text);
    await call('execute_command', { host: 'lab', command: `rm -f ${link} ~/mcpt-${process.pid}.txt` });
  });

  it("refuses a dialect parameter that contradicts the inventory's", async () => {
    const r = await call('execute_command', { host: 'rtr', dialect: 'junos', command: 'show clock' });
    assert.equal(r.result.isError, true);
    assert.match(
      r.text,
      /rtr is a cisco-ios host in the inventory: the dialect parameter cannot change that/,
    );
  });

  it('offers a configured password to no other server than the one it was configured for', async () => {
    const offered: string[] = [];
    const key = ssh2.utils.generateKeyPairSync('ed25519').private;
    const decoy = new ssh2.Server({ hostKeys: [key] }, (client) => {
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password') offered.push(ctx.password);
        if (ctx.method === 'keyboard-interactive')
          ctx.prompt([{ prompt: 'Password: ', echo: false }], (a) => offered.push(...a));
        ctx.reject(['password', 'keyboard-interactive']);
      });
      client.on('error', () => {});
    });
    await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
    const port = (decoy.address() as { port: number }).port;
    try {
      const r = await call('execute_command', { host: 'lab', port, command: 'echo hi', timeout: 10 });
      assert.equal(r.result.isError, true);
      assert.equal(
        offered.includes(sshd.password),
        false,
        'the password for lab was offered to another server',
      );
    } finally {
      decoy.close();
    }
  });

  it('answers only the sudo prompt it gave sudo, not one a command prints', async () => {
    const r = await call('execute_command', {
      host: 'lab',
      command: `sudo -k; printf '[sudo] password for %s: ' "$(id -un)" >&2; read -r v; echo "read ${'$'}{#v}"`,
      use_sudo: true,
      timeout: 5,
    });
    assert.equal(r.s.status, 'awaiting_input', r.text);
    assert.doesNotMatch(String(r.s.output), /read \d/);
    await call('interrupt_command_by_id', { command_id: r.s.commandId });
  });

  it('refuses a login secret too short to be masked', async () => {
    const r = await call('execute_command', {
      // Not an open session (that would need no login): the check comes before any connection.
      host: '127.0.0.2',
      port: sshd.port,
      username: sshd.user,
      password: 'ab',
      command: 'echo hi',
    });
    assert.equal(r.result.isError, true);
    assert.match(r.text, /shorter than 3 characters/);
  });

  it('masks a typed secret in output, in its spill file and on every page', async () => {
    const typed = 'typed-Secret-7766';
    const started = await call('execute_command_async', {
      host: 'lab',
      command: 'read -r v; for i in $(seq 1 20000); do printf "%s\\n" "$v"; done',
    });
    await call('send_input', { command_id: started.s.commandId, text: typed, secret: true, wait_ms: 100 });
    let status: Structured = {};
    for (let i = 0; i < 200; i++) {
      status = (await call('get_command_status', { command_id: started.s.commandId })).s;
      if (status.status !== 'running') break;
      await sleep(50);
    }
    assert.equal(status.status, 'completed');
    for (const offset of [0, 5, 9, 13, 100_001, 200_003]) {
      const page = (
        await call('get_command_status', { command_id: started.s.commandId, offset, max_bytes: 96 })
      ).s;
      assert.equal(
        String(page.output).includes(typed.slice(0, 6)),
        false,
        `a page at ${offset} shows the secret`,
      );
    }
    const onDisk = filesUnder(spill).map((f) => readFileSync(f, 'latin1'));
    assert.ok(onDisk.length > 0, 'the output spilled to disk');
    assert.equal(
      onDisk.some((text) => text.includes(typed)),
      false,
      'the secret is in a spill file',
    );
  });

  it('masks a secret in the prompt a command waits at, in every result that shows it', async () => {
    const typed = 'prompt-Secret-4242';
    const started = await call('execute_command', {
      host: 'lab',
      command: 'read -rsp "Token: " t; echo; read -rp "Use $t now? [y/N] " a; echo "a=$a"',
      pty: true,
      timeout: 20,
    });
    assert.equal(started.s.status, 'awaiting_input');
    const id = started.s.commandId;
    const answered = await call('send_input', { command_id: id, text: typed, secret: true, wait_ms: 5000 });
    assert.equal(answered.s.status, 'awaiting_input');
    assert.deepEqual(answered.s.waiting, { prompt: 'Use ******** now? [y/N]', kind: 'yes_no' });
    const shown = [
      answered,
      await call('get_command_status', { command_id: id }),
      await call('list_running_commands', {}),
    ];
    for (const { result } of shown) {
      assert.match(JSON.stringify(result), /Use \*{8} now\?/);
      assert.equal(
        JSON.stringify(result).includes(typed),
        false,
        `the secret is in ${JSON.stringify(result)}`,
      );
    }
    await call('send_input', { command_id: id, text: 'n', wait_ms: 5000 });
  });

  it('masks a secret on the screen where the terminal wrapped it', async () => {
    // The device echoes the line; at 511 columns the enable secret is split across two screen lines.
    const typedLine = `${'x'.repeat(508)}${ENABLE}`;
    await call('execute_command', { host: 'rtr', command: typedLine });
    const screen = (await call('read_screen', { host: 'rtr' })).s as { lines: string[] };
    const text = screen.lines.join('\n');
    for (const part of ['-9Zq', 'Zq-secret'])
      assert.equal(text.includes(part), false, `"${part}" is on the screen`);
    assert.match(text, /\*{3}/);
  });
});

describe('security: a host key known under one spelling holds under every other', { timeout: 60_000 }, () => {
  let sshd: SshdHarness;
  let home: string;
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    sshd = await startSshd();
    home = mkdtempSync(path.join(tmpdir(), 'mcpt-keys-'));
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    // Recorded by address: a different key than the one the server has now (it was "reinstalled").
    const other = ssh2.utils.generateKeyPairSync('ed25519').public.split(' ').slice(0, 2).join(' ');
    writeFileSync(path.join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${other}\n`, {
      mode: 0o600,
    });
    server = await startServer(home);
  });
  after(async () => {
    await server?.close();
    await sshd?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  for (const host of ['127.1', 'localhost', '127.000.000.001', '::ffff:127.0.0.1']) {
    it(`refuses the changed key when the host is called ${host}`, async () => {
      const result = await server.call('execute_command', {
        host,
        port: sshd.port,
        username: sshd.user,
        key_filename: sshd.userKeyPath,
        command: 'echo hi',
      });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /HOST KEY CHANGED/);
    });
  }
});
