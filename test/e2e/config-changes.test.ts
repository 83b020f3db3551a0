// The configure tools through the built server and the SDK Client: a rejected line (the device's words,
// nothing after it sent), a host without configuration sessions, the command policy on configuration
// lines, asking the user with the diff (form elicitation) or requiring confirm_minutes when nobody can be
// asked, and the audit log (user, host, diff, outcome, secrets masked).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { type DeviceSimulator, startDeviceSimulator } from '../simulators/device-sim.js';
import { junosProfile } from '../simulators/junos.js';
import { startServerInTempHome, textOf } from '../support/mcp-client.js';

type Server = Awaited<ReturnType<typeof startServerInTempHome>>;
type Configured = {
  outcome: string;
  diff?: string;
  committed?: string[];
  rejected?: { index: number; line: string; error: string };
  confirmMinutes?: number;
};

describe('configuration changes through MCP', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-e2e-'));
  const auditFile = path.join(dir, 'audit.jsonl');
  const config = path.join(dir, 'config.yaml');
  const PASSWORD = 'Sim-Login-Pw-7731';
  let junos: DeviceSimulator;
  let sshd: SshdHarness;
  let plain: Server;
  let asking: Server;
  let answer: 'accept' | 'decline' = 'accept';
  const asked: string[] = [];

  before(async () => {
    junos = await startDeviceSimulator(junosProfile({ hostname: 'e2e-r1', password: PASSWORD }));
    sshd = await startSshd();
    writeFileSync(
      config,
      [
        'hosts:',
        '  core1:',
        '    host: 127.0.0.1',
        `    port: ${junos.port}`,
        `    user: ${junos.username}`,
        '    password: env:CORE1_PASSWORD',
        '    dialect: junos',
        '    policy:',
        '      deny: ["set system login *", "delete *"]',
        '  web1:',
        '    host: 127.0.0.1',
        `    port: ${sshd.port}`,
        `    user: ${sshd.user}`,
        `    key: ${sshd.userKeyPath}`,
        '    dialect: linux',
        'audit:',
        `  path: ${auditFile}`,
        '',
      ].join('\n'),
    );
    const start = (capabilities = {}) =>
      startServerInTempHome({
        args: ['--config', config, '--tools', 'all'],
        env: { CORE1_PASSWORD: PASSWORD },
        capabilities,
      });
    plain = await start();
    asking = await start({ elicitation: { form: {} } });
    asking.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(String(request.params.message));
      return answer === 'accept' ? { action: 'accept', content: { commit: true } } : { action: 'decline' };
    });
  });
  after(async () => {
    await plain?.close();
    await asking?.close();
    await junos?.close();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const configure = async (server: Server, args: Record<string, unknown>) => {
    const result = await server.call('configure', { host: 'core1', ...args });
    return { result, s: result.structuredContent as Configured, text: textOf(result) };
  };

  it('a rejected line: its number, the device words; nothing after it sent, nothing committed', async () => {
    const before = junos.config();
    const { result, s, text } = await configure(plain, {
      lines: ['set system location e2e', 'set sytem contact x', 'set system contact never-sent'],
      confirm_minutes: 5,
    });
    assert.equal(result.isError, undefined, text);
    assert.equal(s.outcome, 'rejected');
    assert.deepEqual(
      { index: s.rejected?.index, line: s.rejected?.line },
      { index: 2, line: 'set sytem contact x' },
    );
    assert.match(s.rejected?.error ?? '', /syntax error|unknown command/);
    assert.match(text, /Rejected at line 2: set sytem contact x/);
    assert.ok(!junos.transcript().includes('never-sent'));
    assert.deepEqual(junos.config(), before);
  });

  it('a host without configuration sessions gets a clear error', async () => {
    const result = await plain.call('configure', { host: 'web1', lines: ['echo hi'], dry_run: true });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /linux dialect, which has no configuration sessions/);
  });

  it('the host policy applies to configuration lines: refused, nothing sent', async () => {
    const sent = junos.transcript().length;
    const result = await plain.call('configure', {
      host: 'core1',
      lines: ['set system location ok', 'set system login user evil class super-user'],
      dry_run: true,
    });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /set system login/);
    assert.ok(!junos.transcript().slice(sent).includes('set system location ok'), 'nothing was sent');
  });

  it('without elicitation a commit needs confirm_minutes; a dry run does not', async () => {
    const refused = await plain.call('configure', { host: 'core1', lines: ['set system location x'] });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /give confirm_minutes/);
    const { s } = await configure(plain, { lines: ['set system location dry'], dry_run: true });
    assert.equal(s.outcome, 'dry_run');
    assert.match(s.diff ?? '', /location dry/);
    const { s: pending } = await configure(plain, {
      lines: ['set system location pending'],
      confirm_minutes: 5,
    });
    assert.equal(pending.outcome, 'pending_confirm');
    const state = await plain.call('get_config_state', { host: 'core1' });
    assert.equal((state.structuredContent as { pendingConfirm: boolean }).pendingConfirm, true);
    const confirmed = await plain.call('confirm_commit', { host: 'core1' });
    assert.equal(confirmed.isError, undefined, textOf(confirmed));
    assert.ok(junos.config().some((l) => l.includes('location pending')));
  });

  it('with form elicitation the user sees the diff and decides', async () => {
    answer = 'decline';
    const { s: declined } = await configure(asking, { lines: ['set system location declined'] });
    assert.equal(declined.outcome, 'declined');
    assert.match(asked.at(-1) ?? '', /Commit this configuration change on core1\?[\s\S]*location declined/);
    assert.ok(!junos.config().some((l) => l.includes('location declined')));
    answer = 'accept';
    const { s: accepted } = await configure(asking, { lines: ['set system location accepted'] });
    assert.equal(accepted.outcome, 'committed');
    assert.ok(junos.config().some((l) => l.includes('location accepted')));
  });

  it('read-only hides the tools that change a device, not get_config_state', async () => {
    const server = await startServerInTempHome({
      args: ['--config', config, '--tools', 'all', '--read-only'],
    });
    try {
      const names = (await server.client.listTools()).tools.map((t) => t.name);
      assert.ok(!names.includes('configure') && !names.includes('rollback'), names.join(', '));
      assert.ok(names.includes('get_config_state'));
    } finally {
      await server.close();
    }
  });

  it('audits every change: user, host, diff, outcome; the password never appears', async () => {
    const lines = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { change?: Record<string, unknown> });
    const changes = lines.filter((l) => l.change);
    const outcomes = changes.map((l) => `${l.command}:${l.change?.outcome}`);
    for (const want of [
      'configure:rejected',
      'configure:failed',
      'configure:denied',
      'configure:dry_run',
      'configure:pending_confirm',
      'confirm_commit:confirmed',
      'configure:declined',
      'configure:committed',
    ]) {
      assert.ok(outcomes.includes(want), `${want} in ${outcomes.join(', ')}`);
    }
    const committed = changes.find((l) => l.change?.outcome === 'committed');
    assert.equal(committed?.host, 'core1');
    assert.equal(committed?.user, junos.username);
    assert.match(String(committed?.change?.diff), /location accepted/);
    const denied = changes.find((l) => l.change?.outcome === 'denied');
    assert.equal(denied?.status, 'denied');
    assert.ok(!readFileSync(auditFile, 'utf8').includes(PASSWORD));
  });
});
