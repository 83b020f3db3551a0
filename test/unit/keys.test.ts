import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KEY_NAMES, KEY_NAMES_SUMMARY, parseKeys } from '../../src/expect/keys.js';

const ESC = '\x1b';

/** What each name sends in normal cursor mode. */
const EXPECTED: Record<string, string> = {
  enter: '\r',
  return: '\r',
  tab: '\t',
  'shift-tab': `${ESC}[Z`,
  esc: ESC,
  escape: ESC,
  space: ' ',
  backspace: '\x7f',
  delete: `${ESC}[3~`,
  del: `${ESC}[3~`,
  insert: `${ESC}[2~`,
  pgup: `${ESC}[5~`,
  pageup: `${ESC}[5~`,
  pgdn: `${ESC}[6~`,
  pagedown: `${ESC}[6~`,
  lt: '<',
  gt: '>',
  up: `${ESC}[A`,
  down: `${ESC}[B`,
  right: `${ESC}[C`,
  left: `${ESC}[D`,
  home: `${ESC}[H`,
  end: `${ESC}[F`,
  f1: `${ESC}OP`,
  f2: `${ESC}OQ`,
  f3: `${ESC}OR`,
  f4: `${ESC}OS`,
  f5: `${ESC}[15~`,
  f6: `${ESC}[17~`,
  f7: `${ESC}[18~`,
  f8: `${ESC}[19~`,
  f9: `${ESC}[20~`,
  f10: `${ESC}[21~`,
  f11: `${ESC}[23~`,
  f12: `${ESC}[24~`,
  'ctrl-@': '\x00',
  'ctrl-space': '\x00',
  'ctrl-[': '\x1b',
  'ctrl-\\': '\x1c',
  'ctrl-]': '\x1d',
  'ctrl-^': '\x1e',
  'ctrl-_': '\x1f',
};
for (let i = 0; i < 26; i++) EXPECTED[`ctrl-${String.fromCharCode(0x61 + i)}`] = String.fromCharCode(1 + i);

describe('parseKeys', () => {
  it('lists exactly the names it accepts, each tested here', () => {
    assert.deepEqual([...KEY_NAMES].sort(), Object.keys(EXPECTED).sort());
    assert.equal(new Set(KEY_NAMES).size, KEY_NAMES.length);
  });

  it('sends the xterm bytes for every name', () => {
    for (const [name, bytes] of Object.entries(EXPECTED)) {
      assert.equal(parseKeys(`<${name}>`), bytes, name);
    }
  });

  it('spot-checks the well-known control codes', () => {
    assert.equal(parseKeys('<ctrl-c>'), '\x03');
    assert.equal(parseKeys('<ctrl-d>'), '\x04');
    assert.equal(parseKeys('<ctrl-z>'), '\x1a');
    assert.equal(parseKeys('<ctrl-a>'), '\x01');
    assert.equal(parseKeys('<ctrl-\\>'), '\x1c');
  });

  it('reads names case-insensitively', () => {
    assert.equal(
      parseKeys('<ENTER><Tab><Ctrl-C><CTRL-x><F10><PgDn><Esc>'),
      `\r\t\x03\x18${ESC}[21~${ESC}[6~${ESC}`,
    );
  });

  it('mixes keys and text', () => {
    assert.equal(parseKeys('ls -la<enter>'), 'ls -la\r');
    assert.equal(parseKeys(':wq<enter>'), ':wq\r');
    assert.equal(parseKeys('<esc>:q!<enter>'), `${ESC}:q!\r`);
    assert.equal(parseKeys('<down><down><space><tab><enter>'), `${ESC}[B${ESC}[B \t\r`);
  });

  it('leaves text without tokens untouched', () => {
    for (const text of [
      '',
      'plain text',
      'a < b',
      'x<3 && y>2',
      'cat <<EOF',
      '<>',
      '< enter>',
      '<enter',
      'enter>',
      'héllo 中文 🎉',
      '\x03\r\n',
    ]) {
      assert.equal(parseKeys(text), text, JSON.stringify(text));
    }
  });

  it('handles a literal < right before a token', () => {
    assert.equal(parseKeys('<<enter>'), '<\r');
    assert.equal(parseKeys('a<<lt>'), 'a<<');
  });

  it('sends text that looks like a token with <lt>', () => {
    assert.equal(parseKeys('<lt>div>hello<lt>/div><enter>'), '<div>hello</div>\r');
    assert.equal(parseKeys('<LT>enter>'), '<enter>');
    assert.equal(parseKeys('<lt>gt>'), '<gt>');
    assert.equal(parseKeys('a<gt>b'), 'a>b');
  });

  it('sends alt-x as ESC x, keeping the character as written', () => {
    assert.equal(parseKeys('<alt-x>'), `${ESC}x`);
    assert.equal(parseKeys('<ALT-x>'), `${ESC}x`);
    assert.equal(parseKeys('<alt-X>'), `${ESC}X`);
    assert.equal(parseKeys('<alt-.>'), `${ESC}.`);
    assert.equal(parseKeys('<alt-1>'), `${ESC}1`);
    assert.equal(parseKeys('<alt-é>'), `${ESC}é`);
    assert.equal(parseKeys('<alt-🎉>'), `${ESC}🎉`);
  });

  it('sends alt with a named key as ESC then that key', () => {
    assert.equal(parseKeys('<alt-backspace>'), `${ESC}\x7f`);
    assert.equal(parseKeys('<alt-enter>'), `${ESC}\r`);
    assert.equal(parseKeys('<alt-space>'), `${ESC} `);
    assert.equal(parseKeys('<alt-ctrl-x>'), `${ESC}\x18`);
    assert.equal(parseKeys('<alt-left>'), `${ESC}${ESC}[D`);
    assert.equal(parseKeys('<alt-left>', { applicationCursor: true }), `${ESC}${ESC}OD`);
  });

  it('uses SS3 for arrows, Home and End in application cursor mode only', () => {
    const app = { applicationCursor: true };
    assert.equal(parseKeys('<up><down><right><left>', app), `${ESC}OA${ESC}OB${ESC}OC${ESC}OD`);
    assert.equal(parseKeys('<home><end>', app), `${ESC}OH${ESC}OF`);
    assert.equal(parseKeys('<up><home>', { applicationCursor: false }), `${ESC}[A${ESC}[H`);
    // Keys outside the cursor group do not change.
    for (const name of [
      'enter',
      'pgup',
      'pgdn',
      'insert',
      'delete',
      'f1',
      'f5',
      'f12',
      'ctrl-c',
      'shift-tab',
    ]) {
      assert.equal(parseKeys(`<${name}>`, app), EXPECTED[name], name);
    }
  });

  it('rejects an unknown name with the valid names and the <lt> escape', () => {
    assert.throws(
      () => parseKeys('hello<entr>'),
      (error: Error) => {
        assert.match(error.message, /^unknown key name <entr>; nothing was sent\. Valid keys: /);
        assert.ok(error.message.includes(KEY_NAMES_SUMMARY));
        for (const name of ['<enter>', '<ctrl-a>..<ctrl-z>', '<f1>..<f12>', '<alt-X>', '<pgup>', '<lt>']) {
          assert.ok(error.message.includes(name), name);
        }
        return true;
      },
    );
  });

  it('names every unknown token once', () => {
    assert.throws(() => parseKeys('<div><foo><div><enter>'), /^Error: unknown key names <div>, <foo>;/);
  });

  it('names a repeated unknown token once', () => {
    assert.throws(() => parseKeys('<div>a</div><div>'), /^Error: unknown key names <div>, <\/div>;/);
    assert.throws(() => parseKeys('<div><div>'), /^Error: unknown key name <div>;/);
  });

  it('does not take Object.prototype members for key names', () => {
    for (const token of [
      '<constructor>',
      '<__proto__>',
      '<toString>',
      '<ctrl-constructor>',
      '<alt-hasOwnProperty>',
    ]) {
      assert.throws(() => parseKeys(token), /unknown key name/, token);
    }
  });

  it('rejects malformed modifiers', () => {
    for (const token of [
      '<ctrl-1>',
      '<ctrl-ab>',
      '<ctrl->',
      '<alt->',
      '<alt-nosuchkey>',
      '<alt-alt-x>',
      '<f13>',
      '<f0>',
    ]) {
      assert.throws(
        () => parseKeys(token),
        new RegExp(`unknown key name ${token.replace(/[[\]\\^]/g, '\\$&')}`),
      );
    }
  });
});
