import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { eosProfile } from '../simulators/eos.js';
import { iosProfile } from '../simulators/ios.js';
import { junosProfile } from '../simulators/junos.js';
import { nxosProfile } from '../simulators/nxos.js';
import { startServerInTempHome, textOf } from '../support/mcp-client.js';

type Structured = Record<string, unknown> & {
  output: string;
  exitCode: number | null;
  mode?: string;
  error?: string;
};

/** A client HOME of its own (known_hosts), and the built server speaking MCP over stdio. */
const serverWithHome = (env: Record<string, string> = {}) =>
  startServerInTempHome({ env: { MCP_SSH_TOOLS: 'all', ...env } });

function device(sim: DeviceSimulator, dialect: string) {
  return { host: '127.0.0.1', port: sim.port, username: sim.username, password: sim.password, dialect };
}

type Server = Awaited<ReturnType<typeof serverWithHome>>;

/** execute_command on a simulator in a dialect; the call must succeed. */
async function runOn(
  server: Server,
  sim: DeviceSimulator,
  dialect: string,
  command: string,
  extra: Record<string, unknown> = {},
): Promise<Structured> {
  const result = await server.call('execute_command', { ...device(sim, dialect), command, ...extra });
  assert.equal(result.isError, undefined, textOf(result));
  return result.structuredContent as Structured;
}

describe('cisco-ios against the IOS simulator, through MCP', () => {
  let sim: DeviceSimulator;
  let longNamed: DeviceSimulator;
  let server: Server;
  const run = (command: string, extra: Record<string, unknown> = {}, target = sim) =>
    runOn(server, target, 'cisco-ios', command, extra);

  before(async () => {
    sim = await startDeviceSimulator(
      iosProfile({
        hostname: 'lab-rtr1',
        enableSecret: 'en-secret-1',
        banner: 'Authorized access only#\nDisconnect now>',
        chunking: true,
        runningConfigLines: 300,
      }),
    );
    longNamed = await startDeviceSimulator(
      iosProfile({
        hostname: 'core-distribution-switch-building-7',
        enableSecret: 'en-secret-2',
        chunking: true,
      }),
    );
    server = await serverWithHome();
  });
  after(async () => {
    await server?.close();
    await sim?.close();
    await longNamed?.close();
  });

  it('gets past the banner, learns the prompt and returns exactly the output in user mode', async () => {
    const r = await run('show version');
    assert.match(r.output, /Cisco IOS/);
    assert.doesNotMatch(r.output, /show version/, 'no echo');
    assert.doesNotMatch(r.output, /lab-rtr1[>#]\s*$/, 'no prompt');
    assert.equal(r.exitCode, 0);
    assert.equal(r.mode, 'user');
    assert.equal(r.dialect, 'cisco-ios');
  });

  it('enables with the secret and pages through nothing: paging was turned off at open', async () => {
    const r = await run('show running-config', { enable_password: 'en-secret-1' });
    assert.equal(r.mode, 'privileged');
    assert.equal(r.exitCode, 0);
    assert.doesNotMatch(r.output, /--More--/);
    assert.match(r.output, /^end$/m);
    assert.ok(r.output.split('\n').length >= 300, `${r.output.split('\n').length} lines`);
    // the secret went to the device once, for the password prompt, and is in no result
    assert.equal(sim.transcript().split('en-secret-1').length - 1, 1);
    assert.doesNotMatch(JSON.stringify(r), /en-secret-1/);
  });

  it('does not end a command at a line that only ends in # or >', async () => {
    const r = await run('show interfaces description');
    assert.match(r.output, /uplink to core-sw1#\n/);
    assert.match(r.output, /link to lab-rtr2>\n/);
    assert.match(r.output, /Lo0 /);
  });

  it('follows configuration modes and comes back to privileged mode when enable is asked again', async () => {
    assert.equal((await run('configure terminal')).mode, 'config');
    const inInterface = await run('interface GigabitEthernet0/1');
    assert.equal(inInterface.mode, 'config');
    const back = await run('show privilege', { enable_password: 'en-secret-1' });
    assert.equal(back.mode, 'privileged');
    assert.match(back.output, /Current privilege level is 15/);
  });

  it('reports a copy question as awaiting input; Enter through send_input takes the default', async () => {
    const copy = await run('copy running-config startup-config', { enable_password: 'en-secret-1' });
    assert.equal(copy.status, 'awaiting_input');
    assert.deepEqual(copy.waiting, { prompt: 'Destination filename [startup-config]?', kind: 'question' });
    const answered = await server.call('send_input', { command_id: copy.commandId, text: '', wait_ms: 5000 });
    const s = answered.structuredContent as Record<string, unknown>;
    assert.equal(s.status, 'completed', textOf(answered));
    assert.match(String(s.output), /\[OK\]/);
    assert.equal(s.exitCode, 0);
  });

  it('shows the CLI screen as a person would see it after a command', async () => {
    await run('show clock');
    const screen = await server.call('read_screen', {
      host: '127.0.0.1',
      port: sim.port,
      username: sim.username,
    });
    const s = screen.structuredContent as {
      lines: string[];
      cursor: { row: number; col: number };
      cols: number;
    };
    assert.equal(s.cols, 511);
    const promptRow = s.lines[s.cursor.row] ?? '';
    assert.match(promptRow, /^lab-rtr1[>#]$/, textOf(screen));
    assert.equal(s.cursor.col, promptRow.length);
    assert.ok(
      s.lines.some((l) => /^lab-rtr1[>#]show clock$/.test(l)),
      textOf(screen),
    );
  });

  it('reports device errors with a non-zero exit status and the error line', async () => {
    const r = await run('show bogus-thing');
    assert.equal(r.exitCode, 1);
    assert.match(String(r.error), /% Invalid input detected at '\^' marker\./);
  });

  it('reports a wrong enable secret as such, within seconds', async () => {
    const started = Date.now();
    await run('disable');
    const result = await server.call('execute_command', {
      ...device(sim, 'cisco-ios'),
      command: 'show privilege',
      enable_password: 'wrong-secret',
    });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /enable secret was refused|Bad secrets|Access denied/);
    assert.doesNotMatch(textOf(result), /wrong-secret/);
    assert.ok(Date.now() - started < 15_000);
    // the session is still usable, in user mode
    assert.equal((await run('show privilege')).mode, 'user');
  });

  it('says a missing enable secret is missing', async () => {
    const result = await server.call('execute_command', {
      ...device(sim, 'cisco-ios'),
      command: 'show privilege',
      enable_command: 'enable',
    });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /asks for the enable secret .* but none was given/);
  });

  it('logs out politely when the session is closed', async () => {
    const closed = await server.call('close_session', {
      host: '127.0.0.1',
      port: sim.port,
      username: sim.username,
    });
    assert.equal(closed.isError, undefined, textOf(closed));
    for (let i = 0; i < 50 && !sim.transcript().endsWith('exit\n'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(sim.transcript(), /exit\n$/);
  });

  it('matches configuration prompts with a truncated long host name', async () => {
    const conf = await run('configure terminal', { enable_password: 'en-secret-2' }, longNamed);
    assert.equal(conf.mode, 'config');
    const iface = await run('interface Loopback0', {}, longNamed);
    assert.equal(iface.mode, 'config');
    assert.equal((await run('end', {}, longNamed)).mode, 'privileged');
  });
});

describe('a pager that appears anyway is answered and left out of the output', () => {
  let sim: DeviceSimulator;
  let server: Server;
  let dir: string;

  before(async () => {
    // A user dialect that does not turn paging off, loaded from a folder named in MCP_SSH_DIALECT_PATH.
    dir = mkdtempSync(path.join(tmpdir(), 'dialects-'));
    writeFileSync(
      path.join(dir, 'ios-paging.yaml'),
      'name: ios-paging\nextends: cisco-ios\ndescription: IOS with paging left on\non_open: []\n',
    );
    sim = await startDeviceSimulator(
      iosProfile({ hostname: 'pager-rtr', enableSecret: null, runningConfigLines: 120 }),
    );
    server = await serverWithHome({ MCP_SSH_DIALECT_PATH: dir });
  });
  after(async () => {
    await server?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages through show running-config', async () => {
    const result = await server.call('execute_command', {
      ...device(sim, 'ios-paging'),
      command: 'show running-config',
      enable_command: 'enable',
    });
    const r = result.structuredContent as Structured;
    assert.equal(r.exitCode, 0, textOf(result));
    assert.doesNotMatch(r.output, /More/);
    assert.doesNotMatch(r.output, /\x08/);
    assert.match(r.output, /^end$/m);
    assert.ok(r.output.split('\n').length >= 120);
  });
});

describe('arista-eos against the EOS simulator, through MCP', () => {
  let sim: DeviceSimulator;
  let server: Server;
  const run = (command: string, extra: Record<string, unknown> = {}) =>
    runOn(server, sim, 'arista-eos', command, extra);

  before(async () => {
    sim = await startDeviceSimulator(
      eosProfile({ hostname: 'leaf1', enableSecret: 'eos-en', chunking: true }),
    );
    server = await serverWithHome();
  });
  after(async () => {
    await server?.close();
    await sim?.close();
  });

  it('runs show commands, enables, and reports EOS errors', async () => {
    const version = await run('show version', { enable_password: 'eos-en' });
    assert.match(version.output, /Arista/);
    assert.equal(version.mode, 'privileged');
    assert.doesNotMatch(version.output, /\x1b/);
    const bad = await run('show nothing-here');
    assert.equal(bad.exitCode, 1);
    assert.match(String(bad.error), /^% Invalid input/);
  });

  it('copes with ANSI noise, a redrawn echo and bracketed paste in bash mode', async () => {
    const noisy = await startDeviceSimulator(
      eosProfile({ hostname: 'leaf2', ansiNoise: true, repeatEcho: true, chunking: true }),
    );
    try {
      const call = (command: string, extra: Record<string, unknown> = {}) =>
        runOn(server, noisy, 'arista-eos', command, extra);
      const version = await call('show version');
      assert.match(version.output, /^Arista /m);
      assert.doesNotMatch(version.output, /show version|\x1b|\r/);
      const bash = await call('bash', { enable_command: 'enable' });
      assert.equal(bash.mode, 'bash');
      const uname = await call('echo hello-from-bash');
      assert.equal(uname.mode, 'bash');
      assert.doesNotMatch(uname.output, /\x1b|2004/);
      assert.equal((await call('exit')).mode, 'privileged');
    } finally {
      await noisy.close();
    }
  });

  it('enters a config session and leaves it', async () => {
    assert.equal((await run('configure session s1')).mode, 'config');
    assert.equal((await run('end')).mode, 'privileged');
  });
});

describe('junos against the Junos simulator, through MCP', () => {
  let sim: DeviceSimulator;
  let cluster: DeviceSimulator;
  let server: Server;
  const run = (command: string, target = sim) => runOn(server, target, 'junos', command);

  before(async () => {
    sim = await startDeviceSimulator(junosProfile({ hostname: 'lab-fw1', chunking: true }));
    cluster = await startDeviceSimulator(
      junosProfile({ hostname: 'lab-fw2', clusterLine: '{primary:node0}' }),
    );
    server = await serverWithHome();
  });
  after(async () => {
    await server?.close();
    await sim?.close();
    await cluster?.close();
  });

  it('runs operational commands with paging off', async () => {
    const r = await run('show configuration');
    assert.equal(r.mode, 'operational');
    assert.doesNotMatch(r.output, /---\(more/);
    assert.ok(r.output.split('\n').length > 50);
  });

  it('enters and leaves configuration mode, leaving [edit] lines out of the output', async () => {
    const conf = await run('configure');
    assert.equal(conf.mode, 'configuration');
    assert.doesNotMatch(conf.output, /\[edit\]/);
    const set = await run('set interfaces ge-0/0/1 description uplink');
    assert.equal(set.exitCode, 0);
    assert.equal(set.output, '');
    assert.match((await run('commit')).output, /commit complete/);
    const leave = await run('exit configuration-mode');
    assert.equal(leave.mode, 'operational');
  });

  it('reports the question about uncommitted changes as awaiting input; send_input answers it', async () => {
    await run('configure');
    await run('set system host-name lab-fw1-new');
    const leave = await run('exit configuration-mode');
    assert.equal(leave.status, 'awaiting_input');
    assert.deepEqual(leave.waiting, {
      prompt: 'Exit with uncommitted changes? [yes,no] (yes)',
      kind: 'yes_no',
    });
    const answered = await server.call('send_input', {
      command_id: leave.commandId,
      text: 'yes',
      wait_ms: 5000,
    });
    const s = answered.structuredContent as Record<string, unknown>;
    assert.equal(s.status, 'completed', textOf(answered));
    assert.match(String(s.output), /Exiting configuration mode/);
    assert.equal((await run('show version')).mode, 'operational');
  });

  it('reports Junos errors', async () => {
    const r = await run('show bogus');
    assert.equal(r.exitCode, 1);
    assert.match(String(r.error), /unknown command|syntax error/);
  });

  it('leaves a cluster line before the prompt out of the output', async () => {
    const r = await run('show version', cluster);
    assert.equal(r.mode, 'operational');
    assert.doesNotMatch(r.output, /primary:node0/);
    assert.match(r.output, /JUNOS|Junos/);
  });
});

describe('auto-detection picks the dialect from the detection rules', () => {
  const sims: DeviceSimulator[] = [];
  let server: Server;

  before(async () => {
    sims.push(
      await startDeviceSimulator(
        iosProfile({ hostname: 'det-rtr1', banner: 'Unauthorized access prohibited' }),
      ),
    );
    sims.push(await startDeviceSimulator(eosProfile({ hostname: 'det-leaf1' })));
    sims.push(await startDeviceSimulator(junosProfile({ hostname: 'det-fw1' })));
    server = await serverWithHome();
  });
  after(async () => {
    await server?.close();
    for (const sim of sims) await sim.close();
  });

  for (const [index, expected] of ['cisco-ios', 'arista-eos', 'junos'].entries()) {
    it(`recognises ${expected}`, async () => {
      const sim = sims[index] as DeviceSimulator;
      const result = await server.call('execute_command', {
        host: '127.0.0.1',
        port: sim.port,
        username: sim.username,
        password: sim.password,
        command: 'show version',
      });
      assert.equal(result.isError, undefined, textOf(result));
      const r = result.structuredContent as Structured;
      assert.equal(r.dialect, expected);
      assert.equal(r.exitCode, 0);
      assert.ok(r.output.length > 100);
    });
  }
});

describe('auto-detection of an unknown device', () => {
  let server: Server;
  let device: ssh2.Server;
  let port = 0;

  before(async () => {
    // A device no dialect knows: exec refused, and a terminal that shows an unfamiliar prompt.
    const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
    device = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
      client.on('authentication', (ctx) =>
        ctx.method === 'password' ? ctx.accept() : ctx.reject(['password']),
      );
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (_accept, reject) => reject());
        session.on('pty', (acceptPty) => acceptPty());
        session.on('shell', (acceptShell) => acceptShell().write('MYSTERY OS 1.0\r\n(mystery) ~~ '));
      });
      client.on('error', () => {});
    });
    await new Promise<void>((resolve) => device.listen(0, '127.0.0.1', resolve));
    port = (device.address() as { port: number }).port;
    server = await serverWithHome();
  });
  after(async () => {
    await server?.close();
    device?.close();
  });

  it('says it could not tell, names the dialects and how to choose', async () => {
    const result = await server.call('execute_command', {
      host: '127.0.0.1',
      port,
      username: 'someone',
      password: 'pw-mystery',
      command: 'show version',
    });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assert.match(text, /Could not detect the device's dialect/);
    assert.match(text, /Pass dialect: one of .*cisco-ios.*junos.*linux/);
    const { sessions } = (await server.call('list_sessions')).structuredContent as { sessions: unknown[] };
    assert.deepEqual(sessions, [], 'the undetected device left no session behind');
  });
});

describe('a fifth platform as a plugin: the NX-OS example dialect from a user folder', () => {
  const examples = new URL('../../examples/dialects/', import.meta.url).pathname;
  let sim: DeviceSimulator;
  let server: Server;
  const run = (command: string, extra: Record<string, unknown> = {}) =>
    runOn(server, sim, 'cisco-nxos', command, extra);

  before(async () => {
    sim = await startDeviceSimulator(
      nxosProfile({
        hostname: 'nexus-core-switch-01-datacenter-east-a1',
        chunking: true,
        runningConfigLines: 400,
      }),
    );
    server = await serverWithHome({ MCP_SSH_DIALECT_PATH: examples });
  });
  after(async () => {
    await server?.close();
    await sim?.close();
  });

  it('is listed with its source file', async () => {
    const { dialects } = (await server.call('list_dialects')).structuredContent as {
      dialects: { name: string; source: string }[];
    };
    assert.match(
      dialects.find((d) => d.name === 'cisco-nxos')?.source ?? '',
      /examples\/dialects\/cisco-nxos\.yaml$/,
    );
  });

  it('runs show commands with paging off, follows config modes and reports errors', async () => {
    const config = await run('show running-config');
    assert.equal(config.mode, 'exec');
    assert.doesNotMatch(config.output, /More/);
    assert.ok(config.output.split('\n').length >= 400);
    assert.equal((await run('configure terminal')).mode, 'config');
    assert.equal((await run('interface Ethernet1/1')).mode, 'config');
    assert.equal((await run('end')).mode, 'exec');
    const bad = await run('show nonsense');
    assert.equal(bad.exitCode, 1);
    assert.match(String(bad.error), /^% Invalid command/);
  });

  it('is picked by auto-detection when its folder is known', async () => {
    const other = await startDeviceSimulator(nxosProfile({ hostname: 'nx-detect' }));
    try {
      const result = await server.call('execute_command', {
        host: '127.0.0.1',
        port: other.port,
        username: other.username,
        password: other.password,
        command: 'show hostname',
      });
      const r = result.structuredContent as Structured;
      assert.equal(r.dialect, 'cisco-nxos', textOf(result));
      assert.match(r.output, /nx-detect/);
    } finally {
      await other.close();
    }
  });
});
