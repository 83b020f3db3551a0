import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type ClientCapabilities,
  type ClientNotification,
  type ClientRequest,
  ElicitationCompleteNotificationSchema,
  type ElicitRequest,
  ElicitRequestSchema,
  type ElicitResult,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { SecretPrompter } from '../../src/server/secret-prompt.js';
import { redact } from '../../src/util/secrets.js';

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP exchange with the page server (no keep-alive), bounded by 5 s. */
function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false });
    req.setTimeout(5_000, () => req.destroy(new Error(`HTTP ${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.end(options.body);
  });
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const post = (url: string, secret: string, headers: Record<string, string> = {}) =>
  http(url, {
    method: 'POST',
    headers: { ...FORM, ...headers },
    body: new URLSearchParams({ secret }).toString(),
  });

type Extra = RequestHandlerExtra<ClientRequest, ClientNotification>;
type Handler = (request: ElicitRequest, extra: Extra) => Promise<ElicitResult>;

function urlOf(request: ElicitRequest): { url: string; elicitationId: string } {
  assert.equal(request.params.mode, 'url', 'a secret must never be asked for in form mode');
  if (request.params.mode !== 'url') throw new Error('unreachable');
  return { url: request.params.url, elicitationId: request.params.elicitationId };
}

async function until(condition: () => boolean, what: string, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An McpServer and an SDK client over an in-memory pair; records everything the server sends the client. */
async function connect(capabilities: ClientCapabilities, handler?: Handler) {
  const mcp = new McpServer({ name: 'mcp-ssh-session', version: '0' }, { capabilities: {} });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const received: JSONRPCMessage[] = [];
  const send = serverTransport.send.bind(serverTransport);
  serverTransport.send = (message, options) => {
    received.push(message);
    return send(message, options);
  };
  const client = new Client({ name: 'test-client', version: '0' }, { capabilities });
  const completions: string[] = [];
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
    completions.push(n.params.elicitationId);
  });
  const requests: ElicitRequest[] = [];
  if (handler) {
    client.setRequestHandler(ElicitRequestSchema, (request, extra) => {
      requests.push(request);
      return handler(request, extra);
    });
  }
  await Promise.all([client.connect(clientTransport), mcp.connect(serverTransport)]);
  // SDK 1.32's Protocol._oncancel ignores requestId 0 (falsy check), so a cancelled first server-to-client
  // request would never reach the client's handler; one ping uses up id 0.
  await mcp.server.ping();
  const prompter = new SecretPrompter(mcp.server);
  cleanups.push(async () => {
    await prompter.close();
    await client.close();
    await mcp.close();
  });
  const elicitations = () => received.filter((m) => 'method' in m && m.method === 'elicitation/create');
  return { prompter, received, completions, requests, elicitations };
}

const URL_ONLY: ClientCapabilities = { elicitation: { url: {} } };

describe('secret prompt (URL elicitation)', { timeout: 60_000 }, () => {
  it('serves a page naming host and secret, takes the POST, and returns the value', async () => {
    const secret = 'en4ble-S3cret-value';
    const pages: HttpAnswer[] = [];
    const posts: HttpAnswer[] = [];
    let id = '';
    const { prompter, received, completions, requests } = await connect(URL_ONLY, async (request) => {
      const { url, elicitationId } = urlOf(request);
      id = elicitationId;
      pages.push(await http(url));
      posts.push(await post(url, secret));
      return { action: 'accept' };
    });

    const answer = await prompter.ask({
      host: 'core-sw1',
      secret: 'enable',
      reason: 'the device asked "Password:" <b>&',
      timeoutMs: 10_000,
    });

    assert.deepEqual(answer, { value: secret });
    assert.equal(requests.length, 1);
    const params = requests[0]?.params;
    assert.equal(params?.mode, 'url');
    assert.match(
      params?.message ?? '',
      /^Enter the enable secret for core-sw1 in your browser \(the page is served by mcp-ssh-session on this machine\)\.$/,
    );
    assert.match(
      urlOf(requests[0] as ElicitRequest).url,
      /^http:\/\/127\.0\.0\.1:\d+\/secret\/[A-Za-z0-9_-]{43}$/,
    );

    const page = pages[0] as HttpAnswer;
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html; charset=utf-8$/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|script-src/);
    assert.match(page.body, /mcp-ssh-session/);
    assert.match(page.body, /core-sw1/);
    assert.match(page.body, /enable secret/);
    assert.match(page.body, /<input type="password" id="secret" name="secret"/);
    assert.match(page.body, /the device asked &quot;Password:&quot; &lt;b&gt;&amp;/, 'the reason is escaped');
    assert.doesNotMatch(page.body, /<b>/);
    assert.doesNotMatch(page.body, /<script|src=|href=/, 'no script and no external resource');

    await until(() => posts.length === 1, "the POST's answer");
    assert.equal(posts[0]?.status, 200);
    assert.match(posts[0]?.body ?? '', /Received/);
    assert.ok(!(posts[0]?.body ?? '').includes(secret), 'the confirmation page does not echo the secret');

    await until(() => completions.includes(id), 'the completion notification');
    assert.ok(!JSON.stringify(received).includes(secret), 'the secret never reaches the MCP client');
    assert.equal(redact(`x ${secret} y`), 'x ******** y', 'the value is registered for masking');
  });

  it('works when the client accepts first and the browser posts later; the link then is dead', async () => {
    let url = '';
    let id = '';
    const { prompter, completions } = await connect(URL_ONLY, async (request) => {
      ({ url, elicitationId: id } = urlOf(request));
      return { action: 'accept' };
    });
    const asked = prompter.ask({ host: 'web1', secret: 'sudo', timeoutMs: 10_000 });
    await until(() => url !== '', 'the elicitation');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await post(url, 'sud0-pass')).status, 200);
    assert.deepEqual(await asked, { value: 'sud0-pass' });
    await until(() => completions.includes(id), 'the completion notification');

    // One use only: the page, a second POST and any other token all get a bare 404.
    const again = await post(url, 'other');
    assert.equal(again.status, 404);
    assert.equal(again.body, 'Not found');
    assert.equal((await http(url)).status, 404);
    const origin = new URL(url).origin;
    assert.equal((await http(`${origin}/secret/${'A'.repeat(43)}`)).status, 404);
    assert.equal((await http(`${origin}/`)).status, 404);
  });

  it('keeps concurrent asks apart', async () => {
    const { prompter } = await connect(URL_ONLY, async (request) => {
      const { url } = urlOf(request);
      const page = await http(url);
      const host = /<code>([^<]+)<\/code>/.exec(page.body)?.[1];
      await new Promise((r) => setTimeout(r, host === 'r1' ? 80 : 10));
      await post(url, `pw-for-${host}`);
      return { action: 'accept' };
    });
    const answers = await Promise.all(
      ['r1', 'r2', 'r3'].map((host) => prompter.ask({ host, secret: 'password', timeoutMs: 10_000 })),
    );
    assert.deepEqual(answers, [{ value: 'pw-for-r1' }, { value: 'pw-for-r2' }, { value: 'pw-for-r3' }]);
  });

  it('is unavailable at once, without any request, when the client has no URL elicitation', async () => {
    for (const capabilities of [{ elicitation: { form: {} } }, { elicitation: {} }, {}]) {
      const form = capabilities.elicitation !== undefined;
      const { prompter, elicitations, requests } = await connect(
        capabilities,
        form ? async () => ({ action: 'accept', content: { secret: 'nope' } }) : undefined,
      );
      const start = Date.now();
      const answer = await prompter.ask({ host: 'core-sw1', secret: 'password', timeoutMs: 10_000 });
      assert.deepEqual(answer, { unavailable: 'the MCP client does not support URL elicitation' });
      assert.ok(Date.now() - start < 500);
      assert.equal(requests.length, 0);
      assert.equal(elicitations().length, 0);
    }
  });

  it('is unavailable when the user declines or dismisses; the link is dead afterwards', async () => {
    for (const action of ['decline', 'cancel'] as const) {
      let url = '';
      const { prompter } = await connect(URL_ONLY, async (request) => {
        ({ url } = urlOf(request));
        return { action };
      });
      const answer = await prompter.ask({ host: 'core-sw1', secret: 'key_passphrase', timeoutMs: 10_000 });
      const why = action === 'decline' ? 'declined to enter' : 'dismissed the request for';
      assert.deepEqual(answer, { unavailable: `the user ${why} the private key passphrase for core-sw1` });
      assert.equal((await http(url)).status, 404);
    }
  });

  it('refuses a wrong Host header (DNS rebinding) and cross-site or malformed posts', async () => {
    let url = '';
    const { prompter } = await connect(URL_ONLY, async (request) => {
      ({ url } = urlOf(request));
      return { action: 'accept' };
    });
    const asked = prompter.ask({ host: 'core-sw1', secret: 'password', timeoutMs: 10_000 });
    await until(() => url !== '', 'the elicitation');
    const port = new URL(url).port;

    for (const host of [`evil.example:${port}`, `localhost:${port}`, '127.0.0.1']) {
      const page = await http(url, { headers: { Host: host } });
      assert.equal(page.status, 403, host);
      assert.ok(!page.body.includes('core-sw1'));
      assert.equal((await post(url, 'rebound', { Host: host })).status, 403);
    }
    assert.equal((await post(url, 'x', { Origin: 'http://evil.example' })).status, 403);
    assert.equal((await post(url, 'x', { 'Sec-Fetch-Site': 'cross-site' })).status, 403);
    assert.equal((await post(url, 'x', { 'Sec-Fetch-Site': 'same-site' })).status, 403);
    const json = await http(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"secret":"x"}',
    });
    assert.equal(json.status, 415);
    const big = await http(url, { method: 'POST', headers: FORM, body: `secret=${'a'.repeat(70 * 1024)}` });
    assert.equal(big.status, 413);
    const empty = await post(url, '');
    assert.equal(empty.status, 400);
    assert.match(empty.body, /Nothing was entered/);
    assert.equal((await http(url, { method: 'PUT' })).status, 405);

    // None of that used the link up; our own page's post (Origin null, same-origin) still works.
    const good = await post(url, 'the-real-one', { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' });
    assert.equal(good.status, 200);
    assert.deepEqual(await asked, { value: 'the-real-one' });
  });

  it('times out within its bound and the link dies', async () => {
    let url = '';
    const { prompter } = await connect(URL_ONLY, async (request) => {
      ({ url } = urlOf(request));
      return { action: 'accept' };
    });
    const start = Date.now();
    const answer = await prompter.ask({ host: 'core-sw1', secret: 'enable', timeoutMs: 300 });
    const took = Date.now() - start;
    assert.deepEqual(answer, { unavailable: 'nobody entered the enable secret for core-sw1 within 0.3 s' });
    assert.ok(took >= 250 && took < 2_000, `took ${took} ms`);
    assert.equal((await post(url, 'late')).status, 404);
  });

  it('times out even when the client never answers the elicitation, and cancels it', async () => {
    let cancelled = false;
    const { prompter } = await connect(URL_ONLY, (_request, extra) => {
      return new Promise((resolve) => {
        extra.signal.addEventListener('abort', () => {
          cancelled = true;
          resolve({ action: 'cancel' });
        });
      });
    });
    const start = Date.now();
    const answer = await prompter.ask({ host: 'h', secret: 'password', timeoutMs: 200 });
    assert.ok('unavailable' in answer);
    assert.ok(Date.now() - start < 2_000);
    await until(() => cancelled, 'the client to see notifications/cancelled');
  });

  it('stops on abort: before the client answers, after it accepted, and when already aborted', async () => {
    let cancelled = false;
    let hang = true;
    let url = '';
    const { prompter, elicitations } = await connect(URL_ONLY, (request, extra) => {
      ({ url } = urlOf(request));
      if (!hang) return Promise.resolve({ action: 'accept' });
      return new Promise((resolve) => {
        extra.signal.addEventListener('abort', () => {
          cancelled = true;
          resolve({ action: 'cancel' });
        });
      });
    });

    const one = new AbortController();
    setTimeout(() => one.abort(), 100);
    let start = Date.now();
    let answer = await prompter.ask({
      host: 'core-sw1',
      secret: 'sudo',
      timeoutMs: 30_000,
      signal: one.signal,
    });
    assert.deepEqual(answer, { unavailable: 'asking for the sudo password for core-sw1 was cancelled' });
    assert.ok(Date.now() - start < 2_000);
    await until(() => cancelled, 'the client to see notifications/cancelled');
    assert.equal((await http(url)).status, 404);

    hang = false;
    const two = new AbortController();
    start = Date.now();
    const asked = prompter.ask({ host: 'core-sw1', secret: 'sudo', timeoutMs: 30_000, signal: two.signal });
    await until(() => elicitations().length === 2, 'the second elicitation');
    await new Promise((r) => setTimeout(r, 50));
    two.abort();
    answer = await asked;
    assert.ok('unavailable' in answer);
    assert.ok(Date.now() - start < 2_000);
    assert.equal((await post(url, 'late')).status, 404);

    answer = await prompter.ask({
      host: 'x',
      secret: 'sudo',
      timeoutMs: 30_000,
      signal: AbortSignal.abort(),
    });
    assert.ok('unavailable' in answer);
    assert.equal(elicitations().length, 2, 'an aborted ask sends nothing');
  });

  it('close() ends open asks, stops the page server, and refuses later asks', async () => {
    let url = '';
    const { prompter } = await connect(URL_ONLY, async (request) => {
      ({ url } = urlOf(request));
      return { action: 'accept' };
    });
    const asked = prompter.ask({ host: 'core-sw1', secret: 'password', timeoutMs: 30_000 });
    await until(() => url !== '', 'the elicitation');
    const start = Date.now();
    await prompter.close();
    assert.deepEqual(await asked, { unavailable: 'mcp-ssh-session is shutting down' });
    assert.ok(Date.now() - start < 2_000);
    await assert.rejects(http(url), /ECONNREFUSED/);
    assert.deepEqual(await prompter.ask({ host: 'core-sw1', secret: 'password', timeoutMs: 1_000 }), {
      unavailable: 'mcp-ssh-session is shutting down',
    });
  });
});
