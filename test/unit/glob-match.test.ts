import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileError } from '../../src/files/errors.js';
import { PATH_MAX, pathGlob, remotePath } from '../../src/files/paths.js';
import { checkPath } from '../../src/files/policy.js';
import { matchPatternList, wildcard } from '../../src/ssh/patterns.js';
import { globMatcher } from '../../src/util/glob-match.js';

/** The RegExp pathGlob used to build: the reference the linear matcher must agree with. */
function oldPathGlob(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      const slashAfter = pattern[i + 2] === '/';
      re += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  if (re.endsWith('/.*')) re = `${re.slice(0, -3)}(?:/.*)?`;
  return new RegExp(`^${re}$`);
}

/** The RegExp ssh patterns used to build. */
function oldWildcard(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

/** A small seeded generator (mulberry32): the same strings every run. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (alphabet: string, max: number) =>
    Array.from(
      { length: Math.floor(next() * (max + 1)) },
      () => alphabet[Math.floor(next() * alphabet.length)],
    ).join('');
}

const elapsed = (fn: () => void) => {
  const start = performance.now();
  fn();
  return performance.now() - start;
};

describe('linear glob matching', () => {
  it('agrees with the old RegExp on 20,000 random path globs and paths', () => {
    const text = random(1);
    for (let i = 0; i < 20_000; i++) {
      const pattern = text('ab/*?.', 8);
      const path = text('ab/.', 10);
      assert.equal(pathGlob(pattern).test(path), oldPathGlob(pattern).test(path), `${pattern} on ${path}`);
    }
  });

  it('agrees with the old RegExp on 20,000 random ssh patterns and host names', () => {
    const text = random(2);
    for (let i = 0; i < 20_000; i++) {
      const pattern = text('ab.*?', 8);
      const host = text('ab.', 10);
      assert.equal(wildcard(pattern).test(host), oldWildcard(pattern).test(host), `${pattern} on ${host}`);
    }
  });

  it('takes milliseconds where the RegExp backtracked for minutes', () => {
    const segment = `/${'a'.repeat(PATH_MAX - 10)}`;
    const folders = `/${'a/'.repeat(PATH_MAX / 2 - 10)}y`;
    assert.ok(elapsed(() => assert.ok(!pathGlob('/*a*a*a*b').test(segment))) < 200);
    assert.ok(elapsed(() => assert.ok(!pathGlob('/**/**/**/x').test(folders))) < 200);
    const host = 'a'.repeat(100_000);
    assert.ok(elapsed(() => assert.ok(!matchPatternList(['*a*a*a*a*b'], host))) < 2000);
  });

  it('lets ** cross a newline, so a deny rule cannot be dodged with one in a name', () => {
    assert.ok(pathGlob('/etc/**').test('/etc/a\nb'));
    assert.ok(!oldPathGlob('/etc/**').test('/etc/a\nb'), 'the old RegExp let it through');
    assert.throws(
      () =>
        checkPath({ allow: [], deny: [{ pattern: '/etc/**', origin: 'defaults' }] }, '/etc/x\ny', '/root'),
      /refused by policy/,
    );
    assert.ok(globMatcher('a*b').test('a\n\nb'));
  });
});

describe('path length bound', () => {
  it('refuses a remote path longer than PATH_MAX at once, with a short message', () => {
    const long = `/${'a'.repeat(256 * 1024)}`;
    let error: unknown;
    const ms = elapsed(() => {
      try {
        remotePath(long, '/home/ops');
      } catch (e) {
        error = e;
      }
    });
    assert.ok(error instanceof FileError);
    assert.match(error.message, /the path is 262145 bytes; remote systems take paths up to 4095/);
    assert.ok(error.message.length < 400, error.message);
    assert.ok(ms < 100, `${ms} ms`);
    assert.throws(() => remotePath(`~/${'a/'.repeat(2100)}`, '/home/ops'), /remote systems take paths up to/);
    assert.equal(remotePath(`/${'a'.repeat(4000)}`, '/'), `/${'a'.repeat(4000)}`);
  });
});
