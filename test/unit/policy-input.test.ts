import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInput, type InputDecision, type TypedInput } from '../../src/policy/input.js';
import { type CheckOptions, compilePolicy } from '../../src/policy/policy.js';

const shell: CheckOptions = { abbreviations: false };
const deny = compilePolicy({ allow: [], deny: [{ pattern: 'rm', origin: 'defaults' }], presets: [] });
const allow = compilePolicy({
  allow: ['ls', 'echo', 'cat', 'apt-get install', 'python3'].map((pattern) => ({
    pattern,
    origin: 'host h',
  })),
  deny: [],
  presets: [],
});
const none = compilePolicy({ allow: [], deny: [], presets: [] });

const check = (policy: typeof deny, input: TypedInput) => checkInput(policy, input, shell);
const outcome = (d: InputDecision) => (d.allowed ? d.as : 'refused');

describe('checkInput: answers to a recognized question', () => {
  it('allows a plausible answer, under either list', () => {
    for (const policy of [deny, allow]) {
      const answer = (text: string, kind: string) =>
        outcome(check(policy, { text, waiting: { kind }, running: 'apt-get install x' }));
      assert.deepEqual(
        [
          answer('y\n', 'yes_no'),
          answer('No\n', 'yes_no'),
          answer('\n', 'yes_no'),
          answer('\n', 'confirm'),
          answer('y', 'confirm'),
          answer('x', 'press_key'),
          answer(' ', 'pager'),
          answer('q', 'pager'),
          answer('/error', 'pager'),
          answer('\x1b[B', 'pager'),
          answer('hunter2\n', 'password'),
          answer('pa ss; rm -rf / $(x)\n', 'password'),
        ],
        Array(12).fill('answer'),
      );
    }
  });

  it('checks text that is no plausible answer as command lines', () => {
    const d = check(deny, { text: 'rm -rf /tmp/x\n', waiting: { kind: 'yes_no' } });
    assert.equal(outcome(d), 'refused');
    assert.match(
      (d as Extract<InputDecision, { allowed: false }>).reason,
      /^typed input is checked as command lines/,
    );
    // a pager's own command escapes are no page turning
    assert.equal(outcome(check(deny, { text: '!rm -rf /tmp/x\n', waiting: { kind: 'pager' } })), 'refused');
    assert.equal(
      outcome(check(allow, { text: 'v', waiting: { kind: 'pager' }, running: 'cat f' })),
      'refused',
    );
  });

  it('checks every line after the first of multi-line text, a password included, never the password', () => {
    assert.equal(
      outcome(check(deny, { text: 'y\nrm -rf /tmp/x\n', waiting: { kind: 'yes_no' } })),
      'refused',
    );
    assert.equal(outcome(check(deny, { text: 'y\nrm -rf /tmp/x', waiting: { kind: 'yes_no' } })), 'refused');
    const d = check(deny, { text: 'rm-secret\nrm -rf /tmp/x\n', waiting: { kind: 'password' } });
    assert.equal(outcome(d), 'refused');
    assert.ok(!JSON.stringify(d).includes('rm-secret'), 'the password is not quoted');
    assert.equal(
      outcome(check(deny, { text: 'rm -rf /tmp/x\nls\n', waiting: { kind: 'password' } })),
      'commands',
    );
  });

  it('treats a generic question (also an interpreter prompt) as no recognized question', () => {
    assert.equal(outcome(check(deny, { text: 'rm -rf /tmp/x\n', waiting: { kind: 'question' } })), 'refused');
    assert.equal(outcome(check(deny, { text: 'notes.txt\n', waiting: { kind: 'question' } })), 'commands');
  });
});

describe('checkInput: no recognized question', () => {
  it('checks each line as a command under a deny list', () => {
    assert.deepEqual(
      ['ls -l\n', 'echo a; rm -rf /tmp/x\n', 'echo $(rm -rf /tmp/x)\n', 'ls\nrm -rf /tmp/x\n'].map((text) =>
        outcome(check(deny, { text, running: 'bash' })),
      ),
      ['commands', 'refused', 'refused', 'refused'],
    );
  });

  it('refuses under an allow list unless the running command is allowed and every line passes', () => {
    const typed = (text: string, running?: string) => outcome(check(allow, { text, running }));
    assert.equal(typed('ls\n', 'python3'), 'commands');
    assert.equal(typed('ls\n', 'bash'), 'refused'); // bash is not on the allow list
    assert.equal(typed('ls\n'), 'refused'); // which command reads it is not known
    assert.equal(typed('import os\n', 'python3'), 'refused'); // the line is no allowed command
    assert.equal(typed('ls; rm -rf /tmp/x\n', 'python3'), 'refused');
  });

  it('checks a command typed in pieces as a whole, through pending', () => {
    const first = check(deny, { text: 'r', running: 'bash' });
    assert.deepEqual(first, { allowed: true, as: 'commands', checked: 0, pending: 'r' });
    const second = check(deny, {
      text: 'm -rf /tmp/x\n',
      running: 'bash',
      pending: first.allowed ? first.pending : '',
    });
    assert.equal(outcome(second), 'refused');
    // an unfinished line is checked as far as it can be read; an open quote waits for the rest
    assert.equal(outcome(check(deny, { text: 'rm -rf /tmp/x', running: 'bash' })), 'refused');
    const open = check(deny, { text: "echo 'a", running: 'bash' });
    assert.deepEqual(open, { allowed: true, as: 'commands', checked: 0, pending: "echo 'a" });
    assert.equal(
      outcome(check(deny, { text: "'; rm -rf /tmp/x\n", running: 'bash', pending: "echo 'a" })),
      'refused',
    );
    assert.equal(
      outcome(check(deny, { text: "; rm -rf /tmp/x'\n", running: 'bash', pending: "echo 'a" })),
      'commands',
    );
    assert.equal(
      outcome(check(deny, { text: "'; rm -rf /tmp/x\n", running: 'bash', pending: 'echo a' })),
      'refused',
    );
  });

  it('lets interrupt and end-of-input keys through, but Ctrl+D submits an unfinished line', () => {
    assert.deepEqual(check(allow, { text: '\x03', running: 'bash' }), {
      allowed: true,
      as: 'key',
      checked: 0,
      pending: '',
    });
    assert.equal(
      outcome(check(deny, { text: '\x04', running: 'bash', pending: 'rm -rf /tmp/x' })),
      'refused',
    );
  });

  it('refuses history expansion, which would run a line the policy has not seen', () => {
    for (const text of ['!!\n', '!-2\n', '!rm\n', 'echo "!x"\n', '^x^r\n']) {
      assert.equal(outcome(check(deny, { text, running: 'bash -i' })), 'refused', text);
    }
    for (const text of ["echo '!x'\n", 'echo hi!\n', 'test ! -f x\n', '[ a != b ]\n']) {
      assert.equal(outcome(check(deny, { text, running: 'bash -i' })), 'commands', text);
    }
  });

  it('refuses line editing it cannot follow', () => {
    assert.equal(outcome(check(deny, { text: 'rmx\x7f -rf /tmp/x\n', running: 'bash' })), 'refused');
    assert.equal(outcome(check(deny, { text: '\x1b[A\n', running: 'bash' })), 'refused'); // history recall
  });

  it('checks nothing without a policy', () => {
    assert.deepEqual(check(none, { text: 'rm -rf /\n' }), {
      allowed: true,
      as: 'unchecked',
      checked: 0,
      pending: '',
    });
  });

  it('reads a device line with the device syntax', () => {
    const device = compilePolicy({ allow: [], deny: [{ pattern: 'reload', origin: 'x' }], presets: [] });
    const d = checkInput(device, { text: 'rel\n', running: 'show tech' }, { abbreviations: true });
    assert.equal(outcome(d), 'refused');
  });
});
