import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deploymentOf } from '../../src/config/deployment.js';
import { validateConfig } from '../../src/config/load.js';
import type { Dialect } from '../../src/dialect/dialect.js';
import { DialectError, DialectRegistry } from '../../src/dialect/loader.js';
import { checkOptionsFor, presetSource } from '../../src/policy/platform.js';
import { checkCommand, compilePolicy, type PolicyDecision } from '../../src/policy/policy.js';
import { CommandDeniedError } from '../../src/session/manager.js';
import { loadDialect } from '../support/device-policy.js';

/** `preset: read-only` on a host of this dialect, checked as the server checks it. */
async function readOnly(name: string) {
  const dialect = await loadDialect(name);
  const policy = compilePolicy(
    { allow: [], deny: [], presets: [{ name: 'read-only', origin: 'group network' }] },
    presetSource(dialect.name, dialect.policy),
  );
  return (input: string, mode?: string) =>
    checkCommand(policy, input, checkOptionsFor(dialect.policy, dialect.abbreviations, mode));
}

function decisions(check: (input: string) => PolicyDecision, inputs: string[]): Record<string, boolean> {
  return Object.fromEntries(inputs.map((input) => [input, check(input).allowed]));
}

function expectAll(check: (input: string) => PolicyDecision, inputs: string[], allowed: boolean): void {
  const wrong = Object.entries(decisions(check, inputs)).filter(([, a]) => a !== allowed);
  assert.deepEqual(wrong, [], `expected ${allowed ? 'allowed' : 'refused'}`);
}

describe('read-only presets from the dialect files', () => {
  it('gives the Huawei VRP example a working read-only preset from YAML alone', async () => {
    const check = await readOnly('huawei-vrp');
    expectAll(
      check,
      [
        'display current-configuration',
        'dis cu',
        'display interface brief | include up',
        'display current-configuration | begin interface',
        'display ip routing-table | exclude 127.0.0.1',
        'ping 10.0.0.1',
        'tracert 10.0.0.1',
      ],
      true,
    );
    expectAll(
      check,
      [
        'system-view',
        'save',
        'reboot',
        'reset counters interface',
        'undo info-center enable',
        'screen-length 0 temporary',
        'include up',
        'display current-configuration > flash:/backup.cfg',
        'show version',
        'display version; reboot',
      ],
      false,
    );
    assert.match(
      (check('system-view') as Extract<PolicyDecision, { allowed: false }>).reason,
      /matches no allow rule \(allow rules from preset read-only \(group network\)\)/,
    );
  });

  it('keeps each platform to its own commands and filters', async () => {
    const ios = await readOnly('cisco-ios');
    const eos = await readOnly('arista-eos');
    const junos = await readOnly('junos');
    assert.deepEqual(decisions(ios, ['sh run | i host', 'show version | json', 'display version']), {
      'sh run | i host': true,
      'show version | json': false,
      'display version': false,
    });
    // arista-eos extends cisco-ios: the IOS lists, plus its own filters
    assert.deepEqual(
      decisions(eos, ['sh run | i host', 'show version | json', 'show run | redirect flash:x']),
      {
        'sh run | i host': true,
        'show version | json': true,
        'show run | redirect flash:x': false,
      },
    );
    assert.deepEqual(decisions(junos, ['show configuration | display set', 'show log | save /var/tmp/x']), {
      'show configuration | display set': true,
      'show log | save /var/tmp/x': false,
    });
  });

  it('reads the prefixes a dialect declares: do, run, and a shell prefix', async () => {
    const deny = compilePolicy({ allow: [], deny: [{ pattern: 'reload', origin: 'x' }], presets: [] });
    const options = async (name: string, mode?: string) => {
      const d = await loadDialect(name);
      return checkOptionsFor(d.policy, d.abbreviations, mode);
    };
    assert.equal(checkCommand(deny, 'do reload', await options('cisco-ios')).allowed, false);
    assert.equal(checkCommand(deny, 'run reload', await options('junos')).allowed, false);
    assert.equal(checkCommand(deny, 'run reload', await options('cisco-ios')).allowed, true); // not an IOS prefix
    const reboot = compilePolicy({ allow: [], deny: [{ pattern: 'reboot', origin: 'x' }], presets: [] });
    assert.equal(checkCommand(reboot, 'bash sudo reboot', await options('arista-eos')).allowed, false);
    // In the bash mode a line is a shell command line, without abbreviations.
    assert.equal(checkCommand(reboot, 'ls; reboot', await options('arista-eos', 'bash')).allowed, false);
    assert.equal(checkCommand(reboot, 'reb', await options('arista-eos', 'bash')).allowed, true);
  });

  it('gives linux a conservative read-only preset: reading files and state, nothing that changes them', async () => {
    const check = await readOnly('linux');
    expectAll(
      check,
      [
        'ls -la /var/log',
        'cat /etc/os-release | grep ^ID=',
        'tail -n 100 /var/log/syslog',
        'journalctl -u nginx -n 50 --no-pager',
        'systemctl status nginx',
        'ps aux | sort -k3 -rn | head',
        'df -h; free -m; uptime',
        'ip addr show',
        'find /etc -name "*.conf" -newer /etc/hostname',
        'ss -tlnp',
      ],
      true,
    );
    expectAll(
      check,
      [
        'rm -rf /tmp/x',
        'systemctl restart nginx',
        'ip addr add 10.0.0.1/24 dev eth0',
        'sed -i s/a/b/ /etc/hosts',
        'echo x > /etc/motd',
        'sort -o /etc/passwd /tmp/x',
        'find / -name x -delete',
        'find / -exec rm {} +',
        'journalctl --vacuum-time=1d',
        'dmesg -c',
        'ss -K dst 10.0.0.1',
        'sudo cat /etc/shadow',
        'awk "{print}" /etc/hosts',
        'cat /etc/hosts | bash',
        'hostname new-name',
        'date -s 2020-01-01',
      ],
      false,
    );
    const sudo = await loadDialect('linux-sudo');
    assert.ok(sudo.policy.presets['read-only'], 'linux-sudo inherits it');
  });
});

describe('a host whose dialect has no read-only preset', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'policy-dialects-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lab = `name: lab
channel: { type: shell }
abbreviations: true
completion: { strategy: prompt }
prompt_learn: '^(?<host>\\w+)>$'
modes: { exec: { prompt: '{{host}}>' } }
interrupt: { send: "\\u0003" }
`;

  it('is refused at first use, naming the dialect that lacks it; nothing is sent', async () => {
    await writeFile(path.join(dir, 'lab.yaml'), lab);
    const dialect: Dialect = await new DialectRegistry([dir]).get('lab');
    const loaded = validateConfig(
      { groups: { network: { policy: { preset: 'read-only' } } }, hosts: { sw1: { groups: ['network'] } } },
      path.join(dir, 'config.yaml'),
    );
    const deployment = deploymentOf(loaded);
    assert.throws(
      () => deployment.checkCommand(['sw1'], 'show version', dialect),
      (error: Error) =>
        error instanceof CommandDeniedError &&
        /nothing was sent: the policy for sw1 cannot be used: preset read-only \(group network\): dialect lab has no read-only preset \(no policy\.read_only section in its file\)/.test(
          error.message,
        ),
    );
  });

  it('checks typed input for the session layer with the same policy', async () => {
    const linux = await loadDialect('linux');
    const loaded = validateConfig(
      { hosts: { web1: { policy: { deny: ['rm'] } } } },
      path.join(dir, 'config.yaml'),
    );
    const deployment = deploymentOf(loaded);
    assert.deepEqual(deployment.checkInput(['web1'], { text: 'y\n', waiting: { kind: 'yes_no' } }, linux), {
      policy: 'allowed',
      pending: '',
    });
    assert.deepEqual(deployment.checkInput(['web1'], { text: 'ls -', running: 'bash' }, linux), {
      policy: 'allowed',
      pending: 'ls -',
    });
    assert.throws(
      () => deployment.checkInput(['web1'], { text: 'rm -rf /tmp/x\n', running: 'bash' }, linux),
      (error: Error) =>
        error instanceof CommandDeniedError &&
        /^input refused by the policy for web1, nothing was typed: typed input is checked as command lines/.test(
          error.message,
        ),
    );
    assert.deepEqual(deployment.checkInput(['other'], { text: 'rm -rf /\n' }, linux), {
      policy: 'not-checked',
      pending: '',
    });
  });

  it('is checked when the dialect is loaded: a bad pattern or an unknown shell mode is an error there', async () => {
    await writeFile(
      path.join(dir, 'bad.yaml'),
      `${lab.replace('name: lab', 'name: bad')}policy:\n  shell_modes: [shel]\n  read_only:\n    allow: ["re:(x"]\n`,
    );
    await assert.rejects(new DialectRegistry([dir]).get('bad'), (error: Error) => {
      assert.ok(error instanceof DialectError);
      assert.match(error.message, /bad\.yaml:\d+:\d+: policy\.shell_modes\[0\]: no mode named "shel"/);
      assert.match(error.message, /policy\.read_only\.allow\[0\]: invalid regular expression/);
      return true;
    });
  });
});
