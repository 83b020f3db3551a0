import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configWarnings, describeConfig } from '../../src/config/describe.js';
import { type LoadedConfig, validateConfig } from '../../src/config/load.js';
import {
  describeSecret,
  missingSecretMessage,
  parseSecretRef,
  resolveSecret,
  secretFileWarning,
} from '../../src/config/secrets.js';
import { redact } from '../../src/util/secrets.js';

let dir: string;
const saved = new Map<string, string | undefined>();

function setEnv(name: string, value: string | undefined): void {
  if (!saved.has(name)) saved.set(name, process.env[name]);
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'config-inventory-'));
});

after(async () => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

/** A config as a JS object, validated as if read from <dir>/config.yaml. */
const load = (data: unknown): LoadedConfig => validateConfig(data, path.join(dir, 'config.yaml'));

describe('Inventory precedence', () => {
  const config = {
    defaults: {
      user: 'default-user',
      port: 2200,
      dialect: 'linux',
      key: 'keys/default',
      password: 'env:DEFAULT_PASS',
      host_key: { policy: 'strict', known_hosts: '~/kh' },
      algorithms: { kex: ['curve25519-sha256'], cipher: ['aes128-ctr'] },
      policy: { deny: ['reboot'] },
    },
    groups: {
      first: {
        user: 'first-user',
        dialect: 'cisco-ios',
        jump: 'bastion',
        algorithms: { cipher: { append: ['aes128-cbc'] } },
        host_key: 'off',
        policy: { preset: 'read-only', deny: ['reload'] },
      },
      second: {
        user: 'second-user',
        port: 2300,
        enable_password: 'file:secrets/enable',
        host_key: { known_hosts: 'group_kh' },
        policy: { allow: ['ping *'] },
      },
    },
    hosts: {
      sw1: {
        host: '10.0.0.1',
        groups: ['first', 'second'],
        dialect: 'arista-eos',
        tags: ['core'],
        description: 'core switch',
        policy: { allow: ['show *'], deny: ['show tech'] },
      },
      bare: null,
    },
  };

  it('takes each field from the host, then its first group that sets it; defaults stay apart', () => {
    const sw1 = load(config).inventory.settings('sw1');
    assert.ok(sw1);
    assert.equal(sw1.entry.hostName, '10.0.0.1');
    assert.equal(sw1.entry.dialect, 'arista-eos');
    assert.equal(sw1.entry.origins.dialect, 'host sw1');
    assert.equal(sw1.entry.user, 'first-user');
    assert.equal(sw1.entry.origins.user, 'group first');
    assert.equal(sw1.entry.port, 2300);
    assert.equal(sw1.entry.origins.port, 'group second');
    assert.equal(sw1.entry.proxyJump, 'bastion');
    assert.deepEqual(sw1.entry.enablePassword, { kind: 'file', path: path.join(dir, 'secrets/enable') });
    // Nothing from defaults in the entry: ~/.ssh/config goes between the two.
    assert.equal(sw1.entry.password, undefined);
    assert.equal(sw1.entry.identityFile, undefined);
    assert.deepEqual(sw1.fallback, {
      user: 'default-user',
      port: 2200,
      dialect: 'linux',
      identityFile: path.join(dir, 'keys/default'),
      password: { kind: 'env', name: 'DEFAULT_PASS' },
      origins: {
        user: 'defaults',
        port: 'defaults',
        dialect: 'defaults',
        identityFile: 'defaults',
        password: 'defaults',
      },
    });
    assert.deepEqual(sw1.tags, ['core']);
    assert.deepEqual(sw1.groups, ['first', 'second']);
    assert.equal(sw1.description, 'core switch');
  });

  it('merges host_key and algorithms field by field, host > groups > defaults', () => {
    const sw1 = load(config).inventory.settings('sw1');
    assert.deepEqual(sw1?.hostKey, { policy: 'off', knownHostsFile: path.join(dir, 'group_kh') });
    assert.deepEqual(sw1?.algorithms, { kex: ['curve25519-sha256'], cipher: { append: ['aes128-cbc'] } });
  });

  it('combines policies from every level, most general first, each rule with its origin', () => {
    const sw1 = load(config).inventory.settings('sw1');
    assert.deepEqual(sw1?.policy, {
      allow: [
        { pattern: 'ping *', origin: 'group second' },
        { pattern: 'show *', origin: 'host sw1' },
      ],
      deny: [
        { pattern: 'reboot', origin: 'defaults' },
        { pattern: 'reload', origin: 'group first' },
        { pattern: 'show tech', origin: 'host sw1' },
      ],
      presets: [{ name: 'read-only', origin: 'group first' }],
    });
  });

  it('treats an empty host entry as a host with defaults only', () => {
    const { inventory } = load(config);
    const bare = inventory.settings('bare');
    assert.ok(bare);
    assert.deepEqual(bare.entry, { origins: {} });
    assert.equal(bare.fallback.user, 'default-user');
    assert.deepEqual(bare.policy.deny, [{ pattern: 'reboot', origin: 'defaults' }]);
    assert.deepEqual(bare.hostKey, { policy: 'strict', knownHostsFile: path.join(homedir(), 'kh') });
  });

  it('gives a name outside the inventory the defaults', () => {
    const { inventory } = load(config);
    assert.equal(inventory.settings('10.9.9.9'), undefined);
    assert.equal(inventory.has('10.9.9.9'), false);
    assert.equal(inventory.has('sw1'), true);
    assert.equal(inventory.has('constructor'), false);
    const other = inventory.defaults('10.9.9.9');
    assert.equal(other.name, '10.9.9.9');
    assert.equal(other.inInventory, false);
    assert.deepEqual(other.entry, { origins: {} });
    assert.equal(other.fallback.port, 2200);
    assert.deepEqual(other.policy, {
      allow: [],
      deny: [{ pattern: 'reboot', origin: 'defaults' }],
      presets: [],
    });
    assert.deepEqual(other.algorithms, { kex: ['curve25519-sha256'], cipher: ['aes128-ctr'] });
  });

  it('lists hosts with secret references and no values', () => {
    setEnv('DEFAULT_PASS', 'the-default-password');
    const list = load(config).inventory.list();
    assert.deepEqual(
      list.map((h) => h.name),
      ['sw1', 'bare'],
    );
    const [sw1, bare] = list;
    assert.equal(sw1?.host, '10.0.0.1');
    assert.equal(sw1?.user, 'first-user');
    assert.equal(sw1?.port, 2300);
    assert.equal(sw1?.dialect, 'arista-eos');
    assert.equal(sw1?.jump, 'bastion');
    assert.equal(sw1?.policy, 'preset read-only; allow 2; deny 3');
    assert.deepEqual(sw1?.secrets, {
      password: 'env:DEFAULT_PASS (set)',
      enable_password: `file:${path.join(dir, 'secrets/enable')} (missing)`,
    });
    assert.equal(bare?.host, 'bare');
    assert.equal(bare?.user, 'default-user');
    assert.doesNotMatch(JSON.stringify(list), /the-default-password/);
  });
});

describe('the worked examples of docs/configuration.md', () => {
  it('precedence: host, then groups in order, defaults apart; host_key field by field', () => {
    const { inventory } = load({
      defaults: {
        user: 'admin',
        dialect: 'linux',
        host_key: { policy: 'strict', known_hosts: '~/lab/known_hosts' },
      },
      groups: {
        network: { user: 'netops', dialect: 'cisco-ios' },
        dc1: { user: 'dc1ops', port: 2222, host_key: 'accept-new' },
      },
      hosts: { 'core-sw1': { host: '10.0.0.1', groups: ['network', 'dc1'] } },
    });
    const core = inventory.settings('core-sw1');
    assert.equal(core?.entry.hostName, '10.0.0.1');
    assert.equal(core?.entry.user, 'netops');
    assert.equal(core?.entry.port, 2222);
    assert.equal(core?.entry.dialect, 'cisco-ios');
    assert.equal(core?.entry.identityFile, undefined, 'left to ~/.ssh/config');
    assert.deepEqual(core?.hostKey, {
      policy: 'accept-new',
      knownHostsFile: path.join(homedir(), 'lab/known_hosts'),
    });
    const other = inventory.defaults('10.0.0.50');
    assert.equal(other.entry.user, undefined, "~/.ssh/config's Host * goes before defaults");
    assert.equal(other.fallback.user, 'admin');
    assert.equal(other.fallback.dialect, 'linux');
  });

  it('policies combine', () => {
    const { inventory } = load({
      defaults: { policy: { deny: ['reload'] } },
      groups: { network: { policy: { preset: 'read-only' } } },
      hosts: { 'core-sw1': { groups: ['network'], policy: { allow: ['clear counters *'] } } },
    });
    assert.deepEqual(inventory.settings('core-sw1')?.policy, {
      allow: [{ pattern: 'clear counters *', origin: 'host core-sw1' }],
      deny: [{ pattern: 'reload', origin: 'defaults' }],
      presets: [{ name: 'read-only', origin: 'group network' }],
    });
  });
});

describe('secret references', () => {
  it('parses env: and file: and describes literals as refused', () => {
    assert.deepEqual(parseSecretRef('env:CORE_PASS'), { kind: 'env', name: 'CORE_PASS' });
    assert.deepEqual(parseSecretRef('file:~/x'), { kind: 'file', path: '~/x' });
    assert.match(parseSecretRef('hunter2') as string, /put it in an environment variable/);
    assert.match(parseSecretRef('env:1BAD') as string, /needs a variable name/);
  });

  it('resolves env: when used, and registers the value for masking', async () => {
    const ref = { kind: 'env', name: 'CFG_TEST_SECRET' } as const;
    setEnv('CFG_TEST_SECRET', undefined);
    assert.equal(await resolveSecret(ref), undefined);
    assert.equal(describeSecret(ref), 'env:CFG_TEST_SECRET (missing)');
    setEnv('CFG_TEST_SECRET', '');
    assert.equal(await resolveSecret(ref), undefined, 'empty counts as missing');
    setEnv('CFG_TEST_SECRET', 'late-export-value');
    assert.equal(describeSecret(ref), 'env:CFG_TEST_SECRET (set)');
    assert.equal(await resolveSecret(ref), 'late-export-value');
    assert.equal(redact('got late-export-value here'), 'got ******** here');
  });

  it('resolves file: with one trailing newline trimmed', async () => {
    const file = path.join(dir, 'enable-secret');
    await writeFile(file, 'file-secret-1\n\n');
    assert.equal(await resolveSecret({ kind: 'file', path: file }), 'file-secret-1\n');
    await writeFile(file, 'file-secret-2\r\n');
    assert.equal(await resolveSecret({ kind: 'file', path: file }), 'file-secret-2');
    assert.equal(redact('x file-secret-2 y'), 'x ******** y');
    assert.equal(await resolveSecret({ kind: 'file', path: path.join(dir, 'absent') }), undefined);
    assert.equal(await resolveSecret({ kind: 'file', path: dir }), undefined, 'a folder is not a secret');
  });

  it('names the variable or file that is missing, never a value', () => {
    assert.match(
      missingSecretMessage({ kind: 'env', name: 'CORE_PASS' }, 'password for core-sw1'),
      /^password for core-sw1: environment variable CORE_PASS is not set or empty/,
    );
    assert.match(
      missingSecretMessage({ kind: 'file', path: '/etc/x' }, 'enable_password for sw'),
      /file \/etc\/x cannot be read or is empty/,
    );
  });

  it('warns about secret files other users can read', async () => {
    const file = path.join(dir, 'loose');
    await writeFile(file, 'loose-secret\n');
    await chmod(file, 0o644);
    assert.match(
      secretFileWarning({ kind: 'file', path: file }) ?? '',
      /open to other users \(mode 644\); run: chmod 600/,
    );
    await chmod(file, 0o640);
    assert.match(secretFileWarning({ kind: 'file', path: file }) ?? '', /open to its group \(mode 640\)/);
    await chmod(file, 0o600);
    assert.equal(secretFileWarning({ kind: 'file', path: file }), undefined);
    assert.equal(secretFileWarning({ kind: 'env', name: 'X' }), undefined);
  });
});

describe('describeConfig', () => {
  it('shows each host resolved, with origins, and never a secret value', async () => {
    const secretFile = path.join(dir, 'sw-enable');
    await writeFile(secretFile, 'enable-from-file-value\n');
    await chmod(secretFile, 0o644);
    setEnv('CFG_SW_PASSWORD', 'password-from-env-value');
    setEnv('CFG_UNSET_SECRET', undefined);
    const loaded = load({
      defaults: { user: 'netops', host_key: 'off' },
      groups: {
        network: { dialect: 'cisco-ios', password: 'env:CFG_SW_PASSWORD', policy: { preset: 'read-only' } },
      },
      hosts: {
        sw1: {
          host: '192.0.2.1',
          groups: ['network'],
          enable_password: `file:${secretFile}`,
          sudo_password: 'env:CFG_UNSET_SECRET',
          jump: 'bastion',
          host_key: { fingerprints: ['SHA256:q0jGJq3R8mTtuK4DWqzvD8VvGkjS6a1rYQ3p6v7mV2o'] },
          algorithms: { server_host_key: { append: ['ssh-rsa'] }, cipher: ['aes128-cbc'] },
          tags: ['core'],
          policy: { deny: ['reload', 'write *'] },
          description: 'Core switch',
        },
        bastion: { key: './missing-key', dialect: 'linux' },
      },
      security: { allow_tool_secrets: false },
      audit: { path: 'audit.jsonl' },
      dialect_paths: ['./no-such-dialects'],
      limits: { connect_timeout: 5 },
    });
    // Resolving registers the values for masking: the text must not contain them either way.
    await resolveSecret({ kind: 'env', name: 'CFG_SW_PASSWORD' });
    const text = describeConfig(loaded);

    assert.doesNotMatch(text, /password-from-env-value/);
    assert.doesNotMatch(text, /enable-from-file-value/);
    assert.match(text, new RegExp(`^Config file: ${path.join(dir, 'config.yaml')}`));
    assert.match(text, /Security: secrets as tool parameters refused/);
    assert.ok(text.includes(`Audit log: ${path.join(dir, 'audit.jsonl')}`), text);
    assert.match(text, /Limits: connect_timeout 5s/);
    assert.match(text, /Hosts \(2\):\n {2}sw1 - Core switch\n {4}host: 192\.0\.2\.1 \[host sw1\]/);
    assert.match(text, / {4}user: netops \[defaults\]/);
    assert.match(text, / {4}dialect: cisco-ios \[group network\]/);
    assert.match(text, / {4}jump: bastion \[host sw1\]/);
    assert.match(text, / {4}host_key: pinned to SHA256:q0jG\S+ \(known_hosts not used\)/);
    assert.match(text, / {4}tags: core/);
    assert.match(text, / {4}algorithms: server_host_key: append ssh-rsa \| cipher = aes128-cbc\n/);
    assert.match(
      text,
      / {6}preset \[group network\]: read-only\n {6}deny \[host sw1\]: "reload", "write \*"/,
    );
    assert.match(text, / {4}password: env:CFG_SW_PASSWORD \(set\) \[group network\]/);
    assert.ok(text.includes(`enable_password: file:${secretFile} (set) [host sw1]`), text);
    assert.match(text, / {4}sudo_password: env:CFG_UNSET_SECRET \(missing\) \[host sw1\]/);
    assert.match(
      text,
      /Any other host \(defaults\):\n {4}user: netops \[defaults\]\n {4}host_key: off, ~\/\.ssh\/known_hosts/,
    );

    const warnings = configWarnings(loaded);
    assert.ok(warnings.some((w) => /^bastion: host_key policy off/.test(w)));
    assert.ok(
      warnings.some((w) => /^defaults: host_key policy off applies to every host not in `hosts`/.test(w)),
    );
    assert.ok(
      !warnings.some((w) => w.startsWith('sw1: host_key')),
      'sw1 is pinned: the policy does not apply',
    );
    assert.ok(
      warnings.includes('env:CFG_UNSET_SECRET is not set or empty (used by sw1)'),
      warnings.join('\n'),
    );
    assert.ok(warnings.some((w) => w.includes(`secret file ${secretFile} is open to other users`)));
    assert.ok(
      warnings.some((w) => w === `key ${path.join(dir, 'missing-key')} does not exist (used by bastion)`),
    );
    assert.ok(
      warnings.some((w) => w.startsWith('dialect folder ') && w.endsWith('no-such-dialects does not exist')),
    );
    assert.match(text, /Warnings \(\d+\):\n {2}- /);
  });

  it('says when there is nothing to warn about', () => {
    const text = describeConfig(load({}));
    assert.match(text, /Hosts \(0\):\n {2}none/);
    assert.match(text, /Audit log: off/);
    assert.match(text, /Warnings: none$/);
  });
});
