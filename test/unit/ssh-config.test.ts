import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  defaultSshPaths,
  type HostEntry,
  resolveTarget,
  SshError,
  type SshPaths,
} from '../../src/ssh/index.js';

let root: string;
let paths: SshPaths;
let n = 0;

/** A fresh HOME per test, with the given files under it (paths relative to HOME). */
async function home(files: Record<string, string>): Promise<SshPaths> {
  const dir = join(root, `home${++n}`);
  await mkdir(join(dir, '.ssh'), { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return { home: dir, sshConfig: join(dir, '.ssh', 'config'), knownHosts: join(dir, '.ssh', 'known_hosts') };
}

const config = (...lines: string[]) => ({ '.ssh/config': `${lines.join('\n')}\n` });

/** A lookup callback over a fixed table, recording the names it was asked for. */
function table(entries: Record<string, HostEntry>) {
  const asked: string[] = [];
  const lookup = (name: string): HostEntry | undefined => {
    asked.push(name);
    return entries[name];
  };
  return { lookup, asked };
}

const configError =
  (...patterns: RegExp[]) =>
  (e: unknown) => {
    assert.ok(e instanceof SshError, `not an SshError: ${String(e)}`);
    assert.equal(e.code, 'config');
    for (const p of patterns) assert.match(`${e.message}\n${e.hint}`, p);
    return true;
  };

describe('resolveTarget', { timeout: 20_000 }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ssh-config-test-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    paths = await home({});
  });

  it('resolves an alias: HostName, User, Port, IdentityFile with ~ and tokens, IdentitiesOnly', async () => {
    const p = await home(
      config(
        'Host web',
        '  HostName 10.1.2.3',
        '  User deploy',
        '  Port 2222',
        '  IdentityFile ~/.ssh/id_%r_%h',
        '  IdentityFile %d/keys/second',
        '  IdentitiesOnly yes',
      ),
    );
    const t = await resolveTarget({ host: 'web' }, p);
    assert.equal(t.alias, 'web');
    assert.equal(t.host, '10.1.2.3');
    assert.equal(t.username, 'deploy');
    assert.equal(t.port, 2222);
    assert.deepEqual(t.identityFiles, [join(p.home, '.ssh/id_deploy_10.1.2.3'), join(p.home, 'keys/second')]);
    assert.equal(t.identitiesOnly, true);
    assert.deepEqual(t.jumps, []);
    assert.equal(t.id, 'deploy@10.1.2.3:2222');
  });

  it('works without any ssh config: local user, port 22, existing default keys only', async () => {
    const t = await resolveTarget({ host: 'example.org' }, paths);
    assert.equal(t.host, 'example.org');
    assert.equal(t.port, 22);
    assert.equal(t.username, userInfo().username);
    assert.deepEqual(t.identityFiles, []);
    assert.equal(t.identitiesOnly, false);

    const withKeys = await home({ '.ssh/id_rsa': 'x', '.ssh/id_ed25519': 'x' });
    const t2 = await resolveTarget({ host: 'example.org' }, withKeys);
    assert.deepEqual(t2.identityFiles, [
      join(withKeys.home, '.ssh/id_ed25519'),
      join(withKeys.home, '.ssh/id_rsa'),
    ]);
  });

  it('expands %h in HostName and applies Host globs with negation, first value winning', async () => {
    const p = await home(
      config(
        'Host *.prod !db.prod',
        '  User deploy',
        'Host *.short',
        '  HostName %h.example.com',
        'Host *',
        '  User fallback',
        '  Port 2200',
      ),
    );
    const web = await resolveTarget({ host: 'web.prod' }, p);
    assert.equal(web.username, 'deploy');
    assert.equal(web.port, 2200);
    const db = await resolveTarget({ host: 'db.prod' }, p);
    assert.equal(db.username, 'fallback');
    const short = await resolveTarget({ host: 'box.short' }, p);
    assert.equal(short.host, 'box.short.example.com');
    assert.equal(short.id, 'fallback@box.short.example.com:2200');
  });

  it('explicit request fields win over the config; key_filename becomes the only identity', async () => {
    const p = await home({
      ...config('Host web', '  HostName web.example', '  User deploy', '  Port 2222', '  IdentityFile ~/a'),
      'keys/mine': 'x',
    });
    const t = await resolveTarget(
      { host: 'web', username: 'root', port: 22, keyFilename: '~/keys/mine', password: 'pw-123' },
      p,
    );
    assert.equal(t.username, 'root');
    assert.equal(t.port, 22);
    assert.deepEqual(t.identityFiles, [join(p.home, 'keys/mine')]);
    assert.equal(t.identitiesOnly, true);
    assert.equal(t.password, 'pw-123');
    assert.equal(t.id, 'root@web.example:22');
  });

  it('rejects a key_filename that does not exist, and a bad Port', async () => {
    await assert.rejects(
      resolveTarget({ host: 'x', keyFilename: join(paths.home, 'nope') }, paths),
      (e: unknown) => e instanceof SshError && e.code === 'config' && /nope/.test(e.message),
    );
    const p = await home(config('Host bad', '  Port http'));
    await assert.rejects(
      resolveTarget({ host: 'bad' }, p),
      (e: unknown) => e instanceof SshError && e.code === 'config',
    );
  });

  it('understands user@host:port in the host string; explicit fields still win', async () => {
    const t = await resolveTarget({ host: 'alice@10.0.0.5:2022' }, paths);
    assert.equal(t.id, 'alice@10.0.0.5:2022');
    assert.equal(t.alias, 'alice@10.0.0.5:2022');
    const t2 = await resolveTarget({ host: 'alice@10.0.0.5:2022', username: 'bob' }, paths);
    assert.equal(t2.id, 'bob@10.0.0.5:2022');
  });

  it('follows Include with globs in lexical order, ~ paths and nested includes', async () => {
    const p = await home({
      ...config('Include conf.d/*.conf', 'Host *', '  User fallback'),
      '.ssh/conf.d/20-late.conf': 'Host app\n  User late\n  Port 2020\n',
      '.ssh/conf.d/10-early.conf': 'Host app\n  User early\n  Include ~/.ssh/nested/*\n',
      '.ssh/conf.d/ignored.txt': 'Host app\n  HostName wrong.example\n',
      '.ssh/nested/inner': 'HostName app.internal\n',
    });
    const t = await resolveTarget({ host: 'app' }, p);
    assert.equal(t.username, 'early'); // 10-early before 20-late
    assert.equal(t.port, 2020); // only 20-late sets it
    assert.equal(t.host, 'app.internal'); // nested include, inside early's Host app block
    const other = await resolveTarget({ host: 'other' }, p);
    assert.equal(other.username, 'fallback');
    assert.equal(other.host, 'other');
  });

  it('applies an Include inside a Host block only to that block, and restores the block after it', async () => {
    const p = await home({
      ...config(
        'Include top.conf',
        'Port 2022', // top level again after the include, although top.conf ended inside `Host zeta`
        'Host special',
        '  Include special.conf',
        '  IdentitiesOnly yes', // still inside `Host special` after the include
      ),
      '.ssh/top.conf': 'Host zeta\n  User z\n',
      // Its own `Host *` applies only when the including block does (OpenSSH: never-match otherwise).
      '.ssh/special.conf': 'User sp\nHostName special.example\nHost *\n  IdentityFile ~/from-special\n',
    });
    const s = await resolveTarget({ host: 'special' }, p);
    assert.equal(s.username, 'sp');
    assert.equal(s.host, 'special.example');
    assert.equal(s.port, 2022);
    assert.equal(s.identitiesOnly, true);
    assert.deepEqual(s.identityFiles, [join(p.home, 'from-special')]);
    const o = await resolveTarget({ host: 'other' }, p);
    assert.equal(o.host, 'other');
    assert.equal(o.username, userInfo().username);
    assert.equal(o.port, 2022);
    assert.equal(o.identitiesOnly, false);
    assert.deepEqual(o.identityFiles, []);
  });

  it('stops an Include cycle with a config error', async () => {
    const p = await home({ ...config('Include loop.conf'), '.ssh/loop.conf': 'Include loop.conf\n' });
    await assert.rejects(
      resolveTarget({ host: 'x' }, p),
      (e: unknown) => e instanceof SshError && e.code === 'config' && /Include/.test(e.message),
    );
  });

  it('resolves a multi-hop ProxyJump through aliases, prepending the first hop’s own ProxyJump', async () => {
    const p = await home(
      config(
        'Host target',
        '  HostName target.internal',
        '  User t',
        '  ProxyJump bastion,admin@inner:2200',
        'Host bastion',
        '  HostName bastion.example',
        '  User b',
        '  IdentityFile ~/.ssh/bastion_key',
        '  ProxyJump gw',
        'Host gw',
        '  HostName gw.example',
        '  Port 2222',
        'Host inner',
        '  HostName inner.internal',
        '  User ignored',
        '  ProxyJump ignored-because-not-first',
        'Host direct',
        '  ProxyJump none',
      ),
    );
    const t = await resolveTarget({ host: 'target' }, p);
    assert.equal(t.id, 't@target.internal:22');
    assert.deepEqual(
      t.jumps.map((h) => `${h.username}@${h.host}:${h.port}`),
      [`${userInfo().username}@gw.example:2222`, 'b@bastion.example:22', 'admin@inner.internal:2200'],
    );
    assert.deepEqual(t.jumps[1]?.identityFiles, [join(p.home, '.ssh/bastion_key')]);
    const d = await resolveTarget({ host: 'direct' }, p);
    assert.deepEqual(d.jumps, []);
  });

  it('stops a ProxyJump loop with a config error', async () => {
    const p = await home(config('Host a', '  ProxyJump b', 'Host b', '  ProxyJump a'));
    await assert.rejects(
      resolveTarget({ host: 'a' }, p),
      (e: unknown) => e instanceof SshError && e.code === 'config' && /ProxyJump/.test(e.message),
    );
  });

  describe('with lookup and defaults', () => {
    it('per field: request > lookup(name) > ssh config > defaults > built-ins', async () => {
      const p = await home({
        ...config(
          'Host web',
          '  HostName from-ssh-config.example',
          '  User ssh-user',
          '  Port 2201',
          '  IdentityFile ~/.ssh/from_ssh_config',
        ),
        'keys/entry': 'x',
        'keys/default': 'x',
        'keys/explicit': 'x',
      });
      const defaults: HostEntry = { user: 'dflt-user', port: 2203, identityFile: '~/keys/default' };

      // ssh config over defaults: every field set there wins, and its IdentityFile keeps agent keys.
      const fromSsh = await resolveTarget({ host: 'web', defaults }, p);
      assert.equal(fromSsh.id, 'ssh-user@from-ssh-config.example:2201');
      assert.deepEqual(fromSsh.identityFiles, [join(p.home, '.ssh/from_ssh_config')]);
      assert.equal(fromSsh.identitiesOnly, false);

      // lookup over ssh config; its hostName replaces HostName, its key means IdentitiesOnly.
      const { lookup, asked } = table({
        web: { hostName: '10.9.9.9', user: 'entry-user', port: 2202, identityFile: '~/keys/entry' },
      });
      const fromEntry = await resolveTarget({ host: 'web', lookup, defaults }, p);
      assert.deepEqual(asked, ['web']);
      assert.equal(fromEntry.name, 'web');
      assert.equal(fromEntry.id, 'entry-user@10.9.9.9:2202');
      assert.deepEqual(fromEntry.identityFiles, [join(p.home, 'keys/entry')]);
      assert.equal(fromEntry.identitiesOnly, true);

      // Explicit request fields over all.
      const explicit = await resolveTarget(
        { host: 'web', lookup, defaults, username: 'me', port: 22, keyFilename: '~/keys/explicit' },
        p,
      );
      assert.equal(explicit.id, 'me@10.9.9.9:22');
      assert.deepEqual(explicit.identityFiles, [join(p.home, 'keys/explicit')]);
      // ...and so does user@host:port in the host string.
      const inline = await resolveTarget({ host: 'me@web:2222', lookup, defaults }, p);
      assert.equal(inline.id, 'me@10.9.9.9:2222');

      // A name neither the lookup nor the ssh config knows: defaults, then built-ins.
      const other = await resolveTarget({ host: 'other.example', lookup, defaults }, p);
      assert.equal(other.id, 'dflt-user@other.example:2203');
      assert.deepEqual(other.identityFiles, [join(p.home, 'keys/default')]);
      assert.equal(other.identitiesOnly, true);
      const bare = await resolveTarget({ host: 'other.example', lookup }, p);
      assert.equal(bare.id, `${userInfo().username}@other.example:22`);
      assert.equal(bare.identitiesOnly, false);
      assert.equal(bare.hostKey, undefined);
      assert.equal(bare.algorithms, undefined);
    });

    it('a partial entry leaves the other fields to the ssh config; lookup is by the alias', async () => {
      const p = await home(config('Host sw1', '  HostName 10.0.0.1', '  User admin', '  Port 2022'));
      const { lookup } = table({ sw1: { user: 'netops' } });
      const t = await resolveTarget({ host: 'sw1', lookup }, p);
      assert.equal(t.id, 'netops@10.0.0.1:2022');
      assert.equal(t.alias, 'sw1');
    });

    it('rejects an entry key or a default key that does not exist, naming the host', async () => {
      const { lookup } = table({ sw1: { identityFile: '~/missing_key' } });
      await assert.rejects(resolveTarget({ host: 'sw1', lookup }, paths), configError(/missing_key/, /sw1/));
      await assert.rejects(
        resolveTarget({ host: 'sw2', defaults: { identityFile: '/nonexistent/key' } }, paths),
        configError(/\/nonexistent\/key/, /sw2/),
      );
      await assert.rejects(
        resolveTarget({ host: 'sw3', lookup: () => ({ port: 70000 }) }, paths),
        configError(/70000/),
      );
    });

    it('resolves jump hops through lookup: an entry’s jump, and an ssh-config ProxyJump naming an entry', async () => {
      const p = await home({
        ...config(
          'Host inner',
          '  HostName inner.internal',
          '  ProxyJump bastion',
          'Host bastion',
          '  HostName wrong-bastion.example',
          '  User ignored',
        ),
        'keys/bastion': 'x',
      });
      const { lookup, asked } = table({
        'core-sw1': { hostName: '10.0.0.1', user: 'admin', proxyJump: 'bastion' },
        bastion: {
          hostName: 'bastion.example',
          user: 'jump',
          port: 2222,
          identityFile: '~/keys/bastion',
          proxyJump: 'gw',
          hostKey: { policy: 'strict' },
        },
        gw: { hostName: 'gw.example', user: 'gwuser' },
      });
      const t = await resolveTarget({ host: 'core-sw1', lookup }, p);
      assert.equal(t.id, 'admin@10.0.0.1:22');
      assert.deepEqual(
        t.jumps.map((h) => `${h.name}=${h.username}@${h.host}:${h.port}`),
        ['gw=gwuser@gw.example:22', 'bastion=jump@bastion.example:2222'],
      );
      assert.deepEqual(t.jumps[1]?.identityFiles, [join(p.home, 'keys/bastion')]);
      assert.equal(t.jumps[1]?.identitiesOnly, true);
      assert.deepEqual(t.jumps[1]?.hostKey, { policy: 'strict' });
      assert.deepEqual(asked, ['core-sw1', 'bastion', 'gw']);

      // The ssh config's ProxyJump names `bastion`: the entry for it wins over its Host block.
      const i = await resolveTarget({ host: 'inner', lookup }, p);
      assert.equal(i.host, 'inner.internal');
      assert.deepEqual(
        i.jumps.map((h) => `${h.username}@${h.host}:${h.port}`),
        ['gwuser@gw.example:22', 'jump@bastion.example:2222'],
      );
      // An entry's jump `none` overrides the ssh config's ProxyJump.
      const direct = await resolveTarget({ host: 'inner', lookup: () => ({ proxyJump: 'none' }) }, p);
      assert.deepEqual(direct.jumps, []);
    });

    it('applies a default jump host to every host but the jump host itself', async () => {
      const { lookup } = table({ bastion: { hostName: 'bastion.example' } });
      const defaults: HostEntry = { proxyJump: 'bastion' };
      const t = await resolveTarget({ host: 'app.internal', lookup, defaults }, paths);
      assert.deepEqual(
        t.jumps.map((h) => h.host),
        ['bastion.example'],
      );
      const b = await resolveTarget({ host: 'bastion', lookup, defaults }, paths);
      assert.deepEqual(b.jumps, []);
      // The ssh config's ProxyJump outranks the default one.
      const p = await home(config('Host app', '  ProxyJump none'));
      assert.deepEqual((await resolveTarget({ host: 'app', lookup, defaults }, p)).jumps, []);
    });

    it('stops a jump loop between entries with a config error', async () => {
      const { lookup } = table({ a: { proxyJump: 'b' }, b: { proxyJump: 'a' } });
      await assert.rejects(resolveTarget({ host: 'a', lookup }, paths), configError(/ProxyJump|loop/));
    });

    it('merges hostKey and algorithms field by field: entry over defaults; normalises fingerprints', async () => {
      const fp = `SHA256:${'x'.repeat(42)}A`;
      const { lookup } = table({
        sw1: {
          hostKey: { fingerprints: [`${fp.slice(7)}=`], knownHostsFile: '~/kh' },
          algorithms: { kex: { append: ['diffie-hellman-group14-sha1'] } },
        },
      });
      const defaults: HostEntry = {
        hostKey: { policy: 'strict', knownHostsFile: '/etc/kh' },
        algorithms: { kex: ['curve25519-sha256'], cipher: ['aes128-ctr'] },
      };
      const t = await resolveTarget({ host: 'sw1', lookup, defaults }, paths);
      assert.deepEqual(t.hostKey, {
        policy: 'strict',
        knownHostsFile: join(paths.home, 'kh'),
        fingerprints: [fp],
      });
      assert.deepEqual(t.algorithms, {
        kex: { append: ['diffie-hellman-group14-sha1'] },
        cipher: ['aes128-ctr'],
      });
      const other = await resolveTarget({ host: 'sw2', lookup, defaults }, paths);
      assert.deepEqual(other.hostKey, { policy: 'strict', knownHostsFile: '/etc/kh' });

      await assert.rejects(
        resolveTarget({ host: 'sw1', lookup: () => ({ hostKey: { fingerprints: ['MD5:aa:bb'] } }) }, paths),
        configError(/MD5:aa:bb/, /sw1/, /ssh-keygen -lf/),
      );
    });
  });

  it('defaultSshPaths() follows HOME at call time', () => {
    const saved = process.env.HOME;
    try {
      process.env.HOME = '/tmp/some-home';
      assert.deepEqual(defaultSshPaths(), {
        home: '/tmp/some-home',
        sshConfig: '/tmp/some-home/.ssh/config',
        knownHosts: '/tmp/some-home/.ssh/known_hosts',
      });
    } finally {
      process.env.HOME = saved;
    }
  });
});
