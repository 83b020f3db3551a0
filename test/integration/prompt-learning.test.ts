// How the first prompt is learned, and learned again: login answers, Enter after silence, renamed hosts,
// optional open steps, and errors that show what the device printed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { iosProfile } from '../simulators/ios.js';
import { junosProfile } from '../simulators/junos.js';
import { startServerInTempHome, textOf } from '../support/mcp-client.js';

type Server = Awaited<ReturnType<typeof startServerInTempHome>>;
type Structured = { output: string; exitCode: number | null; mode?: string; error?: string; dialect: string };

async function run(server: Server, target: Record<string, unknown>, command: string) {
  const result = await server.call('execute_command', { ...target, command, timeout: 20 });
  assert.equal(result.isError, undefined, textOf(result));
  return result.structuredContent as Structured;
}

const login = (sim: DeviceSimulator, dialect: string) => ({
  host: '127.0.0.1',
  port: sim.port,
  username: sim.username,
  password: sim.password,
  dialect,
});

/**
 * A device that shows a banner and then nothing until Enter is pressed (as some do after login), then a
 * prompt; every further Enter shows the prompt again, any other line is echoed with a one-line answer.
 */
async function quietDevice(prompt: string, banner: string) {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) =>
      ctx.method === 'password' ? ctx.accept() : ctx.reject(['password']),
    );
    client.on('session', (accept) => {
      const session = accept();
      session.on('pty', (acceptPty) => acceptPty());
      session.on('exec', (_accept, reject) => reject());
      session.on('shell', (acceptShell) => {
        const stream = acceptShell();
        stream.write(banner);
        let line = '';
        stream.on('data', (data: Buffer) => {
          for (const char of data.toString()) {
            if (char !== '\r' && char !== '\n') {
              line += char;
              continue;
            }
            stream.write(line ? `${line}\r\nok: ${line}\r\n${prompt}` : `\r\n${prompt}`);
            line = '';
          }
        });
      });
    });
    client.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('prompts learned as devices print them', () => {
  let server: Server;
  let renamed: DeviceSimulator;
  const shells: DeviceSimulator[] = [];
  let dialectDir: string;

  before(async () => {
    renamed = await startDeviceSimulator(
      iosProfile({ hostname: 'old-name', enableSecret: null, startPrivileged: true }),
    );
    for (const style of ['modern', 'legacy', 'bare'] as const) {
      shells.push(
        await startDeviceSimulator(
          junosProfile({
            hostname: 'edge-fw1',
            username: 'root',
            loginShell: 'shell',
            rootShellPrompt: style,
          }),
        ),
      );
    }
    dialectDir = mkdtempSync(path.join(tmpdir(), 'dialects-optional-'));
    // A platform whose release refuses one of its open steps: optional, so the session still opens.
    writeFileSync(
      path.join(dialectDir, 'ios-extra-step.yaml'),
      'name: ios-extra-step\nextends: cisco-ios\non_open:\n  - send: terminal length 0\n  - send: terminal no-such-setting\n    optional: true\n',
    );
    writeFileSync(
      path.join(dialectDir, 'ios-required-step.yaml'),
      'name: ios-required-step\nextends: cisco-ios\non_open:\n  - send: terminal no-such-setting\n',
    );
    server = await startServerInTempHome({ env: { MCP_SSH_DIALECT_PATH: dialectDir } });
  });
  after(async () => {
    await server?.close();
    await renamed?.close();
    for (const sim of shells) await sim.close();
    rmSync(dialectDir, { recursive: true, force: true });
  });

  it('follows a host renamed mid-session: the new prompt ends the command and is learned', async () => {
    const target = login(renamed, 'cisco-ios');
    assert.equal((await run(server, target, 'configure terminal')).mode, 'config');
    const rename = await run(server, target, 'hostname new-name');
    assert.equal(rename.mode, 'config');
    assert.equal(rename.exitCode, 0);
    const end = await run(server, target, 'end');
    assert.equal(end.mode, 'privileged');
    const check = await run(server, target, 'show running-config | include hostname');
    assert.match(check.output, /^hostname new-name$/m);
    assert.equal(check.mode, 'privileged');
  });

  for (const [i, style] of ['root@host:~ #', 'root@host%', '%'].entries()) {
    it(`starts the Junos CLI from a root shell whose prompt is "${style}"`, async () => {
      const sim = shells[i] as DeviceSimulator;
      const r = await run(server, login(sim, 'junos'), 'show version');
      assert.equal(r.mode, 'operational');
      assert.match(r.output, /Junos|JUNOS/);
    });
  }

  it('opens when an optional step is refused, and names a required one that is', async () => {
    const sim = renamed;
    await server.call('close_all_sessions');
    const ok = await run(server, login(sim, 'ios-extra-step'), 'show version');
    assert.equal(ok.exitCode, 0);
    await server.call('close_all_sessions');
    const refused = await server.call('execute_command', {
      ...login(sim, 'ios-required-step'),
      command: 'show version',
    });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /failed at step "terminal no-such-setting".*Invalid input/);
  });
});

describe('a device that shows its prompt only after Enter', () => {
  let server: Server;
  let device: Awaited<ReturnType<typeof quietDevice>>;
  let mystery: Awaited<ReturnType<typeof quietDevice>>;

  before(async () => {
    device = await quietDevice('quiet-rtr#', 'Authorized users only\r\n\r\n');
    mystery = await quietDevice('(mystery) ~~ ', 'MYSTERY OS 1.0\r\nWelcome, operator\r\n');
    // Opening a shell is bounded by the connect timeout: 5 s keeps the failing case short.
    server = await startServerInTempHome({ env: { MCP_SSH_CONNECT_TIMEOUT: '5' } });
  });
  after(async () => {
    await server?.close();
    device?.server.close();
    mystery?.server.close();
  });

  it('presses Enter after a quiet spell and learns the prompt that comes back', async () => {
    const started = Date.now();
    const r = await run(
      server,
      { host: '127.0.0.1', port: device.port, username: 'u', password: 'p-quiet', dialect: 'cisco-ios' },
      'show clock',
    );
    assert.equal(r.mode, 'privileged');
    assert.equal(r.output, 'ok: show clock\n');
    assert.ok(Date.now() - started >= 900, 'the prompt came only after the quiet spell');
  });

  it('gives up with the last lines the device printed', async () => {
    const result = await server.call('execute_command', {
      host: '127.0.0.1',
      port: mystery.port,
      username: 'u',
      password: 'p-mystery',
      dialect: 'cisco-ios',
      command: 'show clock',
      timeout: 6,
    });
    assert.equal(result.isError, true);
    const text = textOf(result);
    assert.match(text, /no prompt seen within/);
    assert.match(text, /the last lines received were .*\(mystery\) ~~/);
  });
});

describe('an enable secret from the config file', () => {
  let server: Server;
  let sim: DeviceSimulator;
  let dir: string;

  before(async () => {
    sim = await startDeviceSimulator(iosProfile({ hostname: 'cfg-rtr1', enableSecret: 'cfg-enable-1' }));
    dir = mkdtempSync(path.join(tmpdir(), 'enable-config-'));
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      `hosts:\n  rtr:\n    host: 127.0.0.1\n    port: ${sim.port}\n    user: ${sim.username}\n    password: env:RTR_PW\n    enable_password: env:RTR_EN\n    dialect: cisco-ios\n    host_key: off\n`,
    );
    server = await startServerInTempHome({
      args: ['--config', config],
      env: { RTR_PW: sim.password, RTR_EN: 'cfg-enable-1' },
    });
  });
  after(async () => {
    await server?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enables a device in user mode, and leaves one in a configuration mode where it is', async () => {
    const rtr = { host: 'rtr' };
    assert.equal((await run(server, rtr, 'show privilege')).mode, 'privileged');
    assert.equal((await run(server, rtr, 'configure terminal')).mode, 'config');
    assert.equal((await run(server, rtr, 'interface GigabitEthernet0/1')).mode, 'config');
    const description = await run(server, rtr, 'description to core');
    assert.equal(description.exitCode, 0, description.error);
    assert.equal(description.mode, 'config');
    assert.equal((await run(server, rtr, 'end')).mode, 'privileged');
  });
});
