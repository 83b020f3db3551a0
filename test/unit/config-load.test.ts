import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/config/errors.js';
import { RESULT_CEILING, resolveLimits } from '../../src/config/limits.js';
import { loadConfig, typescriptLoader } from '../../src/config/load.js';
import { serverLimits } from '../../src/server/server.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/config/', import.meta.url));
const home = homedir();

let root: string;
let savedXdg: string | undefined;
let n = 0;

/** A fresh folder holding the given files. */
async function folder(files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `case-${++n}`);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

/** Load one YAML text through --config and return the error message it fails with. */
async function errorOf(text: string, name = 'config.yaml'): Promise<{ message: string; file: string }> {
  const dir = await folder({ [name]: text });
  const file = path.join(dir, name);
  try {
    await loadConfig({ explicitPath: file });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return { message: error.message, file };
  }
  assert.fail('the config loaded');
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'config-load-'));
  // The search ends in the user's config folder: point it at an empty one so the machine's config cannot leak in.
  savedXdg = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = path.join(root, 'xdg');
});

after(async () => {
  if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = savedXdg;
  await rm(root, { recursive: true, force: true });
});

describe('examples/config/network-lab.yaml', () => {
  it('loads and resolves hosts, groups, policies and paths', async () => {
    const loaded = await loadConfig({ explicitPath: path.join(EXAMPLES, 'network-lab.yaml') });
    assert.ok(loaded);
    const { inventory } = loaded;
    assert.deepEqual(inventory.names(), [
      'bastion',
      'core-sw1',
      'spine1',
      'edge-r1',
      'old-sw1',
      'nx1',
      'lab-r1',
    ]);

    const core = inventory.settings('core-sw1');
    assert.ok(core);
    assert.equal(core.entry.hostName, '192.0.2.1');
    assert.equal(core.entry.dialect, 'cisco-ios');
    assert.equal(core.entry.proxyJump, 'bastion');
    assert.equal(core.entry.origins.proxyJump, 'group network');
    assert.deepEqual(core.entry.password, { kind: 'env', name: 'LAB_NET_PASSWORD' });
    assert.deepEqual(core.entry.enablePassword, { kind: 'env', name: 'LAB_ENABLE_SECRET' });
    // user comes from defaults, which stay apart from the entry so ~/.ssh/config can sit in between.
    assert.equal(core.entry.user, undefined);
    assert.equal(core.fallback.user, 'netops');
    assert.deepEqual(core.policy, {
      allow: [],
      deny: [],
      presets: [{ name: 'read-only', origin: 'group network' }],
    });
    assert.deepEqual(core.hostKey, { policy: 'accept-new' });

    const edge = inventory.settings('edge-r1');
    assert.deepEqual(edge?.policy.allow, [
      { pattern: 'request support information', origin: 'host edge-r1' },
    ]);

    const old = inventory.settings('old-sw1');
    assert.deepEqual(old?.groups, ['network', 'legacy']);
    assert.deepEqual(old?.algorithms, {
      kex: { append: ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'] },
      serverHostKey: { append: ['ssh-rsa'] },
      cipher: { append: ['aes128-cbc', 'aes256-cbc'] },
      hmac: { append: ['hmac-sha1'] },
    });
    // Pinned: the defaults' accept-new does not apply.
    assert.deepEqual(old?.hostKey, { fingerprints: ['SHA256:q0jGJq3R8mTtuK4DWqzvD8VvGkjS6a1rYQ3p6v7mV2o'] });

    const bastion = inventory.settings('bastion');
    assert.equal(bastion?.entry.identityFile, path.join(home, '.ssh/lab_bastion_ed25519'));
    assert.equal(bastion?.hostKey?.policy, 'strict');
    assert.equal(bastion?.entry.proxyJump, undefined);

    const lab = inventory.settings('lab-r1');
    assert.deepEqual(
      lab?.policy.deny.map((d) => d.pattern),
      ['reload', 'write erase', 'erase', 'format *'],
    );
    assert.deepEqual(lab?.policy.presets, []);
    assert.equal(lab?.entry.user, 'admin');

    assert.deepEqual(loaded.security, { allowToolSecrets: false, inventoryOnly: true });
    assert.equal(loaded.auditPath, path.join(home, '.local/state/mcp-ssh-session/network-lab.jsonl'));
    assert.deepEqual(loaded.dialectPaths, [path.resolve(EXAMPLES, '../dialects')]);
    assert.deepEqual(loaded.limits, { connectTimeoutMs: 30_000 });
  });
});

describe('examples/config/linux-fleet.yaml', () => {
  it('loads and resolves hosts, groups, policies and paths', async () => {
    const loaded = await loadConfig({ explicitPath: path.join(EXAMPLES, 'linux-fleet.yaml') });
    assert.ok(loaded);
    const { inventory } = loaded;
    assert.deepEqual(inventory.names(), ['bastion', 'web1', 'web2', 'db1', 'staging']);

    const db = inventory.settings('db1');
    assert.ok(db);
    assert.equal(db.entry.port, 2222);
    assert.equal(db.entry.user, 'dba');
    assert.equal(db.entry.origins.user, 'group db');
    assert.equal(db.fallback.user, 'deploy');
    assert.equal(db.entry.proxyJump, 'bastion');
    assert.deepEqual(db.entry.sudoPassword, { kind: 'env', name: 'FLEET_DB_SUDO' });
    assert.deepEqual(db.fallback.keyPassphrase, { kind: 'env', name: 'FLEET_KEY_PASSPHRASE' });
    assert.equal(db.fallback.identityFile, path.join(home, '.ssh/fleet_ed25519'));
    assert.equal(db.fallback.dialect, 'linux');
    assert.deepEqual(
      db.policy.deny.map((d) => `${d.pattern} @ ${d.origin}`),
      [
        'reboot @ defaults',
        'shutdown @ defaults',
        'poweroff @ defaults',
        'halt @ defaults',
        'mkfs* @ defaults',
        'rm -rf / @ defaults',
        'dropdb * @ group db',
        'systemctl stop postgresql* @ group db',
      ],
    );
    // known_hosts is relative to the config file's folder.
    assert.deepEqual(db.hostKey, { policy: 'strict', knownHostsFile: path.join(EXAMPLES, 'known_hosts') });

    const staging = inventory.settings('staging');
    assert.deepEqual(staging?.hostKey, {
      policy: 'accept-new',
      knownHostsFile: path.join(EXAMPLES, 'known_hosts'),
    });
    assert.deepEqual(inventory.settings('web1')?.tags, ['prod', 'eu']);

    assert.deepEqual(loaded.security, { allowToolSecrets: true, inventoryOnly: false });
    assert.deepEqual(loaded.limits, { maxOutputBytes: 20971520 });
    assert.deepEqual(loaded.dialectPaths, []);
  });
});

describe('finding the config file', () => {
  it('returns undefined when there is none', async () => {
    const dir = await folder({ 'unrelated.yaml': 'hosts: {}\n' });
    assert.equal(await loadConfig({ searchFrom: dir }), undefined);
  });

  it('finds an rc file (YAML) in the start folder', async () => {
    const dir = await folder({ '.mcp-ssh-sessionrc': 'hosts:\n  sw1:\n    port: 2201\n' });
    const loaded = await loadConfig({ searchFrom: dir });
    assert.equal(loaded?.file, path.join(dir, '.mcp-ssh-sessionrc'));
    assert.equal(loaded?.inventory.settings('sw1')?.entry.port, 2201);
  });

  it('finds mcp-ssh-session.config.json in a parent folder', async () => {
    const dir = await folder({
      'mcp-ssh-session.config.json': '{ "hosts": { "web": { "user": "ops" } } }',
      'sub/deeper/.keep': '',
    });
    const loaded = await loadConfig({ searchFrom: path.join(dir, 'sub/deeper') });
    assert.equal(loaded?.file, path.join(dir, 'mcp-ssh-session.config.json'));
    assert.equal(loaded?.inventory.settings('web')?.entry.user, 'ops');
  });

  it('does not look in parent folders with searchStrategy none', async () => {
    const dir = await folder({ 'mcp-ssh-session.config.yaml': 'hosts: {}\n', 'sub/.keep': '' });
    assert.equal(await loadConfig({ searchFrom: path.join(dir, 'sub'), searchStrategy: 'none' }), undefined);
  });

  it('reads the mcp-ssh-session key of package.json, with line numbers', async () => {
    const pkg = JSON.stringify({ name: 'x', 'mcp-ssh-session': { hosts: { a: { prot: 1 } } } }, null, 2);
    const dir = await folder({ 'package.json': pkg });
    await assert.rejects(loadConfig({ searchFrom: dir }), (error: Error) => {
      assert.match(error.message, /package\.json:6:9: hosts\.a\.prot: unknown key \(did you mean "port"\?\)/);
      return true;
    });
  });

  it('skips a package.json without the key', async () => {
    const dir = await folder({ 'package.json': '{ "name": "x" }' });
    assert.equal(await loadConfig({ searchFrom: dir, searchStrategy: 'none' }), undefined);
  });

  it('loads an ES module config', async () => {
    const dir = await folder({
      'mcp-ssh-session.config.mjs': 'export default { hosts: { r1: { dialect: "junos" } } };\n',
    });
    const loaded = await loadConfig({ searchFrom: dir });
    assert.equal(loaded?.inventory.settings('r1')?.entry.dialect, 'junos');
  });

  it('loads a TypeScript config', async () => {
    const dir = await folder({
      'mcp-ssh-session.config.ts':
        'const port: number = 2022;\nexport default { hosts: { r2: { port } } };\n',
    });
    const loaded = await loadConfig({ searchFrom: dir });
    assert.equal(loaded?.inventory.settings('r2')?.entry.port, 2022);
  });

  it('finds config.yaml in the user config folder last', async () => {
    const xdg = process.env.XDG_CONFIG_HOME as string;
    await mkdir(path.join(xdg, 'mcp-ssh-session'), { recursive: true });
    await writeFile(path.join(xdg, 'mcp-ssh-session', 'config.yaml'), 'hosts:\n  global-host:\n');
    try {
      const dir = await folder({});
      const loaded = await loadConfig({ searchFrom: dir });
      assert.equal(loaded?.file, path.join(xdg, 'mcp-ssh-session', 'config.yaml'));
      assert.deepEqual(loaded?.inventory.names(), ['global-host']);
      // A file in the start folder comes first.
      const local = await folder({ '.mcp-ssh-sessionrc.yml': 'hosts:\n  local-host:\n' });
      assert.deepEqual((await loadConfig({ searchFrom: local }))?.inventory.names(), ['local-host']);
    } finally {
      await rm(path.join(xdg, 'mcp-ssh-session'), { recursive: true, force: true });
    }
  });

  it('requires an explicit path to exist', async () => {
    const missing = path.join(root, 'nope', 'config.yaml');
    await assert.rejects(loadConfig({ explicitPath: missing }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /config file .*nope\/config\.yaml does not exist \(given with --config\)/);
      return true;
    });
    await assert.rejects(loadConfig({ explicitPath: root }), /is not a file/);
  });

  it('reads an explicit path of any extension as YAML, and an empty file as an empty config', async () => {
    const dir = await folder({ 'lab.conf': 'hosts:\n  x1:\n    user: u\n', 'empty.yaml': '' });
    assert.equal(
      (await loadConfig({ explicitPath: path.join(dir, 'lab.conf') }))?.inventory.settings('x1')?.entry.user,
      'u',
    );
    const empty = await loadConfig({ explicitPath: path.join(dir, 'empty.yaml') });
    assert.deepEqual(empty?.inventory.names(), []);
    assert.deepEqual(empty?.security, { allowToolSecrets: true, inventoryOnly: false });
    assert.equal(empty?.auditPath, undefined);
  });
});

describe('TypeScript configs on a Node.js without type stripping', () => {
  const unknownExtension = async () => {
    throw Object.assign(new TypeError('Unknown file extension ".ts"'), {
      code: 'ERR_UNKNOWN_FILE_EXTENSION',
    });
  };

  it('says what to do when the typescript package is not installed either', async () => {
    const load = typescriptLoader({ importModule: unknownExtension, hasTypescript: () => false });
    await assert.rejects(Promise.resolve(load('/x/mcp-ssh-session.config.ts', '')), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /needs Node\.js 22\.18 or later/);
      assert.match(error.message, /npm install typescript/);
      assert.match(error.message, /\/x\/mcp-ssh-session\.config\.mjs/);
      return true;
    });
  });

  it('falls back to the typescript package when it is installed', async () => {
    const dir = await folder({});
    const file = path.join(dir, 'mcp-ssh-session.config.ts');
    const source = 'enum Port { Ssh = 2200 }\nexport default { hosts: { t: { port: Port.Ssh } } };\n';
    await writeFile(file, source);
    const load = typescriptLoader({ importModule: unknownExtension, hasTypescript: () => true });
    assert.deepEqual(await load(file, source), { hosts: { t: { port: 2200 } } });
  });

  it('passes other import errors through', async () => {
    const load = typescriptLoader({
      importModule: async () => {
        throw new SyntaxError('Unexpected token');
      },
      hasTypescript: () => true,
    });
    await assert.rejects(Promise.resolve(load('/x/a.ts', '')), /Unexpected token/);
  });
});

describe('errors', () => {
  it('names file, line:column, field and the closest key for a typo', async () => {
    const { message, file } = await errorOf('hosts:\n  core-sw1:\n    host: 10.0.0.1\n    prot: 22\n');
    assert.ok(
      message.includes(`${file}:4:5: hosts.core-sw1.prot: unknown key (did you mean "port"?)`),
      message,
    );
    assert.match(message, /expected one of: host, port, user/);
  });

  it('suggests top-level and nested keys', async () => {
    const { message, file } = await errorOf(
      'host:\n  a: {}\ndefaults:\n  policy: { dney: [x] }\n  algorithms:\n    hmac: { apend: [hmac-sha1] }\n',
    );
    assert.ok(message.includes(`${file}:1:1: host: unknown key (did you mean "hosts"?)`), message);
    assert.ok(
      message.includes(`${file}:4:13: defaults.policy.dney: unknown key (did you mean "deny"?)`),
      message,
    );
    assert.ok(
      message.includes(`${file}:6:13: defaults.algorithms.hmac.apend: unknown key (did you mean "append"?)`),
      message,
    );
  });

  it('lists the known keys without a guess when nothing is close', async () => {
    const { message } = await errorOf('hosts:\n  a:\n    colour: blue\n');
    assert.match(message, /hosts\.a\.colour: unknown key; expected one of: /);
    assert.doesNotMatch(message, /did you mean/);
  });

  it('gives line:column of a YAML syntax error', async () => {
    const { message, file } = await errorOf('hosts:\n  a: [1, 2\n  b: x\n');
    assert.ok(message.startsWith(`${file}:3:3: `), message);
  });

  it('gives line:column of a JSON syntax error', async () => {
    const { message, file } = await errorOf(
      '{\n  "hosts": {\n    "a": {},\n  }\n}\n',
      'mcp-ssh-session.config.json',
    );
    assert.ok(message.startsWith(`${file}:4:3: `), message);
  });

  it('refuses a literal secret without repeating it, and suggests a variable name', async () => {
    const { message, file } = await errorOf(
      'hosts:\n  core-sw1:\n    password: hunter2-s3cret\ngroups:\n  network:\n    enable_password: 12345678\n',
    );
    assert.ok(message.includes(`${file}:3:15: hosts.core-sw1.password: a secret written in the config file`));
    assert.match(message, /put it in an environment variable and write env:NAME/);
    assert.match(message, /\(e\.g\. env:CORE_SW1_PASSWORD\)/);
    assert.match(message, /groups\.network\.enable_password: must be env:NAME/);
    assert.doesNotMatch(message, /hunter2/);
    assert.doesNotMatch(message, /12345678/);
  });

  it('rejects malformed references', async () => {
    const { message } = await errorOf('defaults:\n  password: "env:"\n  sudo_password: "file:"\n');
    assert.match(message, /defaults\.password: env: needs a variable name/);
    assert.match(message, /defaults\.sudo_password: file: needs a path/);
  });

  it('points at a group that does not exist', async () => {
    const { message, file } = await errorOf('groups:\n  network: {}\nhosts:\n  sw:\n    groups: [netwrok]\n');
    assert.ok(
      message.includes(
        `${file}:5:14: hosts.sw.groups[0]: no group named "netwrok" (did you mean "network"?)`,
      ),
      message,
    );
  });

  it('checks algorithm names against what ssh2 supports', async () => {
    const { message, file } = await errorOf(
      'defaults:\n  algorithms:\n    kex: { append: [diffie-hellman-group14-sha2] }\n    cipher: []\n',
    );
    assert.ok(
      message.includes(
        `${file}:3:21: defaults.algorithms.kex.append[0]: "diffie-hellman-group14-sha2" is not a kex algorithm ssh2 knows (did you mean "diffie-hellman-group14-sha1"?)`,
      ),
      message,
    );
    assert.match(message, /defaults\.algorithms\.cipher: an empty list would leave nothing to negotiate/);
  });

  it('explains the two forms of an algorithm list', async () => {
    const { message } = await errorOf('defaults:\n  algorithms:\n    cipher: 5\n');
    assert.match(
      message,
      /defaults\.algorithms\.cipher: expected a list of cipher algorithms .* or \{ append/,
    );
  });

  it('checks host_key policies, fingerprints, presets and regex patterns', async () => {
    const { message } = await errorOf(
      'defaults:\n  host_key: stric\n  policy: { preset: read-onyl, allow: ["re:(x"] }\nhosts:\n  a:\n    host_key: { fingerprints: [abc] }\n',
    );
    assert.match(message, /defaults\.host_key\.policy: expected one of "strict"\|"accept-new"\|"off"/);
    assert.match(message, /defaults\.policy\.preset: expected "read-only"/);
    assert.match(message, /defaults\.policy\.allow\[0\]: Invalid regular expression/);
    assert.match(message, /hosts\.a\.host_key\.fingerprints\[0\]: a SHA256 fingerprint/);
  });

  it('checks types and names', async () => {
    const { message, file } = await errorOf(
      'hosts:\n  "bad name": {}\n  ok:\n    port: "22"\nlimits:\n  connect_timeout: 0\n',
    );
    assert.ok(message.includes(`${file}:2:3: hosts.bad name: invalid name`), message);
    assert.ok(message.includes(`${file}:4:11: hosts.ok.port: expected number, received string`), message);
    assert.match(message, /limits\.connect_timeout: /);
  });

  it('reads max_wait and max_result_bytes, and holds max_result_bytes to the hard ceiling', async () => {
    const dir = await folder({ 'c.yaml': 'limits:\n  max_wait: 20\n  max_result_bytes: 30000\n' });
    const loaded = await loadConfig({ explicitPath: path.join(dir, 'c.yaml') });
    assert.deepEqual(loaded?.limits, { maxWaitMs: 20_000, maxResultBytes: 30_000 });
    const { message } = await errorOf('limits:\n  max_result_bytes: 2000000\n');
    assert.match(message, /limits\.max_result_bytes: /);
    const limits = resolveLimits({}, { maxResultBytes: 5_000_000 });
    assert.equal(limits.maxResultBytes, RESULT_CEILING);
    assert.equal(resolveLimits().maxWaitMs, 50_000);
  });

  it("resolves the http section's limits with the others: config over defaults, seconds as ms", async () => {
    const dir = await folder({
      'c.yaml': 'http:\n  max_request_bytes: 65536\n  shutdown_grace: 5\nlimits:\n  max_wait: 20\n',
    });
    const loaded = await loadConfig({ explicitPath: path.join(dir, 'c.yaml') });
    const limits = serverLimits({ config: loaded });
    assert.equal(limits.httpMaxRequestBytes, 65_536);
    assert.equal(limits.httpShutdownGraceMs, 5000);
    assert.equal(limits.httpMaxRequestsPerUser, 16);
    assert.equal(limits.httpMaxSessionsPerUser, 32);
    assert.equal(limits.maxWaitMs, 20_000);
  });

  it('reads `off` as the host_key policy, not as YAML 1.1 false', async () => {
    const dir = await folder({ 'c.yaml': 'defaults:\n  host_key: off\n' });
    const loaded = await loadConfig({ explicitPath: path.join(dir, 'c.yaml') });
    assert.deepEqual(loaded?.inventory.defaults().hostKey, { policy: 'off' });
  });

  it('refuses a host that jumps through itself', async () => {
    const { message } = await errorOf('hosts:\n  a:\n    jump: "b,a"\n');
    assert.match(message, /hosts\.a\.jump: "a" cannot be its own jump host/);
  });

  it("refuses cosmiconfig's $import", async () => {
    const { message } = await errorOf('$import: other.yaml\n');
    assert.match(message, /\$import is not supported/);
  });

  it('names the field of a JS config without line numbers', async () => {
    const dir = await folder({
      'mcp-ssh-session.config.mjs': 'export default { hosts: { a: { usr: "x" } } };\n',
    });
    await assert.rejects(loadConfig({ searchFrom: dir }), (error: Error) => {
      const file = path.join(dir, 'mcp-ssh-session.config.mjs');
      assert.ok(
        error.message.includes(`${file}: hosts.a.usr: unknown key (did you mean "user"?)`),
        error.message,
      );
      return true;
    });
  });

  it('wraps a JS config that throws', async () => {
    const dir = await folder({ 'mcp-ssh-session.config.cjs': 'throw new Error("boom");\n' });
    await assert.rejects(loadConfig({ searchFrom: dir }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /mcp-ssh-session\.config\.cjs: cannot be loaded: boom/);
      return true;
    });
  });
});
