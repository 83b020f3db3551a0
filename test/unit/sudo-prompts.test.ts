import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DialectRegistry } from '../../src/dialect/loader.js';

it('linux-sudo answers classic sudo and sudo-rs prompts, and rewrites commands to read the password from stdin', async () => {
  const dialect = await new DialectRegistry().get('linux-sudo');
  const answers = (line: string) =>
    dialect.inputPrompts.some((p) => p.pattern.test(line) && p.secret === 'sudo');
  // classic sudo with our -p prompt; sudo-rs wraps a custom prompt; sudo-rs' own prompt
  for (const prompt of [
    '[sudo] password for bob: ',
    '[sudo: [sudo] password for bob: ] Password: ',
    '[sudo: authenticate] Password: ',
  ]) {
    assert.ok(answers(prompt), prompt);
  }
  for (const line of ['Password changed.', 'sudo: 3 incorrect password attempts', 'enter the password: ']) {
    assert.ok(!answers(line), line);
  }
  const rewrite = (command: string) =>
    dialect.commandRewrite.reduce((text, r) => text.replace(r.match, r.replace), command);
  assert.equal(rewrite('id -u'), "sudo -S -p '[sudo] password for %p: ' id -u");
  assert.equal(rewrite('sudo -u bob id'), "sudo -S -p '[sudo] password for %p: ' -u bob id");
  assert.equal(rewrite('sudo -S id'), "sudo -S -p '[sudo] password for %p: ' id");
});
