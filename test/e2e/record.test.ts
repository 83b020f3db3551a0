// Transcripts of real sessions: the config's record: folder and the record command. No configured or
// typed secret may ever reach a transcript; each is written as a named placeholder.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parseTranscript } from '../../src/transcript/format.js';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { iosProfile } from '../simulators/ios.js';
import { CLI, startServer, textOf } from '../support/mcp-client.js';

const ENABLE = 'En-secret-77';
const PASSWORDS = { LAB_PASS: '', SUDO_PASS: '', RTR_PASS: 'rtr-login-pw', RTR_ENABLE: ENABLE };

describe('transcripts never hold a secret', () => {
  let sshd: SshdHarness;
  let sim: DeviceSimulator;
  let dir: string;
  let folder: string;
  let configFile: string;
  let env: Record<string, string>;
  let server: Awaited<ReturnType<typeof startServer>>;
  const typed = 'typed-input-secret-42';

  before(async () => {
    sshd = await startSshd();
    sim = await startDeviceSimulator(
      iosProfile({ hostname: 'rec-rtr1', enableSecret: ENABLE, password: PASSWORDS.RTR_PASS }),
    );
    dir = mkdtempSync(path.join(tmpdir(), 'mcpt-record-'));
    folder = path.join(dir, 'transcripts');
    configFile = path.join(dir, 'config.yaml');
    env = { ...PASSWORDS, LAB_PASS: sshd.password, SUDO_PASS: sshd.password };
    writeFileSync(
      configFile,
      `defaults:
  record: ${folder}
hosts:
  lab:
    host: 127.0.0.1
    port: ${sshd.port}
    user: ${sshd.user}
    password: env:LAB_PASS
    sudo_password: env:SUDO_PASS
    dialect: linux
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
    server = await startServer(sshd.clientHome, { args: ['--config', configFile, '--tools', 'all'], env });
  });
  after(async () => {
    await server?.close();
    await sim?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = async (args: Record<string, unknown>) => {
    const result = await server.call('execute_command', { timeout: 20, ...args });
    assert.equal(result.isError, undefined, textOf(result));
    return result.structuredContent as {
      output: string;
      exitCode: number;
      commandId: string;
      status: string;
    };
  };

  it('records sessions of the server with every secret as a placeholder', async () => {
    assert.equal((await run({ host: 'lab', command: 'echo hello' })).output, 'hello\n');
    // sudo asks; the configured password answers its prompt
    assert.equal(
      (await run({ host: 'lab', command: 'sudo -k; sudo id -u', use_sudo: true })).output.trim(),
      '0',
    );
    // a secret typed into a command that reads it
    const reading = await server.call('execute_command_async', {
      host: 'lab',
      command: 'read -r v; echo "got $(printf %s "$v" | wc -c) characters"',
    });
    const id = (reading.structuredContent as { commandId: string }).commandId;
    await server.call('send_input', { command_id: id, text: typed, secret: true, wait_ms: 5000 });
    // the agent types a configured secret into a command line; it comes back in the output
    await run({ host: 'lab', command: `printf '%s\\n' '${sshd.password}'` });
    // a device: login password and enable secret from the config
    assert.match((await run({ host: 'rtr', command: 'show clock' })).output, /UTC/);
    await server.call('close_all_sessions');

    const files = await waitForFiles(folder, 2);
    const secrets = [sshd.password, ENABLE, PASSWORDS.RTR_PASS, typed];
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const secret of secrets) assert.equal(text.includes(secret), false, `a secret is in a transcript`);
    assert.match(text, /\{\{secret:enable\}\}/);
    assert.match(text, /\{\{secret:sudo\}\}/);
    assert.match(text, /\{\{secret:input\}\}/);
    assert.match(text, /\{\{secret:(password|sudo)\}\}/);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    for (const file of files) {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const transcript = parseTranscript(readFileSync(file, 'utf8'), file);
      assert.ok(transcript.events.some((e) => 'command' in e));
      assert.ok(transcript.events.some((e) => 'result' in e));
    }
  });

  it('record writes a transcript of the commands it runs', async () => {
    const out = path.join(dir, 'cli', 'rtr.yaml');
    // Not spawnSync: the device simulator runs in this process and must keep answering.
    const result = await promisify(execFile)(
      process.execPath,
      [
        CLI,
        'record',
        'rtr',
        '--config',
        configFile,
        '--enable',
        '--out',
        out,
        '--command',
        'show clock',
        '--command',
        'show version',
      ],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: sshd.clientHome, ...env },
        timeout: 60_000,
      },
    );
    assert.match(result.stdout, /UTC/);
    assert.match(result.stderr, /transcript written to .*rtr\.yaml/);
    const text = readFileSync(out, 'utf8');
    assert.equal(text.includes(ENABLE), false);
    const transcript = parseTranscript(text, out);
    const commands = transcript.events.flatMap((e) => ('command' in e ? [e.command] : []));
    assert.deepEqual(commands, ['show clock', 'show version']);
    const results = transcript.events.flatMap((e) => ('result' in e ? [e.result] : []));
    assert.equal(results[0]?.mode, 'privileged');
    assert.match(results[1]?.output ?? '', /Cisco IOS/);
    assert.ok(transcript.events.some((e) => 'in' in e && e.in === '{{secret:enable}}\n'));
  });

  /**
   * The record command, as a network engineer runs it; `input` is piped to its stdin. Without the config
   * file for a device the inventory must not name (the inventory's dialect would spare detection).
   */
  const record = (args: string[], input?: string, config: string[] = ['--config', configFile]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, 'record', ...config, ...args],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: sshd.clientHome, ...env },
          timeout: 60_000,
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(input ?? '');
    });
  const transcriptOf = (file: string) => parseTranscript(readFileSync(file, 'utf8'), file);

  it('records a device found by detection: in order, the dialect named, its mode never the detection one', async () => {
    const out = path.join(dir, 'cli', 'detected.yaml');
    const r = await record(
      [
        '127.0.0.1',
        '--port',
        String(sim.port),
        '--user',
        sim.username,
        '--password-env',
        'RTR_PASS',
        '--out',
        out,
      ],
      'show clock\n',
      [],
    );
    assert.equal(r.code, 0, r.stderr);
    const t = transcriptOf(out);
    assert.ok(t.events.some((e) => 'dialect' in e && e.dialect === 'cisco-ios'));
    assert.equal(
      t.events.some((e) => 'mode' in e && e.mode === 'detected'),
      false,
    );
  });

  it('records a Linux host found by detection: the shell it runs commands in, in a file of its own', async () => {
    const out = path.join(dir, 'cli', 'linux.yaml');
    const login = [
      '127.0.0.1',
      '--port',
      String(sshd.port),
      '--user',
      sshd.user,
      '--password-env',
      'LAB_PASS',
    ];
    const r = await record([...login, '--out', out], 'echo one\necho two\n');
    assert.equal(r.code, 0, r.stderr);
    const written = /written to (.*)$/m.exec(r.stderr)?.[1]?.split(', ') ?? [];
    const commands = written.flatMap((f) =>
      transcriptOf(f).events.flatMap((e) => ('command' in e ? [e.command] : [])),
    );
    assert.deepEqual(commands, ['echo one', 'echo two'], 'every piped command was run and recorded');
  });

  it('keeps a device in configuration mode across commands with --enable, and never overwrites a recording', async () => {
    const out = path.join(dir, 'cli', 'config.yaml');
    const r = await record(
      ['rtr', '--enable', '--out', out],
      'configure terminal\ninterface GigabitEthernet0/1\ndescription x\nend\n',
    );
    assert.equal(r.code, 0, r.stderr);
    const modes = transcriptOf(out).events.flatMap((e) => ('result' in e ? [e.result.mode] : []));
    assert.deepEqual(modes, ['config', 'config', 'config', 'privileged']);
    const again = await record(['rtr', '--out', out, '--command', 'show clock']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists; a recording never overwrites one/);
  });
});

/** Transcript files appear as sessions close; wait (bounded) for at least `count`. */
async function waitForFiles(folder: string, count: number): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const files = (() => {
      try {
        return readdirSync(folder).map((f) => path.join(folder, f));
      } catch {
        return [];
      }
    })();
    if (files.length >= count) {
      await delay(300); // the sessions' last bytes
      return files;
    }
    await delay(100);
  }
  assert.fail(`fewer than ${count} transcripts in ${folder}`);
}
