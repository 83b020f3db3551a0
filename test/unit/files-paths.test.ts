import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { shellQuote } from '../../src/dialect/template.js';
import { FileError } from '../../src/files/errors.js';
import { localPath, pathGlob, remotePath } from '../../src/files/paths.js';
import { checkPath, pathRulesFor } from '../../src/files/policy.js';

const HOME = '/home/ops';

describe('remote paths', () => {
  it('expands ~, starts relative paths at home and resolves . and ..', () => {
    assert.equal(remotePath('~', HOME), HOME);
    assert.equal(remotePath('~/a/b', HOME), '/home/ops/a/b');
    assert.equal(remotePath('a/./b', HOME), '/home/ops/a/b');
    assert.equal(remotePath('/srv/app/../../etc/shadow', HOME), '/etc/shadow');
    assert.equal(remotePath('~/../../etc', HOME), '/etc');
    assert.throws(() => remotePath('~root/x', HOME), /only ~ and ~\/ are expanded/);
    assert.throws(() => remotePath('a\0b', HOME), /NUL/);
  });

  it('matches globs: ** crosses folders, * does not, a folder glob covers the folder itself', () => {
    assert.ok(pathGlob('/etc/nginx/**').test('/etc/nginx'));
    assert.ok(pathGlob('/etc/nginx/**').test('/etc/nginx/sites/default'));
    assert.ok(!pathGlob('/etc/nginx/**').test('/etc/nginx2/x'));
    assert.ok(pathGlob('/var/log/*.log').test('/var/log/syslog.log'));
    assert.ok(!pathGlob('/var/log/*.log').test('/var/log/app/x.log'));
    assert.ok(pathGlob('/srv/**/config.yaml').test('/srv/config.yaml'));
    assert.ok(pathGlob('/srv/**/config.yaml').test('/srv/a/b/config.yaml'));
    assert.ok(pathGlob('/a+b/(x)').test('/a+b/(x)'), 'regex characters are literal');
  });
});

describe('path policy from the config', () => {
  const loaded = validateConfig(
    {
      defaults: { policy: { paths: { deny: ['/etc/shadow'] } } },
      groups: { web: { policy: { paths: { allow: ['/etc/nginx/**', '~/**'] } } } },
      hosts: { web1: { groups: ['web'], policy: { paths: { deny: ['~/.ssh/**'] } } }, db1: {} },
    },
    '/nowhere/config.yaml',
  );

  it('combines defaults, groups and the host: deny wins, any allow turns allow-listing on', () => {
    const web = pathRulesFor(loaded, 'web1');
    checkPath(web, '/etc/nginx/nginx.conf', HOME);
    checkPath(web, '/home/ops/app/x', HOME);
    assert.throws(
      () => checkPath(web, '/home/ops/.ssh/id_ed25519', HOME),
      /refused by policy \(deny "~\/.ssh\/\*\*" \(host web1\)\)/,
    );
    assert.throws(() => checkPath(web, '/etc/passwd', HOME), /not under an allowed path/);
    const db = pathRulesFor(loaded, 'db1');
    checkPath(db, '/etc/passwd', HOME);
    assert.throws(() => checkPath(db, '/etc/shadow', HOME), /deny "\/etc\/shadow" \(defaults\)/);
    assert.throws(() => checkPath(pathRulesFor(loaded, '10.0.0.9'), '/etc/shadow', HOME), FileError);
    assert.deepEqual(pathRulesFor(undefined, 'x'), { allow: [], deny: [] });
  });

  it('rejects relative path patterns in the config', () => {
    assert.throws(
      () => validateConfig({ defaults: { policy: { paths: { allow: ['etc/*'] } } } }, '/nowhere/c.yaml'),
      /absolute path glob/,
    );
  });

  it('reads the files section with local folders resolved against the config folder', () => {
    const c = validateConfig({ files: { local_dirs: ['out', '/abs'], max_read_bytes: 10 } }, '/cfg/c.yaml');
    assert.deepEqual(c.files, { localDirs: ['/cfg/out', '/abs'], maxReadBytes: 10 });
  });
});

describe('local paths', () => {
  let dir: string;
  let outside: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'files-local-'));
    outside = await mkdtemp(path.join(tmpdir(), 'files-outside-'));
    await writeFile(path.join(dir, 'in.txt'), 'x');
    await writeFile(path.join(outside, 'secret'), 'x');
    await symlink(path.join(outside, 'secret'), path.join(dir, 'link'));
    await symlink(outside, path.join(dir, 'dirlink'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('allows files in the folders, symlinks resolved, new files by their folder', async () => {
    assert.equal(await localPath(path.join(dir, 'in.txt'), [dir], true), path.join(dir, 'in.txt'));
    assert.equal(await localPath(path.join(dir, 'new.bin'), [dir], false), path.join(dir, 'new.bin'));
    await assert.rejects(localPath(path.join(dir, 'link'), [dir], true), /outside the allowed local folders/);
    await assert.rejects(
      localPath(path.join(dir, 'dirlink/new'), [dir], false),
      /outside the allowed local folders/,
    );
    await assert.rejects(localPath(`${dir}-sibling/x`, [dir], false), /not found|outside/);
    await assert.rejects(localPath('rel/x', [dir], false), /must be absolute/);
  });
});

describe('shell quoting for the sudo channel', () => {
  it("single-quotes, closing and reopening around '", () => {
    assert.equal(shellQuote("/tmp/a b'$(x)"), `'/tmp/a b'\\''$(x)'`);
  });
});
