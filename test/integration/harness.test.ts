import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2, { Client, type ConnectConfig } from 'ssh2';
import { type SshdHarness, sshExec, startSshd } from '../harness/sshd.js';

/** Logs in with ssh2 and returns `whoami`; rejects on auth failure. Bounded by timeoutMs. */
function whoamiVia(h: SshdHarness, auth: Partial<ConnectConfig>, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const timer = setTimeout(() => finish(new Error('ssh2 login timed out')), timeoutMs);
    const finish = (err: Error | null, out = '') => {
      clearTimeout(timer);
      client.end();
      if (err) reject(err);
      else resolve(out);
    };
    client.on('error', (e) => finish(e));
    client.on('ready', () => {
      client.exec('whoami', (err, stream) => {
        if (err) return finish(err);
        let out = '';
        stream.on('data', (d: Buffer) => {
          out += d.toString();
        });
        stream.on('close', () => finish(null, out.trim()));
      });
    });
    client.connect({ host: h.host, port: h.port, username: h.user, readyTimeout: 5_000, ...auth });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const userExists = (user: string) => spawnSync('id', [user], { stdio: 'ignore' }).status === 0;

describe('sshd harness', { timeout: 60_000 }, () => {
  let h: SshdHarness;
  before(async () => {
    h = await startSshd();
  });
  after(async () => {
    await h?.stop();
  });

  it('runs commands as the dedicated user with a clean home', async () => {
    const r = await sshExec(h, 'id -un; echo $HOME; cat ~/.bashrc ~/.profile | wc -c');
    assert.equal(r.code, 0, r.stderr + h.logs());
    assert.equal(r.stdout, `${h.user}\n${h.home}\n0\n`);
    assert.match(h.user, /^mcpt[a-z]{6}$/);
    assert.equal(h.home, join(h.dir, 'home'));
  });

  it('logs in with the password', async () => {
    assert.equal(await whoamiVia(h, { password: h.password }), h.user);
  });

  it('rejects a wrong password', async () => {
    await assert.rejects(whoamiVia(h, { password: `${h.password}x` }), /authentication methods failed/);
  });

  it('logs in with the encrypted key and its passphrase', async () => {
    const privateKey = readFileSync(h.encryptedKeyPath);
    assert.equal(await whoamiVia(h, { privateKey, passphrase: h.keyPassphrase }), h.user);
    const unlocked = ssh2.utils.parseKey(privateKey);
    assert.ok(unlocked instanceof Error && /passphrase/i.test(unlocked.message), 'key should be encrypted');
  });

  it('logs in with the unencrypted user key', async () => {
    assert.equal(await whoamiVia(h, { privateKey: readFileSync(h.userKeyPath) }), h.user);
  });

  it('rejects the unauthorised key', async () => {
    const privateKey = readFileSync(h.unauthorisedKeyPath);
    await assert.rejects(whoamiVia(h, { privateKey }), /authentication methods failed/);
  });

  it('reports the host key the server actually presents', async () => {
    let seen: Buffer | undefined;
    const hostVerifier = (key: Buffer) => {
      seen = key;
      return true;
    };
    await whoamiVia(h, { password: h.password, hostVerifier });
    assert.ok(seen);
    const sha = createHash('sha256').update(seen).digest('base64').replace(/=+$/, '');
    assert.equal(h.hostKeyFingerprint, `SHA256:${sha}`);
    assert.equal(h.hostKeyPublicLine, `ssh-ed25519 ${seen.toString('base64')}`);
  });

  it('provides a client home whose ssh config reaches the server', async () => {
    const ssh = join(h.clientHome, '.ssh');
    assert.equal(readFileSync(join(ssh, 'known_hosts'), 'utf8'), '');
    const args = ['-F', join(ssh, 'config'), '-o', 'BatchMode=yes', '-o', 'UserKnownHostsFile=/dev/null'];
    args.push('-o', 'StrictHostKeyChecking=no', '-o', 'LogLevel=ERROR', 'testhost', 'whoami');
    const r = spawnSync('ssh', args, { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${h.user}\n`);
  });

  it('lets the user sudo with its password, and only with it', async () => {
    const ok = await sshExec(h, `echo '${h.password}' | sudo -S -k -p '' id -u`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '0\n');
    const bad = await sshExec(h, `echo wrong | sudo -S -k -p '' id -u`);
    assert.notEqual(bad.code, 0);
  });

  it('stop() kills the sessions, removes the user, its files and frees the port', async () => {
    const { user, port, dir } = h;
    const bg = await sshExec(h, 'nohup sleep 600 >/dev/null 2>&1 & echo started');
    assert.equal(bg.stdout, 'started\n');
    assert.ok(userExists(user));
    await h.stop();
    await h.stop(); // idempotent
    assert.equal(userExists(user), false, `user ${user} still exists`);
    assert.equal(existsSync(`/etc/sudoers.d/${user}`), false);
    assert.equal(existsSync(dir), false);
    assert.ok(await portIsFree(port), `port ${port} still in use`);
  });
});

describe('sshd harness options', { timeout: 60_000 }, () => {
  it('passwordAuth: false disables password login; harnesses can run side by side', async () => {
    const [a, b] = await Promise.all([startSshd({ passwordAuth: false }), startSshd()]);
    try {
      assert.notEqual(a.port, b.port);
      assert.notEqual(a.user, b.user);
      await assert.rejects(whoamiVia(a, { password: a.password }), /authentication methods failed/);
      assert.equal(await whoamiVia(a, { privateKey: readFileSync(a.userKeyPath) }), a.user);
      assert.equal(await whoamiVia(b, { password: b.password }), b.user);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('extraConfig settings override the defaults', async () => {
    const h = await startSshd({ extraConfig: 'PubkeyAuthentication no\n' });
    try {
      await assert.rejects(whoamiVia(h, { privateKey: readFileSync(h.userKeyPath) }), /methods failed/);
      assert.equal(await whoamiVia(h, { password: h.password }), h.user);
    } finally {
      await h.stop();
    }
  });
});
