// The HTTP server (src/server/http/app.ts) in this process, with a stub token verifier (a token names its
// user and roles: `carol~admin~operator`), spoken to over raw sockets so that what a client cannot send
// through fetch (a lying Content-Length, no Host, 20 KB headers) reaches it as sent. Cases the HTTP fuzz
// found (npm run fuzz -- --only http) live here as tests.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { loadConfig } from '../../src/config/load.js';
import { type HttpService, startHttpServer } from '../../src/server/http/app.js';
import { exchange, httpRequest, type WireResponse } from '../support/raw-http.js';
import { tempDir } from '../support/temp.js';

const T = { timeout: 20_000 };
const LIMIT = 64 * 1024;
const ACCEPT = 'application/json, text/event-stream';

/** Every token is `user~role~role`: whoever it names, with those roles. */
const verifier = (resource: URL): OAuthTokenVerifier => ({
  async verifyAccessToken(token) {
    const [user, ...roles] = token.split('~');
    if (!user || !/^[a-z]+$/.test(user)) throw new InvalidTokenError('unknown token');
    return {
      token: '[redacted]',
      clientId: user,
      scopes: [],
      expiresAt: Math.floor(Date.now() / 1000) + 300,
      resource: new URL(resource.href),
      extra: { user, roles, via: 'oauth' },
    };
  },
});

/** One request on a fresh connection; its response (an error when none came). */
async function send(port: number, bytes: Buffer, method = 'POST', timeoutMs = 5000): Promise<WireResponse> {
  const response = await exchange(port, bytes, method, timeoutMs);
  if (typeof response === 'string') throw new Error(response);
  return response;
}

/** The one JSON-RPC message of a JSON body or an event stream. */
function messageOf(response: WireResponse): Record<string, unknown> {
  const text = response.body.toString('utf8');
  const data = /^data: (.*)$/m.exec(text)?.[1] ?? text;
  return JSON.parse(data) as Record<string, unknown>;
}

/** A JSON-RPC error body with a message, as every error status on this server must carry. */
function errorMessage(response: WireResponse): string {
  assert.match(response.headers['content-type']?.[0] ?? '', /^application\/json/, response.body.toString());
  const body = JSON.parse(response.body.toString('utf8')) as {
    jsonrpc?: string;
    error?: { code?: unknown; message?: unknown };
  };
  assert.equal(body.jsonrpc, '2.0');
  assert.ok(Number.isInteger(body.error?.code), JSON.stringify(body));
  assert.equal(typeof body.error?.message, 'string');
  return body.error?.message as string;
}

describe('the HTTP server, spoken to over raw sockets', () => {
  let service: HttpService;
  let port: number;
  let host: string;

  const headers = (token: string, session?: string): [string, string][] => [
    ['Host', host],
    ['Authorization', `Bearer ${token}`],
    ['Content-Type', 'application/json'],
    ['Accept', ACCEPT],
    ...(session
      ? ([
          ['Mcp-Session-Id', session],
          ['Mcp-Protocol-Version', '2025-06-18'],
        ] as [string, string][])
      : []),
  ];
  const post = (head: [string, string][], body: string | Buffer) => {
    const bytes = Buffer.from(body);
    return httpRequest('POST', '/mcp', [...head, ['Content-Length', String(bytes.length)]], bytes);
  };
  const initialize = async (token: string): Promise<string> => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'unit', version: '0' } },
    };
    const answer = await send(port, post(headers(token), JSON.stringify(init)));
    assert.equal(answer.status, 200, answer.body.toString());
    const session = answer.headers['mcp-session-id']?.[0];
    assert.ok(session);
    const note = await send(
      port,
      post(headers(token, session), '{"jsonrpc":"2.0","method":"notifications/initialized"}'),
    );
    assert.equal(note.status, 202);
    return session;
  };
  const toolNames = async (token: string, session: string): Promise<string[]> => {
    const answer = await send(
      port,
      post(headers(token, session), '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'),
    );
    assert.equal(answer.status, 200, answer.body.toString());
    const result = messageOf(answer).result as { tools: { name: string }[] };
    return result.tools.map((t) => t.name);
  };

  before(async () => {
    const dir = tempDir('mcpt-http-app-');
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      [
        'tools: all',
        `http:\n  max_request_bytes: ${LIMIT}\n  shutdown_grace: 1`,
        'roles:',
        '  operator:\n    tools: [inventory, sessions]\n    read_only: true',
        '  admin:\n    tools: [all]',
      ].join('\n'),
    );
    const config = await loadConfig({ explicitPath: file });
    service = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      server: { ...(config && { config }) },
      auth: async (resourceUrl) => ({
        verifier: verifier(resourceUrl),
        metadata: { resource: resourceUrl.href },
      }),
    });
    port = Number(service.url.port);
    host = `127.0.0.1:${port}`;
  });

  after(async () => {
    await service?.close(1000);
  });

  it(
    'gives a user the rights of the roles each request carries, not those of the first token seen',
    T,
    async () => {
      const asAdmin = await initialize('carol~admin');
      assert.ok((await toolNames('carol~admin', asAdmin)).includes('write_file'));
      // The identity provider took admin away: carol's next token says operator only.
      const asOperator = await initialize('carol~operator');
      const tools = await toolNames('carol~operator', asOperator);
      assert.ok(!tools.includes('write_file'), `operator carol still gets admin tools: ${tools.join(',')}`);
      // A session opened with admin rights is not usable with a token that no longer carries them.
      const reuse = await send(
        port,
        post(headers('carol~operator', asAdmin), '{"jsonrpc":"2.0","id":3,"method":"tools/list"}'),
      );
      assert.equal(reuse.status, 404, reuse.body.toString());
      // And a token without any role this server defines is refused, whatever came before.
      const none = await send(
        port,
        post(headers('carol~intern', asAdmin), '{"jsonrpc":"2.0","id":4,"method":"tools/list"}'),
      );
      assert.equal(none.status, 403, none.body.toString());
    },
  );

  it('answers a path or method it does not serve with a JSON-RPC error, not an HTML page', T, async () => {
    for (const [method, target, auth] of [
      ['GET', '/nope', false],
      ['PUT', '/favicon.ico', false],
      ['POST', '/healthz', false],
      ['GET', '/mcp/extra', true],
    ] as const) {
      const head: [string, string][] = [['Host', host]];
      if (auth) head.push(['Authorization', 'Bearer carol~admin']);
      const answer = await send(port, httpRequest(method, target, head), method);
      assert.equal(answer.status, 404, `${method} ${target}`);
      assert.match(errorMessage(answer), /\/mcp/, `${method} ${target}: says where MCP is`);
    }
  });

  it(
    'says why a body cannot be read: its charset, its Content-Encoding, bad compressed data',
    T,
    async () => {
      const session = await initialize('dave~admin');
      const list = Buffer.from('{"jsonrpc":"2.0","id":5,"method":"tools/list"}');
      const cases: [string, [string, string][], Buffer, number, RegExp][] = [
        ['latin1', [['Content-Type', 'application/json; charset=latin1']], list, 415, /charset/],
        ['compress', [['Content-Encoding', 'compress']], list, 415, /Content-Encoding/],
        ['gzip that is not', [['Content-Encoding', 'gzip']], list, 400, /gzip/],
        ['truncated gzip', [['Content-Encoding', 'gzip']], gzipSync(list).subarray(0, 12), 400, /gzip/],
      ];
      for (const [what, extra, body, status, pattern] of cases) {
        const head = headers('dave~admin', session).filter(([n]) => !extra.some(([e]) => e === n));
        const answer = await send(
          port,
          httpRequest('POST', '/mcp', [...head, ...extra, ['Content-Length', String(body.length)]], body),
        );
        assert.equal(answer.status, status, `${what}: ${answer.body}`);
        assert.match(errorMessage(answer), pattern, what);
      }
      // What decompresses to more than the limit is refused as too large, however small it came.
      const bomb = gzipSync(Buffer.alloc(4 * LIMIT, 0x20));
      const big = await send(
        port,
        httpRequest(
          'POST',
          '/mcp',
          [
            ...headers('dave~admin', session),
            ['Content-Encoding', 'gzip'],
            ['Content-Length', String(bomb.length)],
          ],
          bomb,
        ),
      );
      assert.equal(big.status, 413);
      assert.match(errorMessage(big), /max_request_bytes/);
    },
  );

  it(
    'refuses a body declared over the limit at once, without waiting for bytes that may never come',
    T,
    async () => {
      const session = await initialize('erin~admin');
      const started = performance.now();
      const answer = await send(
        port,
        httpRequest(
          'POST',
          '/mcp',
          [...headers('erin~admin', session), ['Content-Length', String(4 * LIMIT)]],
          '{"jsonrpc":"2.0","id":6,"method":"tools/list"}',
        ),
        'POST',
        // Answered before the body (which never comes): a wait for it would end at this bound.
        30_000,
      );
      assert.equal(answer.status, 413);
      assert.match(errorMessage(answer), /max_request_bytes/);
      assert.ok(performance.now() - started < 10_000, `${Math.round(performance.now() - started)} ms`);
      // Without a token it is still 401: who may not call learns nothing about limits.
      const anonymous = await send(
        port,
        httpRequest(
          'POST',
          '/mcp',
          [
            ['Host', host],
            ['Content-Length', String(4 * LIMIT)],
          ],
          '{}',
        ),
      );
      assert.equal(anonymous.status, 401);
    },
  );

  it(
    'answers what is not HTTP it can parse with a JSON-RPC error too: huge headers, bad bytes, no Host',
    T,
    async () => {
      const cases: [string, Buffer, number, RegExp][] = [
        [
          'a 20 KB token',
          httpRequest(
            'POST',
            '/mcp',
            [
              ['Host', host],
              ['Authorization', `Bearer ${'A'.repeat(20_000)}`],
              ['Content-Length', '2'],
            ],
            '{}',
          ),
          431,
          /headers/,
        ],
        [
          'a control character in a header',
          httpRequest('GET', '/mcp', [
            ['Host', host],
            ['Mcp-Session-Id', 'a\x01b'],
          ]),
          400,
          /HTTP/,
        ],
        [
          'Content-Length and Transfer-Encoding',
          httpRequest(
            'POST',
            '/mcp',
            [
              ['Host', host],
              ['Content-Length', '2'],
              ['Transfer-Encoding', 'chunked'],
            ],
            '2\r\n{}\r\n0\r\n\r\n',
          ),
          400,
          /HTTP/,
        ],
        ['an unknown method', httpRequest('FOO', '/mcp', [['Host', host]]), 400, /HTTP/],
        [
          'no Host',
          httpRequest(
            'POST',
            '/mcp',
            [
              ['Authorization', 'Bearer carol~admin'],
              ['Content-Length', '2'],
            ],
            '{}',
          ),
          400,
          /Host/,
        ],
      ];
      for (const [what, bytes, status, pattern] of cases) {
        const answer = await send(port, bytes);
        assert.equal(answer.status, status, `${what}: ${answer.body}`);
        assert.match(errorMessage(answer), pattern, what);
      }
      const health = await send(port, httpRequest('GET', '/healthz', [['Host', host]]), 'GET');
      assert.equal(health.status, 200);
    },
  );

  it('refuses an unknown Mcp-Protocol-Version without echoing all of it', T, async () => {
    const session = await initialize('frank~admin');
    const head = headers('frank~admin', session).filter(([n]) => n !== 'Mcp-Protocol-Version');
    const answer = await send(
      port,
      post(
        [...head, ['Mcp-Protocol-Version', `2099-${'x'.repeat(10_000)}`]],
        '{"jsonrpc":"2.0","id":7,"method":"tools/list"}',
      ),
    );
    assert.equal(answer.status, 400);
    const message = errorMessage(answer);
    assert.match(message, /protocol version.*2025-06-18/);
    assert.ok(message.length < 400, `a message of ${message.length} characters`);
  });

  it('takes its own names in the Host header only as URLs write them, and says so', T, async () => {
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'unit', version: '0' } },
    });
    const withHost = (value: string) =>
      post(
        headers('grace~admin').map(([n, v]) => [n, n === 'Host' ? value : v] as [string, string]),
        init,
      );
    for (const odd of [
      `127.1:${port}`,
      `2130706433:${port}`,
      `[0:0:0:0:0:0:0:1]:${port}`,
      `localhost:${port}/x`,
      `x@localhost:${port}`,
    ]) {
      const answer = await send(port, withHost(odd));
      assert.equal(answer.status, 403, `${odd}: ${answer.body}`);
      assert.match(errorMessage(answer), /Host/, odd);
    }
    for (const fine of [`LOCALHOST:${port}`, `[::1]:${port}`, 'localhost']) {
      const answer = await send(port, withHost(fine));
      assert.equal(answer.status, 200, `${fine}: ${answer.body}`);
    }
  });
});
