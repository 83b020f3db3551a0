// The team deployment end to end: two instances of the built server (`serve --http`, instance prefixes a
// and b) behind nginx running examples/deployment/nginx.conf, one real sshd as the SSH host, and the SDK's
// Streamable HTTP client talking to nginx only. Shows that sticky routing by session-id prefix holds over
// many calls, that progress streams through as the command prints, that a request without a token gets the
// server's 401 and WWW-Authenticate through nginx, that the shipped TLS blocks pass `nginx -t`, and that a
// stopped instance's sessions answer 404 while new ones go to the instance that is up. nginx comes from
// Debian when missing (root, at most 180 s); where it cannot, every test is skipped with the reason.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { freePort, type SshdHarness, startSshd } from '../harness/sshd.js';
import { CLI, NODE_FLAGS, textOf } from '../support/mcp-client.js';
import { ensureNginx, runBounded } from '../support/nginx.js';
import { tempDir } from '../support/temp.js';

const EXAMPLE = new URL('../../examples/deployment/nginx.conf', import.meta.url).pathname;
const INSTALL_BUDGET_MS = 180_000;
const START_TIMEOUT_MS = 60_000; // generous: a loaded CI machine can take long to start node
const STOP_TIMEOUT_MS = 15_000;
const CALL_TIMEOUT_MS = 60_000;
const SESSIONS = 4;
const ROUNDS = 5;
const PROTOCOL_VERSION = '2025-06-18';

/** A process this file started: its stderr as it comes, and a bounded stop by PID. */
interface Proc {
  name: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every process this file started, so that `after` stops each, also when `before` failed half-way. */
const started: Proc[] = [];

function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: null, signal: null }));
  });
  const proc = { name, child, stderr: () => stderr, exited };
  started.push(proc);
  return proc;
}

const running = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;

/** SIGTERM, then SIGKILL if it has not exited within the stop time; the exit it made. */
async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM') {
  if (running(p) && p.child.pid !== undefined) process.kill(p.child.pid, signal);
  const timer = setTimeout(() => {
    if (running(p) && p.child.pid !== undefined) process.kill(p.child.pid, 'SIGKILL');
  }, STOP_TIMEOUT_MS);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `ready()` holds, failing with the process's stderr if it exits first or time runs out. */
async function waitUntil(p: Proc, what: string, ready: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await ready())) {
    if (!running(p)) assert.fail(`${p.name} exited before ${what}:\n${p.stderr()}`);
    if (Date.now() > deadline)
      assert.fail(`${p.name}: no ${what} within ${START_TIMEOUT_MS} ms:\n${p.stderr()}`);
    await delay(50);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * examples/deployment/nginx.conf made runnable here: the instances' ports, plain HTTP on 127.0.0.1:port
 * instead of TLS on 443, no redirect server. Every edit must find its text, so a change to the example that
 * this test does not follow fails loudly instead of testing something else.
 */
function proxyConfig(example: string, ports: { a: number; b: number; nginx: number }): string {
  const edits: [RegExp, string, number][] = [
    [/server 127\.0\.0\.1:8081;/g, `server 127.0.0.1:${ports.a};`, 2],
    [/server 127\.0\.0\.1:8082;/g, `server 127.0.0.1:${ports.b};`, 2],
    [/^server \{\n {4}listen 80;\n[\s\S]*?^\}\n/gm, '', 1],
    [/^ {4}listen 443 ssl;$/gm, `    listen 127.0.0.1:${ports.nginx};`, 1],
    [/^ {4}listen \[::\]:443 ssl;\n/gm, '', 1],
    [/^ {4}ssl_[a-z_]+ .*\n/gm, '', 4],
  ];
  let text = example;
  for (const [pattern, replacement, count] of edits) {
    const found = text.match(pattern)?.length ?? 0;
    assert.equal(
      found,
      count,
      `examples/deployment/nginx.conf: ${pattern} found ${found} times, not ${count}`,
    );
    text = text.replace(pattern, replacement);
  }
  return text;
}

function nginxConfig(dir: string, proxied: string): string {
  return [
    'daemon off;',
    'master_process off;', // one process, stopped by its PID
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log info;`,
    'events { worker_connections 256; }',
    'http {',
    // Which instance served each request: the test reads it back.
    `  log_format routed '$status $request_method $request_uri $upstream_addr "$http_mcp_session_id"';`,
    `  access_log ${dir}/access.log routed;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
    proxied,
    '}',
    '',
  ].join('\n');
}

interface Instance {
  name: 'a' | 'b';
  port: number;
  proc: Proc;
}

describe('serve --http behind nginx: two instances, sticky by session-id prefix', () => {
  let skip: string | undefined;
  let dir: string;
  let sshd: SshdHarness | undefined;
  const instances: Instance[] = [];
  let nginx: Proc | undefined;
  let nginxBin = '';
  let nginxPort = 0;
  const clients: { client: Client; transport: StreamableHTTPClientTransport; index: number }[] = [];
  const token = randomBytes(32).toString('base64url');
  let url: URL;

  const instance = (name: 'a' | 'b') => instances.find((i) => i.name === name) as Instance;

  const connectClient = async () => {
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'e2e-nginx', version: '0' });
    await client.connect(transport, { timeout: CALL_TIMEOUT_MS });
    const entry = { client, transport, index: clients.length };
    clients.push(entry);
    return entry;
  };

  const run = async (
    client: Client,
    command: string,
    onprogress?: (p: { progress: number; message?: string }) => void,
  ) => {
    const result = (await client.callTool(
      { name: 'execute_command', arguments: { host: 'lab', command } },
      undefined,
      {
        timeout: CALL_TIMEOUT_MS,
        ...(onprogress && { onprogress }),
      },
    )) as CallToolResult;
    const s = result.structuredContent as { status?: string; exitCode?: number | null; output?: string };
    return { result, text: textOf(result), s };
  };

  /** A JSON-RPC POST by hand, to see status and headers the SDK hides. */
  const post = (target: string | URL, body: unknown, headers: Record<string, string> = {}) =>
    fetch(target, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Protocol-Version': PROTOCOL_VERSION,
        ...headers,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });

  before(async () => {
    const found = await ensureNginx(INSTALL_BUDGET_MS);
    if ('skip' in found) {
      skip = found.skip;
      console.log(`http-nginx: skipped: ${skip}`);
      return;
    }
    nginxBin = found.nginx;
    dir = tempDir('mcpt-nginx-');
    sshd = await startSshd();
    nginxPort = await freePort();
    url = new URL(`http://127.0.0.1:${nginxPort}/mcp`);

    for (const name of ['a', 'b'] as const) {
      const config = path.join(dir, `config-${name}.yaml`);
      writeFileSync(
        config,
        [
          'http:',
          `  instance: ${name}`,
          `  public_url: ${url.href}`,
          '  shutdown_grace: 5',
          'auth:',
          '  tokens:',
          '    - { token: env:MCPT_NGINX_TOKEN, user: alice, roles: [admin] }',
          'roles:',
          '  admin: { hosts: ["*"], tools: [all] }',
          'defaults:',
          '  dialect: linux',
          'hosts:',
          '  lab:',
          `    host: ${sshd.host}`,
          `    port: ${sshd.port}`,
          `    user: ${sshd.user}`,
          `    key: ${sshd.userKeyPath}`,
          `    host_key: { fingerprints: ["${sshd.hostKeyFingerprint}"] }`,
          'audit:',
          `  path: ${path.join(dir, `audit-${name}.jsonl`)}`,
          '',
        ].join('\n'),
      );
      const home = path.join(dir, `home-${name}`);
      mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
      const proc = launch(
        `instance ${name}`,
        process.execPath,
        // Port 0: the system picks a free one, and the start line tells which.
        [...NODE_FLAGS, CLI, 'serve', '--http', '127.0.0.1:0', '--config', config],
        {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          MCPT_NGINX_TOKEN: token,
          MCP_SSH_SESSION_LOG_LEVEL: 'info',
        },
      );
      const start = () => /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(proc.stderr());
      await waitUntil(proc, 'start line', () => start() !== null);
      instances.push({ name, port: Number(start()?.[1]), proc });
    }
    const [a, b] = [instance('a').port, instance('b').port];

    const nginxDir = path.join(dir, 'nginx');
    mkdirSync(nginxDir);
    const conf = path.join(nginxDir, 'nginx.conf');
    writeFileSync(
      conf,
      nginxConfig(nginxDir, proxyConfig(readFileSync(EXAMPLE, 'utf8'), { a, b, nginx: nginxPort })),
    );
    nginx = launch(
      'nginx',
      found.nginx,
      ['-p', nginxDir, '-c', conf, '-e', path.join(nginxDir, 'error.log')],
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
      },
    );
    await waitUntil(nginx, `a listener on 127.0.0.1:${nginxPort}`, () => accepts(nginxPort));
    // The sessions the tests share, opened one after the other through nginx.
    for (let i = 0; i < SESSIONS; i++) await connectClient();
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.client.close().catch(() => {})));
    if (nginx) await stop(nginx);
    await Promise.all(started.map((p) => stop(p)));
    await sshd?.stop();
  });

  const skipped = (t: TestContext) => {
    if (skip !== undefined) t.skip(skip);
    return skip !== undefined;
  };

  it('keeps each session on the instance that created it, shell state included, over many calls', async (t) => {
    if (skipped(t)) return;
    const ids = clients.map((c) => c.transport.sessionId ?? '');
    assert.ok(
      ids.every((id) => /^[ab]-/.test(id)),
      `session ids with an instance prefix: ${ids}`,
    );
    assert.deepEqual(new Set(ids.map((id) => id[0])), new Set(['a', 'b']), `both instances: ${ids}`);

    const base = `/tmp/mcpt-nginx-${randomBytes(4).toString('hex')}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const { client, index } of clients) {
        const want = `${base}/s${index}/r${round}`;
        const cd = await run(client, `mkdir -p ${want} && cd ${want}`);
        assert.equal(cd.s.exitCode, 0, cd.text);
        const pwd = await run(client, 'pwd');
        assert.equal(pwd.s.output?.trim(), want, pwd.text);
      }
    }
    await run(clients[0]?.client as Client, `rm -rf ${base}`);

    // nginx's own record: every request that carried a session id went to the instance its prefix names.
    const lines = readFileSync(path.join(dir, 'nginx', 'access.log'), 'utf8')
      .trim()
      .split('\n');
    const routed = lines
      .map((line) => /^(\d{3}) (\S+) (\S+) (\S+) "([^"]*)"$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && m[5] !== '-');
    assert.ok(
      routed.length >= SESSIONS * ROUNDS * 2,
      `${routed.length} routed requests:\n${lines.join('\n')}`,
    );
    for (const [line, status, , , upstream, id] of routed) {
      const owner = instance(id?.startsWith('a-') ? 'a' : 'b');
      assert.equal(upstream, `127.0.0.1:${owner.port}`, line);
      assert.match(status ?? '', /^2/, line);
    }
  });

  it('needs the routing: a session id sent to the other instance is unknown there', async (t) => {
    if (skipped(t)) return;
    const entry = clients.find((c) => c.transport.sessionId?.startsWith('a-'));
    assert.ok(entry, 'a session on instance a');
    const id = entry.transport.sessionId as string;
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    const auth = { Authorization: `Bearer ${token}`, 'Mcp-Session-Id': id };
    const wrong = await post(`http://127.0.0.1:${instance('b').port}/mcp`, list, auth);
    await wrong.body?.cancel();
    assert.equal(wrong.status, 404);
    const proxied = await post(url, list, auth);
    const body = await proxied.text();
    assert.equal(proxied.status, 200, body);
    assert.match(body, /execute_command/);
  });

  it('streams progress through nginx as the command prints, not when it ends', async (t) => {
    if (skipped(t)) return;
    const { client } = clients[0] as (typeof clients)[number];
    const t0 = performance.now();
    const seen: { ms: number; message: string }[] = [];
    const { s, text } = await run(client, 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done', (p) =>
      seen.push({ ms: performance.now() - t0, message: p.message ?? '' }),
    );
    const endMs = performance.now() - t0;
    assert.equal(s.exitCode, 0, text);
    assert.match(s.output ?? '', /tick 6/);
    assert.ok(seen.length >= 3, `progress notifications: ${JSON.stringify(seen)}`);
    const first = seen[0] as (typeof seen)[number];
    // Buffered, every notification would arrive with the result, after the command's 3 s.
    assert.ok(first.ms < endMs - 1000, `first progress at ${first.ms} ms, result at ${endMs} ms`);
    const ticks = seen.map((p) => Number(/tick (\d)/.exec(p.message)?.[1] ?? 0));
    assert.ok(
      ticks.every((n) => n >= 1),
      `each notification names a line printed: ${seen.map((p) => p.message).join(' | ')}`,
    );
    assert.deepEqual(
      ticks,
      [...ticks].sort((x, y) => x - y),
      `ticks in order: ${ticks}`,
    );
    assert.ok((ticks[0] ?? 0) < 6, `the first notification came before the last line: ${ticks}`);
    console.log(
      `http-nginx: ${seen.length} progress notifications, first at ${Math.round(first.ms)} ms, result at ${Math.round(endMs)} ms`,
    );
  });

  it('answers a request without a token with 401 and its WWW-Authenticate through nginx', async (t) => {
    if (skipped(t)) return;
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'e2e', version: '0' },
      },
    };
    const proxied = await post(url, init);
    await proxied.body?.cancel();
    const direct = await post(`http://127.0.0.1:${instance('a').port}/mcp`, init);
    await direct.body?.cancel();
    assert.equal(proxied.status, 401);
    const challenge = proxied.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer\b/);
    assert.equal(challenge, direct.headers.get('www-authenticate'), 'the same challenge as without nginx');
    const wrong = await post(url, init, { Authorization: `Bearer ${token}x` });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer\b/);

    // The challenge points at the protected resource metadata (RFC 9728), and nginx serves it too.
    const where = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    assert.equal(where, `http://127.0.0.1:${nginxPort}/.well-known/oauth-protected-resource/mcp`, challenge);
    const metadata = await fetch(where, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    assert.equal(metadata.status, 200);
    assert.equal(((await metadata.json()) as { resource?: string }).resource, url.href);
  });

  it('takes the TLS server blocks as shipped (nginx -t, with a throw-away certificate)', async (t) => {
    if (skipped(t)) return;
    if (!existsSync('/usr/bin/openssl')) return t.skip('no /usr/bin/openssl to make a certificate with');
    const tls = path.join(dir, 'tls');
    mkdirSync(tls);
    const made = await runBounded(
      '/usr/bin/openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat(
        ['-subj', '/CN=mcp.example.com', '-keyout', `${tls}/privkey.pem`, '-out', `${tls}/fullchain.pem`],
      ),
      20_000,
    );
    assert.equal(made.code, 0, made.output);
    // nginx -t opens the listening sockets for a moment: on 127.0.0.1 here, not on every address's 80 and 443.
    const [http, https] = [await freePort(), await freePort()];
    const edits: [string, string][] = [
      ['/etc/ssl/mcp.example.com/', `${tls}/`],
      ['    listen 80;\n', `    listen 127.0.0.1:${http};\n`],
      ['    listen 443 ssl;\n', `    listen 127.0.0.1:${https} ssl;\n`],
      ['    listen [::]:80;\n', ''],
      ['    listen [::]:443 ssl;\n', ''],
    ];
    let text = readFileSync(EXAMPLE, 'utf8');
    for (const [from, to] of edits) {
      assert.ok(text.includes(from), `examples/deployment/nginx.conf has no ${JSON.stringify(from)}`);
      text = text.replaceAll(from, to);
    }
    const conf = path.join(tls, 'nginx.conf');
    writeFileSync(conf, nginxConfig(tls, text));
    const checked = await runBounded(
      nginxBin,
      ['-t', '-p', tls, '-c', conf, '-e', `${tls}/error.log`],
      20_000,
    );
    assert.equal(checked.code, 0, checked.output);
    assert.match(checked.output, /test is successful/);
  });

  it('after SIGTERM to an instance: its sessions get 404 through nginx, new sessions land on the other', async (t) => {
    if (skipped(t)) return;
    const b = instance('b');
    const gone = clients.find((c) => c.transport.sessionId?.startsWith('b-'));
    assert.ok(gone, 'a session on instance b');
    const exit = await stop(b.proc);
    assert.deepEqual(exit, { code: 0, signal: null }, b.proc.stderr());

    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    const res = await post(url, list, {
      Authorization: `Bearer ${token}`,
      'Mcp-Session-Id': gone.transport.sessionId as string,
    });
    const body = await res.text();
    assert.equal(res.status, 404, body);
    assert.equal(JSON.parse(body).error?.code, -32001, body);

    for (let i = 0; i < 2; i++) {
      const fresh = await connectClient();
      assert.match(fresh.transport.sessionId ?? '', /^a-/);
      const pwd = await run(fresh.client, 'echo still here');
      assert.equal(pwd.s.output?.trim(), 'still here', pwd.text);
    }
  });
});
