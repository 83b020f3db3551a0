// A deployment driven by a config file, end to end over stdio against a real sshd: inventory and
// precedence, secrets by reference (and asked for through URL elicitation), command policy, audit log,
// list_hosts, the inventory resource and `check-config`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { CLI, startServer, textOf } from '../support/mcp-client.js';

type Structured = Record<string, unknown>;
const LAB_PASSWORD_VAR = 'MCPT_LAB_PASSWORD';

describe('config file deployments over stdio against a real sshd', () => {
  let sshd: SshdHarness;
  let dir: string;
  let configFile: string;
  let auditFile: string;
  let server: Awaited<ReturnType<typeof startServer>>;
  const typedSecrets: string[] = [];

  const call = async (name: string, args: Structured) => {
    const result = await server.call(name, args);
    return { result, text: textOf(result), s: result.structuredContent as Structured };
  };

  before(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(path.join(tmpdir(), 'mcpt-config-'));
    auditFile = path.join(dir, 'audit', 'audit.jsonl');
    // ~/.ssh/config says the wrong port and user for `lab` (the inventory must win) and the right user for
    // `viaconfig` (it must beat the config's defaults).
    appendFileSync(
      path.join(sshd.clientHome, '.ssh', 'config'),
      [
        'Host lab',
        '  Port 1',
        '  User root',
        'Host viaconfig',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.userKeyPath}`,
        '',
      ].join('\n'),
    );
    configFile = path.join(dir, 'mcp-ssh-session.config.yaml');
    writeFileSync(
      configFile,
      `# e2e
defaults:
  user: nobody-by-default
  dialect: linux
security:
  allow_tool_secrets: false
audit:
  path: ${auditFile}
groups:
  fleet:
    key: ${sshd.userKeyPath}
    policy:
      deny: ["shutdown", "rm -rf *"]
hosts:
  lab:
    host: 127.0.0.1
    port: ${sshd.port}
    user: ${sshd.user}
    groups: [fleet]
    tags: [linux, lab]
    description: the test sshd
  locked:
    host: 127.0.0.1
    port: ${sshd.port}
    user: ${sshd.user}
    groups: [fleet]
    policy:
      allow: [whoami, echo, "printf *"]
  by-password:
    host: 127.0.0.1
    port: ${sshd.port}
    user: ${sshd.user}
    password: env:${LAB_PASSWORD_VAR}
  ask-password:
    host: 127.0.0.1
    port: ${sshd.port}
    user: ${sshd.user}
    password: env:MCPT_NEVER_SET
  viaconfig: {}
`,
    );
    server = await startServer(sshd.clientHome, {
      args: ['--config', configFile],
      env: { [LAB_PASSWORD_VAR]: sshd.password },
      capabilities: { elicitation: { url: {} } },
    });
    // The user "types" the password on the page the elicitation links to.
    server.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      if (request.params.mode !== 'url') throw new Error('a secret was asked for in form mode');
      typedSecrets.push(request.params.message);
      const response = await fetch(request.params.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ secret: sshd.password }).toString(),
      });
      assert.equal(response.status, 200);
      return { action: 'accept' };
    });
  });
  after(async () => {
    await server?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves an inventory name: the entry beats ~/.ssh/config, the tool parameter beats both', async () => {
    const { s, text } = await call('execute_command', { host: 'lab', command: 'whoami' });
    assert.equal(s.output, `${sshd.user}\n`, text);
    assert.equal(s.session, `${sshd.user}@127.0.0.1:${sshd.port}`);
    const wrongUser = await call('execute_command', {
      host: 'lab',
      command: 'whoami',
      username: 'nosuchuser',
    });
    assert.equal(wrongUser.result.isError, true);
    assert.match(wrongUser.text, /nosuchuser@127\.0\.0\.1/);
  });

  it('lets ~/.ssh/config beat the config file defaults', async () => {
    const { s, text } = await call('execute_command', { host: 'viaconfig', command: 'whoami' });
    assert.equal(s.output, `${sshd.user}\n`, text);
  });

  it('logs in with a password from an environment variable, never showing it', async () => {
    const { s, text } = await call('execute_command', { host: 'by-password', command: 'echo logged-in' });
    assert.equal(s.output, 'logged-in\n', text);
    assert.ok(!JSON.stringify(s).includes(sshd.password));
  });

  it('asks the user for a configured secret that is missing (URL elicitation), then logs in', async () => {
    const { s, text } = await call('execute_command', { host: 'ask-password', command: 'echo asked' });
    assert.equal(s.output, 'asked\n', text);
    assert.equal(typedSecrets.length, 1);
    assert.match(typedSecrets[0] ?? '', /login password for ask-password/);
  });

  it('asks for a secret no longer than a call may wait (max_wait), so the client gets an answer', async () => {
    const impatient = await startServer(sshd.clientHome, {
      args: ['--config', configFile],
      env: { MCP_SSH_MAX_WAIT: '2' },
      capabilities: { elicitation: { url: {} } },
    });
    try {
      // The user opens the page and never enters anything.
      impatient.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept' }));
      const t0 = Date.now();
      const result = await impatient.call('execute_command', { host: 'ask-password', command: 'echo asked' });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /nobody entered the login password for ask-password within 2(\.0)? s/);
      assert.ok(Date.now() - t0 < 6000, `took ${Date.now() - t0} ms`);
    } finally {
      await impatient.close();
    }
  });

  it('refuses secrets as tool parameters when the config says so', async () => {
    const { result, text } = await call('execute_command', {
      host: 'lab',
      command: 'true',
      sudo_password: 'should-not-pass',
    });
    assert.equal(result.isError, true);
    assert.match(text, /allow_tool_secrets.*leave out sudo_password/);
  });

  it('refuses what the policy denies, in any part of the input, and sends none of it', async () => {
    const marker = path.join('/tmp', `mcpt-policy-${process.pid}`);
    const denied = [
      `touch ${marker}; whoami`, // not on the allow list
      `echo ok\ntouch ${marker}`, // a second line
      `echo $(touch ${marker})`, // command substitution
      `whoami && shutdown -h now`, // deny wins, from the group
    ];
    for (const command of denied) {
      const { result, text } = await call('execute_command', { host: 'locked', command });
      assert.equal(result.isError, true, command);
      assert.match(text, /refused by the policy for locked, nothing was sent/, command);
    }
    assert.equal(existsSync(marker), false, 'a denied command ran');
    const shutdown = await call('execute_command', { host: 'locked', command: 'whoami && shutdown -h now' });
    assert.match(shutdown.text, /deny "shutdown" \(group fleet\)/);
    // Addressing the open session by its id keeps the rules of the name it was opened with (lab: fleet).
    const byId = await call('execute_command', {
      host: `${sshd.user}@127.0.0.1:${sshd.port}`,
      command: 'true; shutdown -h now',
    });
    assert.equal(byId.result.isError, true, byId.text);
    assert.match(byId.text, /deny "shutdown" \(group fleet\)/);
    const allowed = await call('execute_command', { host: 'locked', command: 'echo fine | printf "%s"' });
    assert.equal(allowed.result.isError, undefined, allowed.text);
  });

  it('writes every command to a private JSONL audit log, policy decisions included, secrets masked', async () => {
    const read = () =>
      readFileSync(auditFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Structured);
    const lastAllowed = (l: Structured) =>
      l.host === 'locked' && l.policy === 'allowed' && l.status === 'completed';
    // A line is written when its command ends, just after the result went out: wait for the last one.
    let lines = read();
    for (let i = 0; i < 100 && !lines.some(lastAllowed); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      lines = read();
    }
    assert.equal(statSync(auditFile).mode & 0o777, 0o600);
    const whoami = lines.find((l) => l.host === 'lab' && l.command === 'whoami' && l.status === 'completed');
    assert.ok(whoami, JSON.stringify(lines));
    for (const field of ['time', 'session', 'dialect', 'exitCode', 'durationMs', 'bytesOut', 'policy']) {
      assert.ok(field in whoami, field);
    }
    assert.equal(whoami.bytesOut, sshd.user.length + 1);
    const denied = lines.filter((l) => l.host === 'locked' && l.policy === 'denied');
    assert.ok(denied.length >= 4);
    assert.match(String(denied.at(-1)?.policyRule), /shutdown/);
    assert.ok(lines.some(lastAllowed), JSON.stringify(lines.slice(-3)));
    assert.ok(!readFileSync(auditFile, 'utf8').includes(sshd.password));
  });

  it('lists the inventory (and ssh-config aliases) without secrets, as a tool and a resource', async () => {
    const { s, text } = await call('list_hosts', {});
    const hosts = s.hosts as Structured[];
    const lab = hosts.find((h) => h.name === 'lab');
    assert.deepEqual(lab?.tags, ['linux', 'lab']);
    assert.equal(lab?.source, 'inventory');
    const byPassword = hosts.find((h) => h.name === 'by-password');
    assert.deepEqual(byPassword?.secrets, { password: `env:${LAB_PASSWORD_VAR} (set)` });
    assert.ok(hosts.some((h) => h.name === 'testhost' && h.source === 'ssh_config'));
    assert.ok(!text.includes(sshd.password) && !JSON.stringify(s).includes(sshd.password));
    const filtered = await call('list_hosts', { tag: 'lab' });
    assert.deepEqual(
      (filtered.s.hosts as Structured[]).map((h) => h.name),
      ['lab'],
    );
    const resource = await server.client.readResource({ uri: 'inventory://hosts' });
    const content = resource.contents[0];
    assert.ok(content && 'text' in content);
    assert.ok(JSON.parse(content.text).hosts.some((h: Structured) => h.name === 'locked'));
  });

  it('check-config prints the resolved hosts without secrets, and fails on a broken file with its line', () => {
    const good = spawnSync(process.execPath, [CLI, 'check-config', '--config', configFile], {
      encoding: 'utf8',
      env: { ...process.env, [LAB_PASSWORD_VAR]: sshd.password },
    });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /by-password/);
    assert.match(good.stdout, new RegExp(`env:${LAB_PASSWORD_VAR} \\(set\\)`));
    assert.ok(!good.stdout.includes(sshd.password));
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'hosts:\n  sw1:\n    prot: 22\n');
    const bad = spawnSync(process.execPath, [CLI, 'check-config', '--config', broken], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /broken\.yaml:3:5/);
    assert.match(bad.stderr, /port/);
  });
});
