// The files of examples/deployment/ agree with the server and with each other: the config loads as the
// server loads it (its commented OAuth block too) and its roles resolve against its inventory; the systemd
// unit starts what docs/deployment.md says, waits out the config's shutdown grace, and lets the server write
// where the config tells it to; nginx takes the bodies the server takes and routes every instance prefix.
// test/e2e/http-nginx.test.ts runs nginx.conf itself.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { compileRoles } from '../../src/config/roles.js';
import { serverLimits } from '../../src/server/server.js';

const DIR = new URL('../../examples/deployment/', import.meta.url).pathname;
const CONFIG = path.join(DIR, 'config.yaml');
const read = (name: string) => readFileSync(path.join(DIR, name), 'utf8');
const T = { timeout: 30_000 };

/** `Key=value` lines of a unit file, each key with all its values in order. */
function unitDirectives(text: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    directives.set(key, [...(directives.get(key) ?? []), value]);
  }
  return directives;
}

/** nginx sizes and times as bytes and seconds: 10m, 1h, 4s. */
function nginxValue(text: string, directive: string): number[] {
  const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, s: 1, h: 3600 };
  return [...text.matchAll(new RegExp(`^\\s*${directive} (\\d+)([kmsh]?);`, 'gm'))].map(
    ([, n, unit]) => Number(n) * (units[unit ?? ''] ?? Number.NaN),
  );
}

async function loaded() {
  const config = await loadConfig({ explicitPath: CONFIG });
  assert.ok(config, CONFIG);
  return config;
}

describe('examples/deployment', () => {
  it('config.yaml loads, tokens by reference, and its roles resolve against its inventory', T, async () => {
    const config = await loaded();
    const http = config.config.http;
    assert.equal(http?.public_url, 'https://mcp.example.com/mcp');
    assert.ok(config.auth && config.auth.tokens.length >= 2);
    for (const entry of config.auth.tokens) assert.equal(entry.token.kind, 'env', entry.user);
    assert.deepEqual(config.config.roles?.operator, {
      hosts: ['group:core'],
      tools: ['commands', 'sessions', 'inventory'],
      read_only: true,
      policy: { preset: ['read-only'] },
    });
    assert.deepEqual(config.config.roles?.admin, { hosts: ['*'], tools: ['all'] });
    const roles = compileRoles(config);
    assert.deepEqual([...(roles.get('operator')?.hosts ?? [])].sort(), ['core-sw1', 'core-sw2']);
    assert.equal(roles.get('admin')?.hosts, undefined, 'admin reaches every host');
    assert.deepEqual(
      config.auth.tokens.flatMap((t) => t.roles).sort(),
      ['admin', 'operator'],
      'each token holds a role the file defines',
    );
  });

  it('config.yaml with its OAuth block uncommented loads too', T, () => {
    const text = read('config.yaml');
    const block = /^ {2}# oauth:\n(?: {2}# {3}.*\n)+/m.exec(text)?.[0];
    assert.ok(block, 'a commented oauth: block under auth:');
    const uncommented = block.replace(/^ {2}# /gm, '  ');
    const config = validateConfig(parseYaml(text.replace(block, uncommented)), CONFIG);
    assert.equal(config.auth?.oauth?.issuer, 'https://idp.example.com/realms/net');
    assert.equal(config.auth?.oauth?.audience, config.config.http?.public_url);
    assert.equal(config.auth?.oauth?.rolesClaim, 'realm_access.roles');
  });

  it('the systemd unit starts serve --http on loopback and outlasts the shutdown grace', T, async () => {
    const config = await loaded();
    const unit = unitDirectives(read('mcp-ssh-session.service'));
    const one = (key: string) => {
      const values = unit.get(key) ?? [];
      assert.equal(values.length, 1, `${key}: ${values}`);
      return values[0] as string;
    };
    assert.match(
      one('ExecStart'),
      /dist\/cli\.js serve --http 127\.0\.0\.1:8080 --config \/etc\/mcp-ssh-session\/config\.yaml$/,
    );
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('Restart'), 'on-failure');
    const grace = config.config.http?.shutdown_grace ?? 30;
    assert.ok(
      Number(one('TimeoutStopSec')) > grace,
      `TimeoutStopSec ${one('TimeoutStopSec')}, grace ${grace}`,
    );
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
    ]) {
      assert.equal(one(key as string), value, key);
    }
    // node's JIT needs memory that is writable and executable.
    assert.equal(unit.has('MemoryDenyWriteExecute'), false);
    assert.equal(one('EnvironmentFile'), '/etc/mcp-ssh-session/tokens.env');

    // Where the server writes, the unit lets it: the audit log in LogsDirectory, HOME (known_hosts) and the
    // SSH key in StateDirectory.
    const home = `/var/lib/${one('StateDirectory')}`;
    assert.ok((unit.get('Environment') ?? []).includes(`HOME=${home}`), `HOME=${home}`);
    assert.equal(path.dirname(config.auditPath ?? ''), `/var/log/${one('LogsDirectory')}`);
    assert.ok(config.config.defaults?.key?.startsWith(`${home}/`), config.config.defaults?.key);
  });

  it(
    'nginx.conf takes the bodies the server takes, waits longer than a call, routes each prefix',
    T,
    async () => {
      const config = await loaded();
      const text = read('nginx.conf');
      const [body] = nginxValue(text, 'client_max_body_size');
      assert.ok((body ?? 0) >= serverLimits({ config }).httpMaxRequestBytes, `client_max_body_size ${body}`);
      const [readTimeout] = nginxValue(text, 'proxy_read_timeout');
      assert.ok((readTimeout ?? 0) > 50, `proxy_read_timeout ${readTimeout} s, max_wait 50 s`);
      const keepalive = nginxValue(text, 'keepalive_timeout');
      assert.equal(keepalive.length, 3, 'one per upstream');
      // node closes an idle connection after 5 s: nginx must give it up first.
      assert.ok(
        keepalive.every((s) => s < 5),
        `keepalive_timeout ${keepalive}`,
      );
      for (const prefix of ['a', 'b']) {
        const upstream = new RegExp(`"~\\^${prefix}-"\\s+"(mcp_ssh_${prefix})";`).exec(text)?.[1];
        assert.ok(upstream, `map entry for ${prefix}-`);
        assert.match(
          text,
          new RegExp(`^upstream ${upstream} \\{\\n {4}server 127\\.0\\.0\\.1:\\d+;\\n`, 'm'),
        );
      }
      assert.match(text, /^\s*default "mcp_ssh_any";/m);
      for (const directive of ['proxy_buffering off;', 'proxy_cache off;', 'proxy_http_version 1.1;']) {
        assert.ok(text.includes(directive), directive);
      }
      assert.ok(text.includes('proxy_set_header Connection "";'));
    },
  );
});
