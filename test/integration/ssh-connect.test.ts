import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import ssh2, { type Client } from 'ssh2';
import {
  connect,
  fingerprint,
  type HostEntry,
  resolveTarget,
  SshError,
  type SshPaths,
} from '../../src/ssh/index.js';
import { freePort, type SshdHarness, startSshd } from '../harness/sshd.js';

const TIMEOUT_MS = 10_000;

let h: SshdHarness;
let savedAgent: string | undefined;
let n = 0;

/** The harness's client HOME and ssh config, with a known_hosts file of the test's own (empty unless given). */
async function clientPaths(knownHosts = '', sshConfig = 'config'): Promise<SshPaths> {
  const ssh = join(h.clientHome, '.ssh');
  const paths = {
    home: h.clientHome,
    sshConfig: join(ssh, sshConfig),
    knownHosts: join(ssh, `known_hosts_${++n}`),
  };
  await writeFile(paths.knownHosts, knownHosts, { mode: 0o600 });
  return paths;
}

function exec(client: Client, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => {
        out += d.toString();
      });
      stream.on('close', () => resolve(out.trim()));
    });
  });
}

/** Ends the client and waits (bounded) for it to close. */
async function close(client: Client): Promise<void> {
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.end();
  await Promise.race([closed, delay(3_000)]);
}

const sshError =
  (code: string, ...patterns: RegExp[]) =>
  (e: unknown) => {
    assert.ok(e instanceof SshError, `expected an SshError, got: ${String(e)}`);
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Established TCP connections to the harness's sshd port (ours and, for jumps, sshd's own forwards). */
function establishedTo(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l.trim()).length;
}

/** Runs `fn` with process.stderr.write captured (log lines go there); returns what was written. */
async function captureStderr(fn: () => Promise<void>): Promise<string> {
  const saved = process.env.MCP_SSH_SESSION_LOG_LEVEL;
  process.env.MCP_SSH_SESSION_LOG_LEVEL = 'warn';
  const write = process.stderr.write;
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
    if (saved === undefined) delete process.env.MCP_SSH_SESSION_LOG_LEVEL;
    else process.env.MCP_SSH_SESSION_LOG_LEVEL = saved;
  }
  return text;
}

/** A lookup callback over a fixed table. */
const lookupIn = (entries: Record<string, HostEntry>) => (name: string) => entries[name];

describe('ssh connect against a real sshd', { timeout: 180_000 }, () => {
  before(async () => {
    // An agent of whoever runs the tests must not take part (nor use up MaxAuthTries).
    savedAgent = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    h = await startSshd();
  });
  after(async () => {
    if (savedAgent !== undefined) process.env.SSH_AUTH_SOCK = savedAgent;
    await h?.stop();
  });

  it('logs in with the key from the ssh config alias and records the host key on first connect', {
    timeout: 30_000,
  }, async () => {
    const paths = await clientPaths();
    const target = await resolveTarget({ host: 'testhost' }, paths);
    assert.equal(target.id, `${h.user}@127.0.0.1:${h.port}`);
    const client = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
    try {
      assert.equal(await exec(client, 'whoami'), h.user);
    } finally {
      await close(client);
    }
    const lines = (await readFile(paths.knownHosts, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 1);
    const [name, type, base64] = (lines[0] ?? '').split(' ');
    assert.equal(name, `[127.0.0.1]:${h.port}`);
    assert.equal(type, 'ssh-ed25519');
    assert.equal(fingerprint(Buffer.from(base64 ?? '', 'base64')), h.hostKeyFingerprint);

    // Known now: the second connect matches the recorded key and adds nothing.
    const again = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
    await close(again);
    assert.equal((await readFile(paths.knownHosts, 'utf8')).trim().split('\n').length, 1);
  });

  it('logs in with a password', { timeout: 30_000 }, async () => {
    const paths = await clientPaths();
    const target = await resolveTarget(
      { host: h.host, port: h.port, username: h.user, password: h.password },
      paths,
    );
    const client = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
    try {
      assert.equal(await exec(client, 'whoami'), h.user);
    } finally {
      await close(client);
    }
  });

  it('logs in with an encrypted key and its passphrase; without it, says a passphrase is needed', {
    timeout: 30_000,
  }, async () => {
    const paths = await clientPaths();
    const request = { host: 'testhost', keyFilename: h.encryptedKeyPath };
    const target = await resolveTarget({ ...request, keyPassphrase: h.keyPassphrase }, paths);
    const client = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
    try {
      assert.equal(await exec(client, 'whoami'), h.user);
    } finally {
      await close(client);
    }

    const locked = await resolveTarget(request, paths);
    await assert.rejects(connect(locked, { timeoutMs: TIMEOUT_MS, paths }), (e: unknown) => {
      sshError('auth-failed', /encrypted, no passphrase given/)(e);
      assert.match((e as SshError).hint, /key_passphrase/);
      return true;
    });
  });

  it('reports a wrong password as auth-failed, listing methods, without the password', {
    timeout: 30_000,
  }, async () => {
    const paths = await clientPaths();
    const wrong = `wrong-${h.password}-x`;
    const target = await resolveTarget(
      { host: h.host, port: h.port, username: h.user, password: wrong },
      paths,
    );
    await assert.rejects(connect(target, { timeoutMs: TIMEOUT_MS, paths }), (e: unknown) => {
      sshError(
        'auth-failed',
        new RegExp(reEscape(`Authentication failed for ${h.user}@127.0.0.1:${h.port}`)),
        /tried: .*password/,
        /Server accepts: .*publickey.*password|Server accepts: .*password.*publickey/,
      )(e);
      const err = e as SshError;
      for (const text of [err.message, err.hint, String(err.stack)]) {
        assert.ok(!text.includes(wrong), 'the password must not appear');
      }
      return true;
    });
  });

  it('reports a key the server does not accept as auth-failed, naming the key', {
    timeout: 30_000,
  }, async () => {
    const paths = await clientPaths();
    const target = await resolveTarget({ host: 'testhost', keyFilename: h.unauthorisedKeyPath }, paths);
    await assert.rejects(
      connect(target, { timeoutMs: TIMEOUT_MS, paths }),
      sshError('auth-failed', new RegExp(`tried: publickey \\(${reEscape(h.unauthorisedKeyPath)}\\)`)),
    );
  });

  it('reports a closed port as refused', { timeout: 20_000 }, async () => {
    const paths = await clientPaths();
    const port = await freePort();
    const target = await resolveTarget({ host: '127.0.0.1', port, username: h.user }, paths);
    await assert.rejects(
      connect(target, { timeoutMs: TIMEOUT_MS, paths }),
      sshError('refused', new RegExp(reEscape(`127.0.0.1:${port}`))),
    );
  });

  it('reports a name that is neither an alias nor resolvable as unknown-host', {
    timeout: 20_000,
  }, async () => {
    const paths = await clientPaths();
    const target = await resolveTarget({ host: 'no-such-host.invalid' }, paths);
    await assert.rejects(
      connect(target, { timeoutMs: TIMEOUT_MS, paths }),
      sshError('unknown-host', /'no-such-host\.invalid'/, new RegExp(reEscape(paths.sshConfig))),
    );
  });

  it('refuses a changed host key, naming both fingerprints and the fix', { timeout: 20_000 }, async () => {
    const other = ssh2.utils.generateKeyPairSync('ed25519').public.split(' ');
    const otherBlob = Buffer.from(other[1] ?? '', 'base64');
    const paths = await clientPaths(`[127.0.0.1]:${h.port} ${other[0]} ${other[1]}\n`);
    const before = await readFile(paths.knownHosts, 'utf8');
    const target = await resolveTarget({ host: 'testhost' }, paths);
    await assert.rejects(
      connect(target, { timeoutMs: TIMEOUT_MS, paths }),
      sshError(
        'host-key-changed',
        new RegExp(reEscape(`[127.0.0.1]:${h.port}`)),
        new RegExp(reEscape(h.hostKeyFingerprint)),
        new RegExp(reEscape(fingerprint(otherBlob))),
        new RegExp(reEscape(`${paths.knownHosts}:1`)),
        /ssh-keygen -R/,
      ),
    );
    assert.equal(await readFile(paths.knownHosts, 'utf8'), before);
  });

  it('connects through a ProxyJump alias, and closing the connection closes the jump hop', {
    timeout: 30_000,
  }, async () => {
    await writeFile(
      join(h.clientHome, '.ssh', 'config-jump'),
      [
        'Include config', // relative to ~/.ssh: brings in `testhost`
        'Host viajump',
        '  HostName 127.0.0.1',
        `  Port ${h.port}`,
        `  User ${h.user}`,
        `  IdentityFile ${h.userKeyPath}`,
        '  IdentitiesOnly yes',
        '  ProxyJump testhost',
        '',
      ].join('\n'),
    );
    const paths = await clientPaths('', 'config-jump');
    const target = await resolveTarget({ host: 'viajump' }, paths);
    assert.equal(target.jumps.length, 1);
    assert.equal(target.jumps[0]?.port, h.port);
    const baseline = establishedTo(h.port);
    const client = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
    try {
      // The forwarded connection arrives from sshd itself, so the target sees the jump's loopback peer.
      assert.equal(
        await exec(client, 'whoami && echo "$SSH_CONNECTION" | cut -d" " -f1'),
        `${h.user}\n127.0.0.1`,
      );
      assert.equal(establishedTo(h.port), baseline + 2); // us -> hop, and the hop's forward -> target
    } finally {
      await close(client);
    }
    const deadline = Date.now() + 5_000;
    while (establishedTo(h.port) > baseline && Date.now() < deadline) await delay(50);
    assert.equal(establishedTo(h.port), baseline, 'the jump connection should be closed with the target');
    // Both hops were verified under the same name: recorded once.
    assert.equal((await readFile(paths.knownHosts, 'utf8')).trim().split('\n').length, 1);
  });

  it('times out against a TCP listener that never speaks SSH, within timeout + 1 s', {
    timeout: 20_000,
  }, async () => {
    const accepted: Socket[] = [];
    const server: Server = createServer((s) => {
      accepted.push(s);
      s.on('error', () => {});
      s.resume(); // read (and ignore) what the client sends, so its close is noticed
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const paths = await clientPaths();
      const target = await resolveTarget({ host: '127.0.0.1', port, username: h.user }, paths);
      const timeoutMs = 1_500;
      const started = Date.now();
      await assert.rejects(
        connect(target, { timeoutMs, paths }),
        sshError('timeout', new RegExp(reEscape(`127.0.0.1:${port}`)), /1500 ms/),
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= timeoutMs - 50 && elapsed < timeoutMs + 1_000, `took ${elapsed} ms`);
      // The half-open connection was torn down, not left behind.
      assert.equal(accepted.length, 1);
      const sock = accepted[0] as Socket;
      if (!sock.destroyed) await Promise.race([new Promise((r) => sock.once('close', r)), delay(2_000)]);
      assert.ok(sock.destroyed || sock.readableEnded, 'server side should see the connection closed');
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  describe('host key options and algorithms from lookup entries', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ssh-host-options-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('connects with the right pinned fingerprint and leaves known_hosts alone', {
      timeout: 30_000,
    }, async () => {
      const paths = await clientPaths();
      const lookup = lookupIn({
        testhost: { hostKey: { fingerprints: [h.hostKeyFingerprint], policy: 'strict' } },
      });
      const target = await resolveTarget({ host: 'testhost', lookup }, paths);
      const client = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
      try {
        assert.equal(await exec(client, 'whoami'), h.user);
      } finally {
        await close(client);
      }
      assert.equal(await readFile(paths.knownHosts, 'utf8'), '');
    });

    it('refuses a key that is not pinned, naming the host and both fingerprints', {
      timeout: 30_000,
    }, async () => {
      const paths = await clientPaths();
      const wrong = fingerprint(
        Buffer.from(ssh2.utils.generateKeyPairSync('ed25519').public.split(' ')[1] ?? '', 'base64'),
      );
      // Policy off does not weaken a pin.
      const lookup = lookupIn({ testhost: { hostKey: { fingerprints: [wrong], policy: 'off' } } });
      const target = await resolveTarget({ host: 'testhost', lookup }, paths);
      await assert.rejects(
        connect(target, { timeoutMs: TIMEOUT_MS, paths }),
        sshError(
          'host-key-changed',
          new RegExp(reEscape(`[127.0.0.1]:${h.port}`)),
          new RegExp(reEscape(h.hostKeyFingerprint)),
          new RegExp(reEscape(wrong)),
          /pinned/,
        ),
      );
      assert.equal(await readFile(paths.knownHosts, 'utf8'), '');
    });

    it('uses and writes a known_hosts file of the host’s own', { timeout: 30_000 }, async () => {
      const paths = await clientPaths();
      const own = join(dir, 'own', 'known_hosts');
      const lookup = lookupIn({ testhost: { hostKey: { knownHostsFile: own } } });
      const target = await resolveTarget({ host: 'testhost', lookup }, paths);
      await close(await connect(target, { timeoutMs: TIMEOUT_MS, paths }));
      assert.equal(await readFile(paths.knownHosts, 'utf8'), '');
      const line = (await readFile(own, 'utf8')).trim();
      assert.equal(line, `[127.0.0.1]:${h.port} ${h.hostKeyPublicLine}`);

      // Strict now passes on that file alone (the default file is still empty)...
      const strict = await resolveTarget(
        {
          host: 'testhost',
          lookup: lookupIn({ testhost: { hostKey: { knownHostsFile: own, policy: 'strict' } } }),
        },
        paths,
      );
      await close(await connect(strict, { timeoutMs: TIMEOUT_MS, paths }));
      // ...while without it, strict refuses the unknown host.
      const plain = await resolveTarget(
        { host: 'testhost', defaults: { hostKey: { policy: 'strict' } } },
        paths,
      );
      await assert.rejects(connect(plain, { timeoutMs: TIMEOUT_MS, paths }), sshError('host-key-unknown'));
    });

    it('warns on stderr at every connect when host key checking is off', { timeout: 30_000 }, async () => {
      const paths = await clientPaths();
      const lookup = lookupIn({ testhost: { hostKey: { policy: 'off' } } });
      const target = await resolveTarget({ host: 'testhost', lookup }, paths);
      const stderr = await captureStderr(async () => {
        await close(await connect(target, { timeoutMs: TIMEOUT_MS, paths }));
        await close(await connect(target, { timeoutMs: TIMEOUT_MS, paths }));
      });
      const warnings = stderr
        .split('\n')
        .filter((l) => / warn .*Host key checking is off for testhost/.test(l));
      assert.equal(warnings.length, 2, stderr);
      assert.match(warnings[0] ?? '', new RegExp(reEscape(`[127.0.0.1]:${h.port}`)));
      assert.equal(await readFile(paths.knownHosts, 'utf8'), '');
    });

    it('checks each hop with its own options: a pinned jump host, a target with its own known_hosts', {
      timeout: 30_000,
    }, async () => {
      const paths = await clientPaths();
      const own = join(dir, 'target_known_hosts');
      const base = { hostName: '127.0.0.1', port: h.port, user: h.user, identityFile: h.userKeyPath };
      const lookup = lookupIn({
        bastion: { ...base, hostKey: { fingerprints: [h.hostKeyFingerprint] } },
        inner: { ...base, proxyJump: 'bastion', hostKey: { knownHostsFile: own } },
      });
      const target = await resolveTarget({ host: 'inner', lookup }, paths);
      assert.deepEqual(
        target.jumps.map((j) => j.name),
        ['bastion'],
      );
      const client = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
      try {
        assert.equal(await exec(client, 'whoami'), h.user);
      } finally {
        await close(client);
      }
      assert.equal(await readFile(paths.knownHosts, 'utf8'), '');
      assert.equal((await readFile(own, 'utf8')).trim().split('\n').length, 1);
    });
  });

  describe('a server with only legacy key exchange', () => {
    let legacy: SshdHarness;
    before(async () => {
      // OpenSSH 9.2 still has diffie-hellman-group14-sha1; ssh2 supports it but leaves it out by default.
      legacy = await startSshd({ extraConfig: 'KexAlgorithms diffie-hellman-group14-sha1\n' });
    });
    after(async () => {
      await legacy?.stop();
    });

    const entry = (extra: HostEntry = {}): HostEntry => ({
      hostName: legacy.host,
      port: legacy.port,
      user: legacy.user,
      identityFile: legacy.userKeyPath,
      ...extra,
    });

    it('fails with an error naming the host, the kex list, what the server offers and the fix', {
      timeout: 30_000,
    }, async () => {
      const paths = await clientPaths();
      const target = await resolveTarget(
        { host: 'old-switch', lookup: lookupIn({ 'old-switch': entry() }) },
        paths,
      );
      await assert.rejects(connect(target, { timeoutMs: TIMEOUT_MS, paths }), (e: unknown) => {
        sshError(
          'algorithm-mismatch',
          /old-switch/,
          new RegExp(reEscape(`127.0.0.1:${legacy.port}`)),
          /key exchange algorithm \(the kex list\)/,
          /offers diffie-hellman-group14-sha1, none/,
          /algorithms: \{ kex: \{ append: \[diffie-hellman-group14-sha1\] \} \}/,
        )(e);
        return true;
      });
    });

    it('connects and runs a command once the host’s algorithms append it', { timeout: 30_000 }, async () => {
      const paths = await clientPaths();
      const lookup = lookupIn({
        'old-switch': entry({ algorithms: { kex: { append: ['diffie-hellman-group14-sha1'] } } }),
      });
      const target = await resolveTarget({ host: 'old-switch', lookup }, paths);
      const client = await connect(target, { timeoutMs: TIMEOUT_MS, paths });
      try {
        assert.equal(await exec(client, 'whoami'), legacy.user);
      } finally {
        await close(client);
      }
    });

    it('reports an algorithm name ssh2 does not know as a config error naming the host', {
      timeout: 30_000,
    }, async () => {
      const paths = await clientPaths();
      const lookup = lookupIn({ 'old-switch': entry({ algorithms: { kex: ['no-such-kex'] } }) });
      const target = await resolveTarget({ host: 'old-switch', lookup }, paths);
      await assert.rejects(connect(target, { timeoutMs: TIMEOUT_MS, paths }), (e: unknown) => {
        sshError('config', /old-switch/, /Unsupported algorithm: no-such-kex/)(e);
        assert.match((e as SshError).hint, /algorithms/);
        return true;
      });
    });
  });
});
