// Masking secrets in streams and on screens, and host addresses in every spelling.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { addressLiteral } from '../../src/ssh/addresses.js';
import { redactLines, registerSecret, StreamRedactor } from '../../src/util/secrets.js';

registerSecret('hunter2-xyz', 'password');

it('masks a secret split across pieces of a stream, and holds back only what could start one', () => {
  const r = new StreamRedactor((name) => `{{${name}}}`);
  const out = [r.push('login ok: hun'), r.push('ter2'), r.push('-xyz done\n'), r.flush()].join('');
  assert.equal(out, 'login ok: {{password}} done\n');
  // Text that cannot begin a secret is not held back (a running command shows it at once).
  assert.equal(new StreamRedactor().push('no secret here\n'), 'no secret here\n');
});

it('masks a secret the terminal wrapped onto the next screen line', () => {
  assert.deepEqual(redactLines(['echo xx hunt', 'er2-xyz yy']), ['echo xx ****', '******* yy']);
});

it('reads every spelling of an address as the C library does', () => {
  for (const [spelling, canonical] of [
    ['127.1', '127.0.0.1'],
    ['127.000.000.001', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['010.0.0.1', '8.0.0.1'],
  ]) {
    assert.equal(addressLiteral(spelling as string), canonical, spelling);
  }
  for (const name of ['localhost', '256.1', 'router-1']) assert.equal(addressLiteral(name), undefined, name);
});
