import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveSecret, secretIsSet, secretLength } from '../../src/config/secrets.js';
import { loadIdentities } from '../../src/ssh/auth.js';
import { MAX_KEY_BYTES, resolveTarget } from '../../src/ssh/ssh-config.js';
import { readSmallFile, readSmallFileSync } from '../../src/util/small-file.js';

/** The promise, or a failure after `ms`: a read that never ends must fail the test, not hang it. */
function within<T>(promise: Promise<T>, ms = 3000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still reading after ${ms} ms`)), ms),
    ),
  ]);
}

describe('small files named by a caller (keys, secrets)', () => {
  let dir: string;
  let fifo: string;
  let big: string;
  let key: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'small-file-'));
    fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    big = path.join(dir, 'big');
    await writeFile(big, Buffer.alloc(MAX_KEY_BYTES + 1, 0x61));
    key = path.join(dir, 'secret');
    await writeFile(key, 'hunter22\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads a regular file up to the bound, and refuses devices, FIFOs, folders and larger files at once', async () => {
    assert.equal((await readSmallFile(key, 1024, 'a secret')).toString(), 'hunter22\n');
    await assert.rejects(within(readSmallFile('/dev/zero', 1024, 'a key')), /not a regular file \(a device/);
    await assert.rejects(within(readSmallFile(fifo, 1024, 'a key')), /not a regular file \(a FIFO\)/);
    await assert.rejects(within(readSmallFile(dir, 1024, 'a key')), /not a regular file \(a folder\)/);
    await assert.rejects(
      within(readSmallFile(big, MAX_KEY_BYTES, 'a private key')),
      /over the 64 KiB a private key/,
    );
    assert.throws(() => readSmallFileSync(fifo, 1024, 'a secret'), /a FIFO/);
    assert.equal(
      readSmallFileSync('/proc/self/status', 64 * 1024, 'x').length > 0,
      true,
      'procfs size 0 is read',
    );
  });

  it('does not read /dev/zero or wait on a FIFO given as key_filename', async () => {
    const started = performance.now();
    const loaded = await within(loadIdentities(['/dev/zero', fifo, big], {}, dir));
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(loaded.keys, []);
    assert.match(loaded.notes[0] as string, /^\/dev\/zero: not a regular file \(a device or socket\)/);
    assert.match(loaded.notes[1] as string, /fifo: not a regular file \(a FIFO\)/);
    assert.match(loaded.notes[2] as string, /big: 65537 bytes, over the 64 KiB a private key can be/);
  });

  it('refuses a key_filename that cannot be a key before connecting, naming it briefly', async () => {
    const paths = { home: dir, sshConfig: path.join(dir, 'none'), knownHosts: path.join(dir, 'kh') };
    const refused = async (keyFilename: string, reason: RegExp) =>
      assert.rejects(within(resolveTarget({ host: '127.0.0.1', keyFilename }, paths)), (e: Error) => {
        assert.match(e.message, reason);
        assert.ok(e.message.length < 400, e.message);
        return true;
      });
    await refused('/dev/zero', /key_filename \/dev\/zero is not a regular file \(a device, FIFO or socket\)/);
    await refused(fifo, /is not a regular file/);
    await refused(dir, /is not a regular file \(a folder\)/);
    await refused('/tmp/a\0b', /is not a path \(it contains a NUL byte\)/);
    await refused(big, /is 65537 bytes, more than a private key \(at most 64 KiB\)/);
    await refused(
      `${'../'.repeat(100)}nope`,
      /^key_filename (\.\.\/){33}\.…\(304 characters\) does not exist$/,
    );
    await refused(`${'../'.repeat(2000)}nope`, /…\(6004 characters\) cannot be read \(ENAMETOOLONG\)$/);
  });

  it('treats a secret file that is a FIFO, a device or huge as unusable, without blocking', async () => {
    for (const file of [fifo, '/dev/zero', big]) {
      assert.equal(await within(resolveSecret({ kind: 'file', path: file })), undefined, file);
      assert.equal(secretLength({ kind: 'file', path: file }), 0, file);
      assert.equal(secretIsSet({ kind: 'file', path: file }), false, file);
    }
    assert.equal(await resolveSecret({ kind: 'file', path: key }), 'hunter22');
  });
});
