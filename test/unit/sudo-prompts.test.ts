import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DialectRegistry } from '../../src/dialect/loader.js';
import { rewriteCommand } from '../../src/expect/runner.js';

it('linux-sudo answers only the prompt it gave sudo (a fresh nonce per command), classic or wrapped by sudo-rs', async () => {
  const dialect = await new DialectRegistry().get('linux-sudo');
  const nonce = 'a1b2c3d4e5f6';
  const answers = (line: string) =>
    dialect.inputPrompts.some(
      (p) => p.template && new RegExp(p.template.render({ nonce })).test(line) && p.secret === 'sudo',
    );
  for (const prompt of [
    `[sudo ${nonce}] password for bob: `,
    `[sudo: [sudo ${nonce}] password for bob: ] Password: `,
  ]) {
    assert.ok(answers(prompt), prompt);
  }
  for (const line of [
    '[sudo] password for bob: ',
    '[sudo 000000000000] password for bob: ',
    '[sudo: authenticate] Password: ',
    'Password changed.',
    'sudo: 3 incorrect password attempts',
  ]) {
    assert.ok(!answers(line), line);
  }
  // The whole line under sudo, quoted once: `$` and quotes in it reach bash -c unchanged.
  const rewrite = (command: string) => rewriteCommand(dialect.commandRewrite, command, { nonce });
  const sudo = `command sudo -S -p '[sudo ${nonce}] password for %p: ' -- bash -c`;
  assert.equal(rewrite('id -u && id -u'), `${sudo} 'id -u && id -u'`);
  assert.equal(rewrite("echo $$ '$1' $&"), `${sudo} 'echo $$ '\\''$1'\\'' $&'`);
});
