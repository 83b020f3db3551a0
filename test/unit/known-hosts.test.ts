import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { connectAlgorithms, hostKeyAlgorithms } from '../../src/ssh/algorithms.js';
import { SshError } from '../../src/ssh/errors.js';
import {
  fingerprint,
  keyTypeOf,
  lookupHost,
  normalizeFingerprint,
  verifyHostKey,
} from '../../src/ssh/known-hosts.js';

let dir: string;
let n = 0;
const file = () => join(dir, `known_hosts_${++n}`);

/** A fresh public key: its `type base64` text and its wire-format blob. */
function newKey(type: 'ed25519' | 'ecdsa' = 'ed25519') {
  const pub = ssh2.utils.generateKeyPairSync(type, type === 'ecdsa' ? { bits: 256 } : {}).public;
  const [keyType = '', base64 = ''] = pub.split(' ');
  return { line: `${keyType} ${base64}`, blob: Buffer.from(base64, 'base64'), keyType };
}

/** The `|1|salt|hmac` form OpenSSH writes with HashKnownHosts: HMAC-SHA1 keyed with a random salt. */
function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const isError =
  (code: string, ...patterns: RegExp[]) =>
  (e: unknown) => {
    assert.ok(e instanceof SshError, `not an SshError: ${String(e)}`);
    assert.equal(e.code, code);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('known_hosts', { timeout: 30_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'known-hosts-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fingerprint() prints what ssh-keygen -lf prints', () => {
    for (const type of ['ed25519', 'rsa', 'ecdsa']) {
      const path = join(dir, `fp_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path]);
      const expected = execFileSync('ssh-keygen', ['-lf', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1];
      const pub = execFileSync('cat', [`${path}.pub`], { encoding: 'utf8' });
      const blob = Buffer.from(pub.split(' ')[1] ?? '', 'base64');
      assert.match(expected ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.equal(fingerprint(blob), expected);
    }
  });

  it('matches plain, [host]:port, comma lists, wildcards and negation; skips comments and @cert-authority', async () => {
    const k = newKey();
    const f = file();
    await writeFile(
      f,
      [
        '# comment',
        '',
        `@cert-authority * ${k.line}`,
        `plain.example ${k.line}`,
        `[ported.example]:2222 ${k.line}`,
        `one.example,two.example,10.0.0.9 ${k.line}`,
        `*.wild.example,!bad.wild.example ${k.line}`,
        `10.1.1.? ${k.line}`,
        `[10.2.2.*]:22?? ${k.line}`,
      ].join('\n'),
    );
    const lines = async (host: string, port = 22) => (await lookupHost(f, host, port)).map((e) => e.line);
    assert.deepEqual(await lines('plain.example'), [4]);
    assert.deepEqual(await lines('PLAIN.example'), [4]); // host names are case-insensitive
    assert.deepEqual(await lines('plain.example', 2222), []); // non-22 port needs the [host]:port form
    assert.deepEqual(await lines('ported.example', 2222), [5]);
    assert.deepEqual(await lines('ported.example'), []);
    assert.deepEqual(await lines('two.example'), [6]);
    assert.deepEqual(await lines('10.0.0.9'), [6]);
    assert.deepEqual(await lines('a.wild.example'), [7]);
    assert.deepEqual(await lines('bad.wild.example'), []);
    assert.deepEqual(await lines('10.1.1.7'), [8]);
    assert.deepEqual(await lines('10.1.1.70'), []); // ? is exactly one character
    assert.deepEqual(await lines('10.2.2.5', 2201), [9]);
    assert.deepEqual(await lines('unknown.example'), []);
    // The @cert-authority line's `*` matches every host, but it is not a host key.
    assert.deepEqual(await lookupHost(f, 'zzz.example', 22), []);
  });

  it('matches hashed entries (|1|salt|hmac), including the [host]:port form, and ssh-keygen -H output', async () => {
    const k = newKey();
    const f = file();
    await writeFile(
      f,
      `${hashed('hashed.example')} ${k.line}\n${hashed('[hashed.example]:2200')} ${k.line}\n`,
    );
    assert.deepEqual(
      (await lookupHost(f, 'hashed.example', 22)).map((e) => e.line),
      [1],
    );
    assert.deepEqual(
      (await lookupHost(f, 'hashed.example', 2200)).map((e) => e.line),
      [2],
    );
    assert.deepEqual(await lookupHost(f, 'other.example', 22), []);
    await verifyHostKey({ file: f, host: 'hashed.example', port: 2200, key: k.blob, policy: 'strict' });

    // Independently: let OpenSSH hash a file and find the entries in it.
    const g = file();
    await writeFile(g, `byssh.example ${k.line}\n[byssh.example]:2022 ${k.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', g], { stdio: 'ignore' });
    const text = await readFile(g, 'utf8');
    assert.ok(!text.includes('byssh.example'), 'ssh-keygen -H should have hashed the names');
    assert.equal((await lookupHost(g, 'byssh.example', 22)).length, 1);
    assert.equal((await lookupHost(g, 'byssh.example', 2022)).length, 1);
  });

  it('accept-new appends an unknown host, creating the directory 0700 and the file 0600', async () => {
    const k = newKey();
    const f = join(dir, 'fresh', '.ssh', 'known_hosts');
    await verifyHostKey({ file: f, host: '127.0.0.1', port: 2222, key: k.blob });
    assert.equal(await readFile(f, 'utf8'), `[127.0.0.1]:2222 ${k.line}\n`);
    assert.equal((await stat(f)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'fresh', '.ssh'))).mode & 0o777, 0o700);
    // Now known: accepted by strict, and not appended again.
    await verifyHostKey({ file: f, host: '127.0.0.1', port: 2222, key: k.blob, policy: 'strict' });
    await verifyHostKey({ file: f, host: 'other.example', port: 22, key: k.blob });
    assert.equal(await readFile(f, 'utf8'), `[127.0.0.1]:2222 ${k.line}\nother.example ${k.line}\n`);
  });

  it('appends on a new line even when the file lacks a trailing newline', async () => {
    const a = newKey();
    const b = newKey();
    const f = file();
    await writeFile(f, `a.example ${a.line}`);
    await verifyHostKey({ file: f, host: 'b.example', port: 22, key: b.blob });
    assert.equal(await readFile(f, 'utf8'), `a.example ${a.line}\nb.example ${b.line}\n`);
  });

  it('refuses a changed key of the same type, naming both fingerprints, file:line and the fix', async () => {
    const old = newKey();
    const offered = newKey();
    const f = file();
    await writeFile(f, `# header\n[10.9.9.9]:2200 ${old.line}\n`);
    const before = await readFile(f, 'utf8');
    await assert.rejects(
      verifyHostKey({ file: f, host: '10.9.9.9', port: 2200, key: offered.blob }),
      isError(
        'host-key-changed',
        /\[10\.9\.9\.9\]:2200/,
        new RegExp(reEscape(fingerprint(offered.blob))),
        new RegExp(reEscape(fingerprint(old.blob))),
        new RegExp(`${reEscape(f)}:2\\b`),
        new RegExp(reEscape(`ssh-keygen -R "[10.9.9.9]:2200" -f ${f}`)),
      ),
    );
    assert.equal(await readFile(f, 'utf8'), before, 'a refused key must not be recorded');
  });

  it('accepts (and records) a key of a type not yet known for the host', async () => {
    const ed = newKey('ed25519');
    const ec = newKey('ecdsa');
    const f = file();
    await writeFile(f, `multi.example ${ed.line}\n`);
    await verifyHostKey({ file: f, host: 'multi.example', port: 22, key: ec.blob });
    assert.equal((await lookupHost(f, 'multi.example', 22)).length, 2);
  });

  it('refuses a @revoked key even for an unknown host', async () => {
    const k = newKey();
    const f = file();
    await writeFile(f, `@revoked * ${k.line}\n`);
    await assert.rejects(
      verifyHostKey({ file: f, host: 'any.example', port: 22, key: k.blob }),
      isError('host-key-changed', /revoked/i, new RegExp(reEscape(fingerprint(k.blob)))),
    );
  });

  it('strict refuses unknown hosts; off accepts anything and writes nothing', async () => {
    const k = newKey();
    const other = newKey();
    const f = file();
    await writeFile(f, `known.example ${k.line}\n`);
    await assert.rejects(
      verifyHostKey({ file: f, host: 'new.example', port: 22, key: k.blob, policy: 'strict' }),
      isError('host-key-unknown', /new\.example/),
    );
    await verifyHostKey({ file: f, host: 'known.example', port: 22, key: other.blob, policy: 'off' });
    await verifyHostKey({ file: f, host: 'new.example', port: 22, key: k.blob, policy: 'off' });
    assert.equal(await readFile(f, 'utf8'), `known.example ${k.line}\n`);
  });

  it('keyTypeOf() reads the type from the key blob', () => {
    assert.equal(keyTypeOf(newKey('ed25519').blob), 'ssh-ed25519');
    assert.equal(keyTypeOf(newKey('ecdsa').blob), 'ecdsa-sha2-nistp256');
  });

  it('puts the algorithms of already known key types first in ssh2’s host key list', () => {
    // ssh2's own list builder, to check the spec we hand it really reorders its defaults.
    const require = createRequire(import.meta.url);
    const { generateAlgorithmList } = require('ssh2/lib/utils.js');
    const { DEFAULT_SERVER_HOST_KEY, SUPPORTED_SERVER_HOST_KEY } = require('ssh2/lib/protocol/constants.js');
    const order = (types: string[]): string[] =>
      generateAlgorithmList(hostKeyAlgorithms(types), DEFAULT_SERVER_HOST_KEY, SUPPORTED_SERVER_HOST_KEY);
    assert.deepEqual(order([]), DEFAULT_SERVER_HOST_KEY);
    assert.deepEqual(order(['ssh-rsa']).slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.deepEqual(order(['ecdsa-sha2-nistp256', 'ssh-ed25519']).slice(0, 2), [
      'ecdsa-sha2-nistp256',
      'ssh-ed25519',
    ]);
    assert.equal(order(['ssh-rsa']).length, DEFAULT_SERVER_HOST_KEY.length);
  });
  it('normalizeFingerprint() takes ssh-keygen’s form, without prefix or with padding; rejects others', () => {
    const fp = fingerprint(newKey().blob);
    const bare = fp.slice('SHA256:'.length);
    assert.equal(normalizeFingerprint(fp), fp);
    assert.equal(normalizeFingerprint(bare), fp);
    assert.equal(normalizeFingerprint(`sha256:${bare}=`), fp);
    assert.equal(normalizeFingerprint(` ${fp} `), fp);
    assert.equal(normalizeFingerprint('MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48'), undefined);
    assert.equal(normalizeFingerprint(`${fp}x`), undefined);
    assert.equal(normalizeFingerprint(''), undefined);
  });

  it('pinned fingerprints accept exactly those keys, whatever the policy and known_hosts say', async () => {
    const k = newKey();
    const other = newKey();
    const f = file();
    // known_hosts records another key for the host: ignored when pinned, and left as it is.
    await writeFile(f, `pinned.example ${other.line}\n`);
    const bare = fingerprint(k.blob).slice('SHA256:'.length);
    for (const policy of ['accept-new', 'strict', 'off'] as const) {
      await verifyHostKey({
        file: f,
        host: 'pinned.example',
        port: 22,
        key: k.blob,
        policy,
        fingerprints: [fingerprint(newKey().blob), bare],
      });
    }
    assert.equal(await readFile(f, 'utf8'), `pinned.example ${other.line}\n`);
    // A host not in known_hosts under strict: accepted because pinned, and not recorded.
    const missing = join(dir, 'no-such-dir', 'known_hosts');
    await verifyHostKey({
      file: missing,
      host: 'new.example',
      port: 2222,
      key: k.blob,
      policy: 'strict',
      fingerprints: [fingerprint(k.blob)],
    });
    await assert.rejects(stat(join(dir, 'no-such-dir')), /ENOENT/);
  });

  it('pinned fingerprints refuse any other key, even with policy off, naming host and both fingerprints', async () => {
    const k = newKey();
    const pinnedA = fingerprint(newKey().blob);
    const pinnedB = fingerprint(newKey('ecdsa').blob);
    const f = file();
    await writeFile(f, `[sw.example]:2222 ${k.line}\n`); // even a recorded key is not enough
    for (const policy of ['accept-new', 'off'] as const) {
      await assert.rejects(
        verifyHostKey({
          file: f,
          host: 'sw.example',
          port: 2222,
          key: k.blob,
          policy,
          fingerprints: [pinnedA, pinnedB],
        }),
        isError(
          'host-key-changed',
          new RegExp(reEscape('[sw.example]:2222')),
          new RegExp(reEscape(fingerprint(k.blob))),
          new RegExp(reEscape(pinnedA)),
          new RegExp(reEscape(pinnedB)),
        ),
      );
    }
    assert.equal(await readFile(f, 'utf8'), `[sw.example]:2222 ${k.line}\n`);
  });

  it('an empty fingerprint list pins nothing: known_hosts and the policy apply', async () => {
    const k = newKey();
    const f = file();
    await verifyHostKey({ file: f, host: 'h.example', port: 22, key: k.blob, fingerprints: [] });
    assert.equal(await readFile(f, 'utf8'), `h.example ${k.line}\n`);
  });

  it('keeps known key types first within a configured host key algorithm list', () => {
    const require = createRequire(import.meta.url);
    const { generateAlgorithmList } = require('ssh2/lib/utils.js');
    const { DEFAULT_SERVER_HOST_KEY, SUPPORTED_SERVER_HOST_KEY } = require('ssh2/lib/protocol/constants.js');
    const order = (types: string[], configured?: Parameters<typeof hostKeyAlgorithms>[1]): string[] =>
      generateAlgorithmList(
        hostKeyAlgorithms(types, configured),
        DEFAULT_SERVER_HOST_KEY,
        SUPPORTED_SERVER_HOST_KEY,
      );
    // An exact list decides the set; the known ones move to the front, the rest keep the user's order.
    assert.deepEqual(order(['ssh-rsa'], ['ssh-ed25519', 'ssh-dss', 'rsa-sha2-256']), [
      'rsa-sha2-256',
      'ssh-ed25519',
      'ssh-dss',
    ]);
    assert.deepEqual(order(['ecdsa-sha2-nistp256'], ['ssh-ed25519']), ['ssh-ed25519']);
    // Edits of the defaults: appended, removed, and known types still first unless removed.
    const edited = order(['ecdsa-sha2-nistp256', 'ssh-rsa'], { append: ['ssh-dss'], remove: ['ssh-rsa'] });
    assert.deepEqual(edited.slice(0, 3), ['ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256']);
    assert.ok(!edited.includes('ssh-rsa'));
    assert.equal(edited.at(-1), 'ssh-dss');
    const prepended = order(['ssh-ed25519'], { prepend: ['ssh-dss'] });
    assert.deepEqual(prepended.slice(0, 2), ['ssh-ed25519', 'ssh-dss']);
  });

  it('connectAlgorithms() passes the other categories through, edits in remove, prepend, append order', () => {
    const algorithms = connectAlgorithms(
      {
        kex: { append: ['diffie-hellman-group14-sha1'], remove: ['ecdh-sha2-nistp256'] },
        cipher: ['aes128-cbc'],
      },
      [],
    );
    assert.deepEqual(Object.keys(algorithms.kex ?? {}), ['remove', 'append']);
    assert.deepEqual(algorithms.cipher, ['aes128-cbc']);
    assert.deepEqual(algorithms.serverHostKey, { remove: [], prepend: [], append: [] });
    assert.equal(algorithms.hmac, undefined);
  });
});
