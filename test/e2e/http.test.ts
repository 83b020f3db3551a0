// Team deployment end to end: the built server with `serve --http`, static tokens and OAuth access tokens
// (JWTs signed by a key served as JWKS from this test), roles, two users kept apart, Host header attacks,
// the open-bind refusal and SIGTERM draining, against a real sshd.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { type SshdHarness, startSshd } from '../harness/sshd.js';
import { httpClient, type RunningHttpServer, startHttpServer } from '../support/http-server.js';
import { CLI, NODE_FLAGS, textOf } from '../support/mcp-client.js';
import { tempDir } from '../support/temp.js';

const TOKENS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef00',
  mallory: 'mallory-token-0123456789abcd',
};
const PUBLIC_URL = 'http://mcp.test/mcp';

/** A raw HTTP exchange, for what fetch will not send (its own Host header). */
function raw(url: URL, method: string, headers: Record<string, string>, body?: string) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = request(url, { method, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});
const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('serve --http: authentication, roles and isolation against a real sshd', () => {
  let sshd: SshdHarness;
  let dir: string;
  let server: RunningHttpServer;
  let issuer: Server;
  let issuerUrl: string;
  let sign: (
    claims: JWTPayload,
    options?: { audience?: string; expiresIn?: string | number },
  ) => Promise<string>;
  let auditFile: string;

  before(async () => {
    sshd = await startSshd({ listenAddresses: ['127.0.0.1', '127.0.0.2'] });
    dir = tempDir('mcpt-http-');
    // An identity provider's part, as the server sees it: a JWKS document at a URL.
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    issuer = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/jwks' ? JSON.stringify({ keys: [jwk] }) : '{}');
    });
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
    issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
    sign = (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuerUrl)
        .setAudience(options.audience ?? PUBLIC_URL)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(privateKey);
    auditFile = path.join(dir, 'audit.jsonl');
    const host = (name: string, address: string, groups: string) =>
      `  ${name}:\n    host: ${address}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    key: ${sshd.userKeyPath}\n    groups: [${groups}]`;
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        'defaults:\n  dialect: linux\n  host_key: off',
        'groups:\n  core: {}\n  lab: {}',
        `hosts:\n${host('core1', '127.0.0.1', 'core')}\n${host('lab1', '127.0.0.2', 'lab')}`,
        `audit:\n  path: ${auditFile}`,
        `http:\n  public_url: ${PUBLIC_URL}\n  shutdown_grace: 20\n  max_requests_per_user: 3`,
        'auth:\n  tokens:',
        '    - { token: env:TOKEN_ALICE, user: alice, roles: [operator] }',
        '    - { token: env:TOKEN_BOB, user: bob, roles: [admin] }',
        '    - { token: env:TOKEN_MALLORY, user: mallory, roles: [intern] }',
        `  oauth:\n    issuer: ${issuerUrl}\n    jwks_uri: ${issuerUrl}/jwks\n    roles_claim: realm_access.roles`,
        'roles:',
        '  operator:\n    hosts: [group:core]\n    tools: [commands, background, sessions, inventory, files]\n    read_only: true\n    policy:\n      preset: read-only',
        '  admin:\n    hosts: ["*"]\n    tools: [all]',
        'tools: all',
      ].join('\n'),
    );
    server = await startHttpServer({
      home: sshd.clientHome,
      args: ['--config', config],
      env: { TOKEN_ALICE: TOKENS.alice, TOKEN_BOB: TOKENS.bob, TOKEN_MALLORY: TOKENS.mallory },
    });
  });

  after(async () => {
    await server?.stop();
    await new Promise((resolve) => issuer?.close(resolve));
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a request without a token, with a wrong token or a bad JWT: 401 and where the metadata is', async () => {
    const wrongKey = (await generateKeyPair('ES256')).privateKey;
    const forged = await new SignJWT({ sub: 'eve', realm_access: { roles: ['admin'] } })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuerUrl)
      .setAudience(PUBLIC_URL)
      .setExpirationTime('5m')
      .sign(wrongKey);
    const cases: [string, string | undefined][] = [
      ['no token', undefined],
      ['unknown token', 'not-a-token-of-this-server-000'],
      ['expired JWT', await sign({ sub: 'carol', realm_access: { roles: ['admin'] } }, { expiresIn: -120 })],
      [
        'JWT for another audience',
        await sign({ sub: 'carol', realm_access: { roles: ['admin'] } }, { audience: 'http://other/mcp' }),
      ],
      ['JWT signed by another key', forged],
    ];
    for (const [what, token] of cases) {
      const answer = await raw(
        server.url,
        'POST',
        { ...POST_HEADERS, ...(token && { authorization: `Bearer ${token}` }) },
        INITIALIZE,
      );
      assert.equal(answer.status, 401, `${what}: ${answer.body}`);
      const challenge = String(answer.headers['www-authenticate']);
      assert.match(challenge, /^Bearer /, what);
      assert.match(
        challenge,
        /resource_metadata="http:\/\/mcp\.test\/\.well-known\/oauth-protected-resource\/mcp"/,
        what,
      );
      if (token)
        assert.ok(!answer.body.includes(token) && !challenge.includes(token), `${what}: token echoed`);
    }
    const metadata = await raw(new URL('/.well-known/oauth-protected-resource/mcp', server.url), 'GET', {});
    assert.equal(metadata.status, 200, metadata.body);
    const document = JSON.parse(metadata.body) as { resource: string; authorization_servers?: string[] };
    assert.equal(document.resource, PUBLIC_URL);
    assert.deepEqual(document.authorization_servers, [issuerUrl]);
    for (const token of [...Object.values(TOKENS), ...cases.map(([, t]) => t).filter(Boolean)]) {
      assert.ok(!server.stderr().includes(token as string), 'a token reached the log');
    }
  });

  it('takes a valid JWT: the user and roles come from its claims', async () => {
    const carol = await httpClient(
      server.url,
      await sign({ sub: 'carol', realm_access: { roles: ['operator'] } }),
    );
    try {
      const tools = (await carol.client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes('execute_command'));
      assert.ok(!tools.includes('write_file') && !tools.includes('configure'), tools.join(','));
      const result = await carol.call('execute_command', { host: 'core1', command: 'echo from-carol' });
      assert.equal(result.isError, undefined, textOf(result));
      assert.match(textOf(result), /from-carol/);
    } finally {
      await carol.close();
    }
  });

  it('gives a role its hosts, tools and commands; another role more; a token without a known role nothing', async () => {
    const alice = await httpClient(server.url, TOKENS.alice);
    const bob = await httpClient(server.url, TOKENS.bob);
    try {
      const aliceTools = (await alice.client.listTools()).tools.map((t) => t.name);
      assert.ok(!aliceTools.includes('write_file'), 'read_only role offers write_file');
      assert.ok(!aliceTools.includes('execute_on_hosts'), 'fleet is not among the role tool sets');
      const bobTools = (await bob.client.listTools()).tools.map((t) => t.name);
      assert.ok(bobTools.includes('write_file') && bobTools.includes('configure'), bobTools.join(','));

      const shown = await alice.call('execute_command', { host: 'core1', command: 'uname -s' });
      assert.equal(shown.isError, undefined, textOf(shown));
      const changing = await alice.call('execute_command', {
        host: 'core1',
        command: 'touch /tmp/alice-was-here',
      });
      assert.equal(changing.isError, true);
      assert.match(textOf(changing), /role operator.*nothing was sent/s);
      const elsewhere = await alice.call('execute_command', { host: 'lab1', command: 'uname -s' });
      assert.equal(elsewhere.isError, true);
      assert.match(textOf(elsewhere), /lab1 is outside what alice's roles \(operator\) may reach/);
      const byAddress = await alice.call('execute_command', {
        host: `${sshd.user}@127.0.0.2:${sshd.port}`,
        command: 'uname -s',
      });
      assert.equal(byAddress.isError, true, 'the same host under its address is still lab1');

      const admin = await bob.call('execute_command', {
        host: 'lab1',
        command: 'echo changed > ~/bob-file && cat ~/bob-file',
      });
      assert.equal(admin.isError, undefined, textOf(admin));
      assert.match(textOf(admin), /changed/);
    } finally {
      await alice.close();
      await bob.close();
    }
    const mallory = await raw(
      server.url,
      'POST',
      { ...POST_HEADERS, authorization: `Bearer ${TOKENS.mallory}` },
      INITIALIZE,
    );
    assert.equal(mallory.status, 403, mallory.body);
    assert.match(mallory.body, /holds no role this server defines/);
  });

  it("keeps two users apart: one cannot see, read, interrupt or type into the other's commands, even knowing the ids", async () => {
    const alice = await httpClient(server.url, TOKENS.alice);
    const bob = await httpClient(server.url, TOKENS.bob);
    try {
      const setup = await bob.call('execute_command', {
        host: 'core1',
        command: 'cd /tmp && export SECRETISH=bob-only && echo "[$SECRETISH]"',
      });
      // Bob's shell holds what Alice must not see: else the checks below would pass on nothing.
      assert.match(textOf(setup), /\[bob-only\]/, textOf(setup));
      const started = await bob.call('execute_command_async', {
        host: 'lab1',
        command: 'read line; echo got $line',
      });
      const id = (started.structuredContent as { commandId?: string } | undefined)?.commandId;
      assert.match(id ?? '', /^cmd-/, textOf(started));

      const sessions = await alice.call('list_sessions');
      assert.doesNotMatch(textOf(sessions), /lab1|127\.0\.0\.2/, "alice sees bob's session");
      for (const [tool, args] of [
        ['get_command_status', { command_id: id }],
        ['send_input', { command_id: id, text: 'from alice' }],
        ['interrupt_command', { command_id: id }],
      ] as const) {
        const answer = await alice.call(tool, args);
        assert.equal(answer.isError, true, `${tool}: ${textOf(answer)}`);
        assert.doesNotMatch(textOf(answer), /read line|lab1/, tool);
      }
      const running = await alice.call('get_active_commands');
      assert.doesNotMatch(textOf(running), /read line|lab1/, "alice lists bob's command");
      // Alice's shell on the same host is hers, with her own working folder and variables.
      const own = await alice.call('execute_command', { host: 'core1', command: 'echo "[$SECRETISH]"; pwd' });
      assert.match(textOf(own), /\[\]/, textOf(own));
      assert.doesNotMatch(textOf(own), /bob-only|^\/tmp$/m, textOf(own));

      // Bob's MCP session id with Alice's token leads nowhere.
      const hijack = await raw(
        server.url,
        'POST',
        {
          ...POST_HEADERS,
          authorization: `Bearer ${TOKENS.alice}`,
          'mcp-session-id': bob.transport.sessionId as string,
          'mcp-protocol-version': '2025-06-18',
        },
        JSON.stringify({
          jsonrpc: '2.0',
          id: 9,
          method: 'tools/call',
          params: { name: 'send_input', arguments: { command_id: id, text: 'hijacked' } },
        }),
      );
      assert.equal(hijack.status, 404, hijack.body);

      // Bob's command is untouched and still his.
      const typed = await bob.call('send_input', { command_id: id, text: 'from bob' });
      assert.match(textOf(typed), /got from bob/, textOf(typed));
    } finally {
      await alice.close();
      await bob.close();
    }
    const records = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(records.length >= 5);
    for (const record of records)
      assert.match(String(record.caller), /^(alice|bob|carol)$/, JSON.stringify(record));
    assert.ok(
      records.some((r) => r.caller === 'alice' && r.status === 'denied'),
      'the refusal is audited with its caller',
    );
    const text = readFileSync(auditFile, 'utf8');
    for (const token of Object.values(TOKENS))
      assert.ok(!text.includes(token), 'a token reached the audit log');
  });

  it('refuses a request for another host name (DNS rebinding) and a foreign Origin', async () => {
    for (const headers of [
      { host: 'attacker.example' },
      { host: `attacker.example:${server.url.port}` },
      { origin: 'http://attacker.example' },
    ] as Record<string, string>[]) {
      const answer = await raw(
        server.url,
        'POST',
        { ...POST_HEADERS, authorization: `Bearer ${TOKENS.bob}`, ...headers },
        INITIALIZE,
      );
      assert.equal(answer.status, 403, `${JSON.stringify(headers)}: ${answer.body}`);
    }
    const health = await raw(new URL('/healthz', server.url), 'GET', {});
    assert.equal(health.status, 200);
  });

  it('answers an oversized or malformed request with a JSON-RPC error and keeps serving', async () => {
    const big = await raw(
      server.url,
      'POST',
      { ...POST_HEADERS, authorization: `Bearer ${TOKENS.bob}` },
      `{"x":"${'a'.repeat(11 * 1024 * 1024)}"}`,
    );
    assert.equal(big.status, 413, big.body.slice(0, 200));
    assert.match(big.body, /max_request_bytes/);
    const broken = await raw(
      server.url,
      'POST',
      { ...POST_HEADERS, authorization: `Bearer ${TOKENS.bob}` },
      '{"jsonrpc":',
    );
    assert.equal(broken.status, 400);
    assert.match(broken.body, /-32700/);
    const bob = await httpClient(server.url, TOKENS.bob);
    await bob.close();
  });

  it('answers 429 past max_requests_per_user for one user, while another user is served', async () => {
    const bob = await httpClient(server.url, TOKENS.bob);
    const alice = await httpClient(server.url, TOKENS.alice);
    // Three calls hold until the test creates this file, so the fourth is refused however slowly they
    // arrive (a fixed sleep let all four finish one after another on a loaded machine).
    const go = path.join('/tmp', `mcpt-429-${process.pid}-${Date.now()}`);
    const wait = `for i in $(seq 400); do [ -e ${go} ] && break; sleep 0.05; done; echo slept`;
    try {
      let refused = false;
      const calls = Array.from({ length: 4 }, () =>
        bob.call('execute_command', { host: 'core1', command: wait }).then(
          (result) => textOf(result),
          (error: Error) => {
            refused = true;
            return `error: ${error.message}`;
          },
        ),
      );
      for (let i = 0; i < 200 && !refused; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(refused, 'no call refused within 10 s');
      const other = await alice.call('execute_command', { host: 'core1', command: 'echo alice-served' });
      assert.match(textOf(other), /alice-served/);
      writeFileSync(go, '');
      const answers = await Promise.all(calls);
      assert.equal(answers.filter((a) => /slept/.test(a)).length, 3, answers.join('\n'));
      assert.match(answers.find((a) => a.startsWith('error')) ?? '', /429|max_requests_per_user/);
    } finally {
      rmSync(go, { force: true });
      await bob.close();
      await alice.close();
    }
  });

  it('drains on SIGTERM: a running call finishes, then the server exits 0', async () => {
    const bob = await httpClient(server.url, TOKENS.bob);
    // SIGTERM once the command runs on the host (a fixed sleep could signal before the call arrived).
    const running = path.join('/tmp', `mcpt-drain-${process.pid}-${Date.now()}`);
    const call = bob.call('execute_command', {
      host: 'core1',
      command: `: > ${running}; sleep 2; rm -f ${running}; echo drained`,
    });
    for (let i = 0; i < 400 && !existsSync(running); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(running), 'the command did not start within 20 s');
    const t0 = performance.now();
    const code = server.stop(25_000);
    const result = await call;
    assert.match(textOf(result), /drained/);
    assert.equal(await code, 0, server.stderr().slice(-2000));
    assert.ok(performance.now() - t0 < 15_000);
    await bob.close().catch(() => {});
    // Structured logs: every line of the HTTP server's stderr is a JSON object.
    const lines = server.stderr().trim().split('\n');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
    assert.ok(lines.some((l) => (JSON.parse(l) as { msg?: string; user?: string }).user === 'bob'));
  });
});

describe('serve --http without authentication', () => {
  it('refuses to listen on a non-loopback address without an auth section', () => {
    const home = tempDir('mcpt-http-open-');
    try {
      const run = spawnSync(process.execPath, [...NODE_FLAGS, CLI, 'serve', '--http', '0.0.0.0:0'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /refusing to serve on 0\.0\.0\.0 without authentication/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('serves one local user on loopback, and refuses another Host header', async () => {
    const home = tempDir('mcpt-http-local-');
    const server = await startHttpServer({ home });
    try {
      const client = await httpClient(server.url);
      assert.ok((await client.client.listTools()).tools.length > 0);
      await client.close();
      const answer = await raw(
        server.url,
        'POST',
        { ...POST_HEADERS, host: 'rebind.attacker.example' },
        INITIALIZE,
      );
      assert.equal(answer.status, 403);
    } finally {
      assert.equal(await server.stop(), 0);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
