import { gzipSync } from 'node:zlib';
import { httpRequest } from '../support/raw-http.js';
import {
  ACCEPT,
  type HttpWorld,
  INITIALIZE,
  MAX_REQUEST_BYTES,
  mcpPost,
  PROTOCOL_VERSION,
  TOKENS,
} from './http-target.js';
import type { Rng } from './rng.js';

/** One request of a step, and what its response may be. */
export interface HttpReq {
  method: string;
  path: string;
  /** Statuses that fit; undefined: any below 500. */
  statuses?: readonly number[];
  /** The server may close the connection instead of answering (CONNECT, bytes HTTP cannot parse). */
  mayClose?: boolean;
  /** Nothing has to come back for it (what follows a lying Content-Length, a request cut off). */
  optional?: boolean;
  /** An event stream that stays open (GET /mcp): its head is the answer. */
  stream?: boolean;
}

/** Bytes written on one connection, the requests they hold, and how they are written. */
export interface HttpStep {
  bytes: Buffer;
  requests: HttpReq[];
  /** On the previous step's connection (keep-alive); else a new one. */
  reuse?: boolean;
  /** Written in pieces cut at these offsets. */
  cuts?: number[];
  /** Only the first `at` bytes are written; then, after `waitMs`, the client goes away (RST when `reset`). */
  abort?: { at: number; waitMs: number; reset: boolean };
}

/** What one http case sends, made once the server's port and sessions are known. */
export interface HttpPlan {
  steps: HttpStep[];
  /** Credentials the case presents: none may come back in a response or reach the log. */
  secrets: string[];
  /** The case spoke as alice: her session is probed (and reopened if the case ended it) afterwards. */
  alice: boolean;
}

type Gen = (rng: Rng, w: HttpWorld) => HttpPlan;
type H = [string, string | Buffer][];

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const list = (id = 'l1') => ({ jsonrpc: '2.0', id, method: 'tools/list' });
const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A POST to /mcp with the headers given, the body, and a Content-Length unless the headers carry framing. */
function post(path: string, headers: H, body: Buffer): Buffer {
  const framed = headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
  return httpRequest(
    'POST',
    path,
    framed ? headers : [...headers, ['Content-Length', String(body.length)]],
    body,
  );
}

/** The headers of alice's established session, in the order a client sends them. */
function aliceHeaders(w: HttpWorld, session = w.sessions.alice): H {
  return [
    ['Host', w.host],
    ['Authorization', `Bearer ${TOKENS.alice}`],
    ['Content-Type', 'application/json'],
    ['Accept', ACCEPT],
    ['Mcp-Session-Id', session],
    ['Mcp-Protocol-Version', PROTOCOL_VERSION],
  ];
}

const only = (step: HttpStep, secrets: string[] = [], alice = true): HttpPlan => ({
  steps: [step],
  secrets,
  alice,
});
const one = (bytes: Buffer, req: HttpReq, extra: Partial<HttpStep> = {}): HttpStep => ({
  bytes,
  requests: [req],
  ...extra,
});
const POST = (statuses?: readonly number[], more: Partial<HttpReq> = {}): HttpReq => ({
  method: 'POST',
  path: '/mcp',
  ...(statuses && { statuses }),
  ...more,
});

/** A token one edit away from `token`: a character changed, dropped, added, swapped or its case flipped. */
function nearMiss(rng: Rng, token: string): string {
  const i = rng.int(0, token.length - 1);
  const c = token[i] as string;
  return rng.pick([
    () => `${token.slice(0, i)}${c === 'a' ? 'b' : 'a'}${token.slice(i + 1)}`,
    () => token.slice(0, i) + token.slice(i + 1),
    () => `${token.slice(0, i)}x${token.slice(i)}`,
    () => token.slice(0, -1),
    () => `${token}0`,
    () => token.toUpperCase(),
    () => ` ${token}`.trimEnd().replace(/^ /, ''),
    () =>
      `${token.slice(0, i)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${token.slice(i + 1)}`,
  ])();
}

/** Authorization header values: the header, what it carries (for the leak check), and the statuses that fit. */
function authorization(rng: Rng): { value?: string | Buffer; secret?: string; ok: readonly number[] } {
  const user = rng.pick(['alice', 'bob'] as const);
  const token = TOKENS[user];
  const miss = nearMiss(rng, token);
  return rng.pick<() => { value?: string | Buffer; secret?: string; ok: readonly number[] }>([
    () => ({ ok: [401] }),
    () => ({ value: '', ok: [401] }),
    () => ({ value: 'Bearer', ok: [401] }),
    () => ({ value: 'Bearer ', ok: [401] }),
    () => ({ value: `Bearer  ${token}`, secret: token, ok: [200, 401] }),
    () => ({ value: `bearer ${token}`, secret: token, ok: [200] }),
    () => ({ value: `BEARER ${token}`, secret: token, ok: [200] }),
    () => ({ value: `Bearer ${token} trailing`, secret: token, ok: [200, 401] }),
    () => ({ value: `Bearer\t${token}`, secret: token, ok: [401] }),
    () => ({ value: `Bearer ${token},Bearer x`, secret: token, ok: [401] }),
    () => ({
      value: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`,
      secret: token,
      ok: [401],
    }),
    () => ({ value: `Basic ${token}`, secret: token, ok: [401] }),
    () => ({ value: `Digest username="${user}", response="${token}"`, secret: token, ok: [401] }),
    () => ({ value: token, secret: token, ok: [401] }),
    () => ({ value: `Bearer ${miss}`, secret: miss, ok: miss === token ? [200] : [401] }),
    () => ({ value: `Bearer ${miss}`, secret: miss, ok: miss === token ? [200] : [401] }),
    () => ({ value: `Bearer ${TOKENS.mallory}`, secret: TOKENS.mallory, ok: [403] }),
    () => ({ value: Buffer.from(`Bearer tökén-${'ü'.repeat(rng.int(1, 40))}`, 'utf8'), ok: [401] }),
    () => ({
      value: Buffer.concat([Buffer.from('Bearer '), Buffer.from(rng.bytes(1, 40).map((b) => b | 0x80))]),
      ok: [401],
    }),
    () => ({ value: `Bearer ${'A'.repeat(rng.pick([100 * 1024, 20 * 1024]))}`, ok: [431] }),
    () => ({ value: `Bearer ${'A'.repeat(rng.int(2000, 12_000))}`, ok: [401] }),
    () => ({
      value: `Bearer ${rng.string('abcdefghijklmnopqrstuvwxyz0123456789-._~+/=', 1, 200)}`,
      ok: [401],
    }),
    () => ({ value: `Bearer ${token.slice(0, 16)}`, ok: [401] }),
    () => ({ value: `Bearer ${token}${token}`, secret: token, ok: [401] }),
  ])();
}

/** Bearer credentials shaped like JWTs: signed by the issuer (some fine, most not), or garbage. */
function jwtLike(rng: Rng, w: HttpWorld): { token: string; ok: readonly number[] } {
  const signed = (name: string, ok: readonly number[]) => ({ token: w.jwts[name] ?? 'missing.jwt.x', ok });
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: 'carol', iss: 'x', aud: `http://${w.host}/mcp`, exp: now + 3600 };
  return rng.pick<() => { token: string; ok: readonly number[] }>([
    () => signed('valid', [200]),
    () => signed('valid, roles a string', [200]),
    () => signed('valid, no known role', [403]),
    () => signed('huge claims', [403]),
    () => signed('nested claims', [403]),
    () => signed('expired', [401]),
    () => signed('another audience', [401]),
    () => signed('another issuer', [401]),
    () => signed('another key', [401]),
    () => signed('unknown kid', [401]),
    () => signed('user claim with spaces', [401]),
    () => signed('user claim an object', [401]),
    () => signed('huge user claim', [401]),
    () => signed('exp a string', [401]),
    () => signed('nbf far ahead', [401]),
    () => signed('no exp', [401]),
    () => ({ token: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`, ok: [401] }),
    () => ({ token: `${b64url({ alg: 'none' })}.${b64url(claims)}.${b64url('sig')}`, ok: [401] }),
    () => ({
      token: `${b64url({ alg: 'HS256', kid: 'k1' })}.${b64url(claims)}.${b64url(rng.bytes(32, 32).toString('latin1'))}`,
      ok: [401],
    }),
    () => ({
      token: `${b64url({ alg: 'ES256', kid: 'k1' })}.${b64url(claims)}.${b64url(rng.bytes(64, 64).toString('latin1'))}`,
      ok: [401],
    }),
    () => ({
      token: `${b64url({ alg: 'ES256', kid: '../../../etc/passwd', jku: 'http://127.0.0.1:1/' })}.${b64url(claims)}.AAAA`,
      ok: [401],
    }),
    () => ({
      token: `${b64url({ alg: 'RS256', x5u: 'http://169.254.169.254/' })}.${b64url(claims)}.AAAA`,
      ok: [401],
    }),
    () => ({ token: '..', ok: [401] }),
    () => ({ token: 'a.b.c', ok: [401] }),
    () => ({ token: '!!!.@@@.###', ok: [401] }),
    () => ({ token: 'e30.e30.e30', ok: [401] }),
    () => ({ token: `${b64url('[1,2]')}.${b64url('[]')}.x`, ok: [401] }),
    () => ({ token: `${b64url('not json')}.${b64url('{')}.x`, ok: [401] }),
    () => ({
      token: `${b64url({ alg: 'ES256' })}.${b64url({ ...claims, pad: 'p'.repeat(rng.int(1000, 9000)) })}.x`,
      ok: [401],
    }),
    () => ({
      token: `${b64url({ alg: 'ES256', crit: ['b64'], b64: false })}.${b64url(claims)}.x`,
      ok: [401],
    }),
    () => ({
      token: `${rng.string('ABCDEFabcdef0123456789-_', 10, 400)}.${rng.string('ABCDEFabcdef0123456789-_=', 0, 400)}.${rng.string('ABCDEF0123456789-_', 0, 100)}`,
      ok: [401],
    }),
    () => ({ token: 'a.b.c.d.e', ok: [401] }),
    () => ({ token: `eyJ${'A'.repeat(rng.int(1, 3000))}.eyJ.`, ok: [401] }),
  ])();
}

const OTHER_PATHS = [
  '/',
  '/nope',
  '/mcp/extra',
  '/mcp/../healthz',
  '/healthz/',
  '/healthz?x=1',
  '/favicon.ico',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-protected-resource/other',
  '/.well-known/oauth-authorization-server',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/mcp%00',
  '/%ff%fe',
  '/index.html',
];

/** Statuses a request to a path other than /mcp may get, by method and path. */
function otherPathStatuses(
  method: string,
  path: string,
  authed: boolean,
  garbage: boolean,
): readonly number[] {
  const bare = path.split('?')[0] as string;
  if (/^\/healthz\/?$/i.test(bare)) {
    if (method === 'GET' || method === 'HEAD') return [200];
    if (method === 'OPTIONS') return [200, 404];
    return [404];
  }
  if (/^\/\.well-known\/oauth-protected-resource(\/mcp)?\/?$/.test(bare)) {
    if (method === 'GET' || method === 'HEAD') return [200, 405];
    if (method === 'OPTIONS') return [200, 204];
    return [405];
  }
  // The metadata router's CORS answers a preflight on any path under it.
  if (bare.startsWith('/.well-known/oauth-protected-resource/'))
    return method === 'OPTIONS' ? [204, 404, 405] : [404, 405];
  // Under /mcp/: the bearer check and the body parser run first.
  if (bare.startsWith('/mcp/')) return !authed ? [401] : garbage ? [400] : [404];
  if (method === 'OPTIONS') return [200, 404];
  return [404];
}

/** How a body that is not one good message reaches /mcp on alice's session: statuses that fit it. */
function hostileBody(rng: Rng): { body: Buffer; ok: readonly number[]; what: string } {
  const deep = rng.int(1000, 100_000);
  const request = (id: unknown) => ({ jsonrpc: '2.0', id, method: 'tools/list' });
  return rng.pick<() => { body: Buffer; ok: readonly number[]; what: string }>([
    () => ({
      body: Buffer.from(rng.string('{}[]":,0123456789abcdefnulltrue\\ ', 1, 300)),
      ok: [400],
      what: 'not JSON',
    }),
    () => ({ body: json(list()).subarray(0, rng.int(1, 30)), ok: [400], what: 'truncated' }),
    () => ({ body: Buffer.from(''), ok: [400], what: 'empty' }),
    () => ({ body: Buffer.from('{"jsonrpc":"2.0","id":1,\0"method":"tools/list"}'), ok: [400], what: 'NUL' }),
    () => ({
      body: Buffer.from('{"jsonrpc":"2.0","id":"\\u0000\\u0000","method":"tools/list"}'),
      ok: [200],
      what: 'NUL escaped',
    }),
    () => ({
      body: Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":"'),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
        Buffer.from('","method":"tools/list"}'),
      ]),
      ok: [200, 400],
      what: 'invalid UTF-8',
    }),
    () => ({
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(list())]),
      ok: [200, 400],
      what: 'BOM',
    }),
    () => ({
      body: Buffer.from(`${'['.repeat(deep)}${']'.repeat(deep)}`),
      ok: [400, 413],
      what: 'deep arrays',
    }),
    () => ({
      body: Buffer.from(
        `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}}`,
      ),
      ok: [200, 400, 413],
      what: 'deep params',
    }),
    () => ({ body: Buffer.from(`${'['.repeat(deep)}`), ok: [400, 413], what: 'deep unclosed' }),
    () => ({
      body: json([request('b1'), request('b2'), { jsonrpc: '2.0', method: 'notifications/initialized' }]),
      ok: [200, 400],
      what: 'batch',
    }),
    // JSON-RPC 2.0 answers an empty batch with one error; the SDK's transport takes it as no requests (202).
    () => ({ body: json([]), ok: [202, 400], what: 'empty batch' }),
    () => ({ body: json([INITIALIZE]), ok: [400], what: 'batch with initialize' }),
    () => ({ body: json([INITIALIZE, request('b3')]), ok: [400], what: 'batch with initialize and more' }),
    () => ({
      body: json(Array.from({ length: rng.int(101, 2000) }, (_, i) => request(`b${i}`))),
      ok: [400, 413],
      what: 'batch over 100',
    }),
    () => ({
      body: json(
        Array.from({ length: rng.int(2, 100) }, (_, i) => ({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: i },
        })),
      ),
      ok: [202, 400],
      what: 'batch of notifications',
    }),
    () => ({ body: json([1, 'x', null]), ok: [400], what: 'batch of junk' }),
    () => ({
      body: Buffer.from(rng.pick(['null', '1', '"x"', 'true', '{}', '[[]]'])),
      ok: [400],
      what: 'not an object',
    }),
    () => ({ body: json({ jsonrpc: '1.0', id: 1, method: 'tools/list' }), ok: [400], what: 'jsonrpc 1.0' }),
    () => ({
      body: json({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: [] }),
      ok: [200, 400],
      what: 'params array',
    }),
    () => ({
      body: json({ jsonrpc: '2.0', id: { a: 1 }, method: 'tools/list' }),
      ok: [400],
      what: 'id object',
    }),
    () => ({
      body: json({ jsonrpc: '2.0', id: 'x'.repeat(rng.int(1000, 60_000)), method: 'tools/list' }),
      ok: [200],
      what: 'huge id',
    }),
    () => ({ body: json({ jsonrpc: '2.0', id: 1, result: {} }), ok: [202], what: 'a response' }),
    () => ({
      body: json({ jsonrpc: '2.0', id: 1, error: { code: 1, message: 'x' } }),
      ok: [202],
      what: 'an error response',
    }),
    () => ({
      body: json({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      ok: [202],
      what: 'notification',
    }),
    () => ({
      body: Buffer.from(
        '{"jsonrpc":"2.0","id":1,"method":"tools/list","__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}',
      ),
      ok: [200, 400],
      what: 'prototype keys',
    }),
    () => ({
      body: Buffer.from('{"jsonrpc":"2.0","id":1,"id":2,"method":"ping","method":"tools/list"}'),
      ok: [200],
      what: 'duplicate keys',
    }),
    () => ({
      body: json({ jsonrpc: '2.0', id: 1e308, method: 'tools/list' }),
      ok: [200, 400],
      what: 'huge number id',
    }),
    () => ({
      body: json({
        jsonrpc: '2.0',
        id: 'c1',
        method: 'tools/call',
        params: { name: 'list_hosts', arguments: { x: 'y'.repeat(rng.int(1, 100_000)) } },
      }),
      ok: [200],
      what: 'tool call, long argument',
    }),
    () => ({
      body: json({
        jsonrpc: '2.0',
        id: 'c2',
        method: 'tools/call',
        params: { name: 'write_file', arguments: {} },
      }),
      ok: [200],
      what: 'tool the role hides',
    }),
    () => ({ body: json(INITIALIZE), ok: [400], what: 'initialize again' }),
    () => ({
      body: Buffer.from(
        `{"jsonrpc":"2.0","id":1,"method":"tools/list"}${' '.repeat(rng.int(1, 1000))}\n\n{}`,
      ),
      ok: [400],
      what: 'two documents',
    }),
  ])();
}

/** Content-Type and Accept pairs, and what fits when the body is a good tools/list. */
function mediaTypes(rng: Rng): { headers: H; ok: readonly number[] } {
  const ct = rng.pick<[string | undefined, boolean]>([
    [undefined, false],
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['APPLICATION/JSON', true],
    ['application/json; charset=latin1', false],
    ['application/json; charset=utf-16', false],
    ['application/json; charset=bogus', false],
    ['text/plain', false],
    ['application/x-www-form-urlencoded', false],
    ['multipart/form-data; boundary=x', false],
    ['application/jsonx', false],
    ['application/json-seq', false],
    ['', false],
    ['*/*', false],
    [`application/json; ${'x=y; '.repeat(rng.int(1, 1000))}`, true],
  ]);
  const accept = rng.pick<[string | undefined, boolean]>([
    [undefined, false],
    [ACCEPT, true],
    ['*/*', false],
    ['application/json', false],
    ['text/event-stream', false],
    ['text/event-stream, application/json;q=0.1', true],
    ['text/html', false],
    ['', false],
    [`application/json, text/event-stream, ${'x/y, '.repeat(rng.int(1, 1000))}`, true],
  ]);
  const headers: H = [];
  if (ct[0] !== undefined) headers.push(['Content-Type', ct[0]]);
  if (accept[0] !== undefined) headers.push(['Accept', accept[0]]);
  // The body is read first (a charset it cannot decode: 415, or 400 when it decodes to garbage), then
  // Accept is checked (406), then the type (415).
  const ok = !accept[1] ? [400, 406, 415] : ct[1] ? [200] : [400, 415];
  return { headers, ok };
}

/** Host header values; `ok` whether the server must take the name as one of its own. */
function hostHeader(rng: Rng, w: HttpWorld): { value?: string; ok: boolean | undefined; http10?: boolean } {
  const port = w.port;
  return rng.pick<() => { value?: string; ok: boolean | undefined; http10?: boolean }>([
    () => ({ value: w.host, ok: true }),
    () => ({ value: `localhost:${port}`, ok: true }),
    () => ({ value: `LOCALHOST:${port}`, ok: true }),
    () => ({ value: `[::1]:${port}`, ok: true }),
    () => ({ value: '127.0.0.1', ok: true }),
    () => ({ value: '127.0.0.1:1', ok: true }),
    // Spellings URL normalises but does not write: refused, as the SDK's transport would refuse them.
    () => ({ value: `127.1:${port}`, ok: false }),
    () => ({ value: `2130706433:${port}`, ok: false }),
    () => ({ value: `localhost.:${port}`, ok: false }),
    () => ({ value: `127.0.0.1.:${port}`, ok: false }),
    () => ({ value: `[::ffff:127.0.0.1]:${port}`, ok: false }),
    () => ({ value: `[0:0:0:0:0:0:0:1]:${port}`, ok: false }),
    () => ({ value: `x@localhost:${port}`, ok: false }),
    () => ({ value: `local%68ost:${port}`, ok: false }),
    () => ({ value: `localhost.evil:${port}`, ok: false }),
    () => ({ value: `localhost.evil.example`, ok: false }),
    () => ({ value: `127.0.0.1.nip.io:${port}`, ok: false }),
    () => ({ value: 'evil.example', ok: false }),
    () => ({ value: `evil.example:${port}`, ok: false }),
    () => ({ value: `[::2]:${port}`, ok: false }),
    () => ({ value: `0.0.0.0:${port}`, ok: false }),
    () => ({ value: `localhost:${port}@evil.example`, ok: false }),
    () => ({ value: `localhost:99999`, ok: false }),
    () => ({ value: `localhost:${port}/x`, ok: false }),
    () => ({ value: '', ok: false }),
    () => ({ value: ' ', ok: false }),
    () => ({ value: `${'a'.repeat(rng.int(200, 8000))}.example`, ok: false }),
    () => ({ value: 'xn--80ak6aa92e.com', ok: false }),
    () => ({ ok: false, http10: true }),
    () => ({ ok: false }),
  ])();
}

function originHeader(rng: Rng, w: HttpWorld): { value?: string; ok: boolean } {
  return rng.pick<() => { value?: string; ok: boolean }>([
    () => ({ ok: true }),
    () => ({ value: `http://${w.host}`, ok: true }),
    () => ({ value: `http://localhost:${w.port}`, ok: true }),
    () => ({ value: 'http://127.0.0.1:1', ok: true }),
    () => ({ value: 'null', ok: false }),
    () => ({ value: 'http://evil.example', ok: false }),
    () => ({ value: `http://localhost.evil:${w.port}`, ok: false }),
    () => ({ value: `http://127.0.0.1.evil.example`, ok: false }),
    () => ({ value: 'file://', ok: false }),
    () => ({ value: '', ok: false }),
    () => ({ value: 'not a url', ok: false }),
    () => ({ value: `http://${'e'.repeat(rng.int(100, 6000))}.example`, ok: false }),
    () => ({ value: `http://localhost@evil.example`, ok: false }),
  ])();
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'FOO'];

export const httpGenerators: Record<string, Gen> = {
  /** Missing, garbled, huge, near-miss and foreign Authorization headers. */
  authorization(rng, w) {
    const a = authorization(rng);
    const headers: H = [['Host', w.host]];
    if (a.value !== undefined) headers.push(['Authorization', a.value]);
    headers.push(['Content-Type', 'application/json'], ['Accept', ACCEPT]);
    const huge = a.ok.includes(431);
    // initialize opens a session for whoever the token names; tools/list reads alice's own.
    const init = rng.chance(0.4);
    let ok = a.ok;
    if (!init) {
      headers.push(['Mcp-Session-Id', w.sessions.alice], ['Mcp-Protocol-Version', PROTOCOL_VERSION]);
      // Bob's valid token on alice's session: that session is unknown to him.
      if (ok.includes(200) && a.secret === TOKENS.bob) ok = ok.map((s) => (s === 200 ? 404 : s));
    }
    return only(
      one(post('/mcp', headers, json(init ? INITIALIZE : list())), POST(ok, { mayClose: huge })),
      a.secret ? [a.secret] : [],
      true,
    );
  },

  /** JWT-shaped credentials: signed by the local issuer (fine, expired, for another audience ...) or not. */
  jwt(rng, w) {
    const j = jwtLike(rng, w);
    const headers: H = [
      ['Host', w.host],
      ['Authorization', `Bearer ${j.token}`],
      ['Content-Type', 'application/json'],
      ['Accept', ACCEPT],
    ];
    return only(one(post('/mcp', headers, json(INITIALIZE)), POST(j.ok)), [j.token], false);
  },

  /** Odd methods on /mcp and elsewhere, with and without a token and a session. */
  methods(rng, w) {
    const method = rng.pick(METHODS);
    const onMcp = rng.chance(0.6);
    const path = onMcp ? rng.pick(['/mcp', '/mcp', '/mcp/', '/MCP', '/mcp?x=1']) : rng.pick(OTHER_PATHS);
    const authed = rng.chance(0.7);
    const withSession = authed && rng.chance(0.6);
    const headers: H = [['Host', w.host]];
    if (authed) headers.push(['Authorization', `Bearer ${TOKENS.alice}`]);
    headers.push(['Accept', rng.pick([ACCEPT, 'text/event-stream', '*/*'])]);
    if (withSession)
      headers.push(['Mcp-Session-Id', w.sessions.alice], ['Mcp-Protocol-Version', PROTOCOL_VERSION]);
    const body = rng.pick([undefined, json(INITIALIZE), json(list()), Buffer.from('garbage')]);
    if (body) headers.push(['Content-Type', 'application/json'], ['Content-Length', String(body.length)]);
    const garbage = body?.toString() === 'garbage';
    let statuses: readonly number[];
    let stream = false;
    if (method === 'FOO')
      statuses = [400]; // not a method HTTP knows: the parser refuses it
    else if (!onMcp) statuses = otherPathStatuses(method, path, authed, garbage);
    else if (!authed) statuses = [401];
    else if (garbage)
      statuses = [400]; // even a HEAD's body is read, and is not JSON
    else if (!withSession) statuses = method === 'POST' && body?.equals(json(INITIALIZE)) ? [200] : [400];
    else if (method === 'POST')
      statuses = [200, 202, 400, 406, 415]; // no body: no Content-Type, 415
    else if (method === 'GET') {
      stream = true;
      statuses = [200, 406, 409];
    } else if (method === 'DELETE') statuses = [200];
    else statuses = [405];
    return only(
      one(httpRequest(method, path, headers, body), {
        method,
        path,
        statuses,
        ...(stream && { stream }),
        ...(method === 'FOO' && { mayClose: true }),
      }),
      [],
      true,
    );
  },

  /** Content-Type and Accept absent, wrong, or unusual, on a good tools/list. */
  'content type'(rng, w) {
    const m = mediaTypes(rng);
    const headers: H = [
      ['Host', w.host],
      ['Authorization', `Bearer ${TOKENS.alice}`],
      ...m.headers,
      ['Mcp-Session-Id', w.sessions.alice],
      ['Mcp-Protocol-Version', PROTOCOL_VERSION],
    ];
    return only(one(post('/mcp', headers, json(list())), POST(m.ok)));
  },

  /** Content-Encoding the body does or does not have: gzip, deflate, a bomb, unknown codings. */
  'content encoding'(rng, w) {
    const good = json(list());
    const pick = rng.pick<() => { enc: string; body: Buffer; ok: readonly number[] }>([
      () => ({ enc: 'gzip', body: gzipSync(good), ok: [200] }),
      () => ({ enc: 'gzip', body: good, ok: [400, 415] }),
      () => ({ enc: 'gzip', body: gzipSync(good).subarray(0, rng.int(1, 20)), ok: [400] }),
      () => ({ enc: 'deflate', body: Buffer.from('not deflate'), ok: [400, 415] }),
      () => ({ enc: 'br', body: Buffer.from('not brotli'), ok: [400, 415] }),
      () => ({ enc: 'compress', body: good, ok: [415] }),
      () => ({ enc: 'identity', body: good, ok: [200] }),
      () => ({ enc: 'gzip, gzip', body: gzipSync(gzipSync(good)), ok: [200, 415] }),
      () => ({ enc: 'x-nonsense', body: good, ok: [415] }),
      // 16 MiB of spaces in well under the body limit: the limit must count what it inflates to.
      () => ({
        enc: 'gzip',
        body: gzipSync(
          Buffer.concat([
            Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/list"'),
            Buffer.alloc(16 * 1024 * 1024, 0x20),
            Buffer.from('}'),
          ]),
        ),
        ok: [413],
      }),
    ])();
    const headers: H = [...aliceHeaders(w), ['Content-Encoding', pick.enc]];
    return only(one(post('/mcp', headers, pick.body), POST(pick.ok)));
  },

  /** Bodies that are not one good message: garbage, truncated, NUL, invalid UTF-8, deep, batches. */
  body(rng, w) {
    const b = hostileBody(rng);
    return only(one(post('/mcp', aliceHeaders(w), b.body), POST(b.ok)));
  },

  /** Over the body limit, declared or not, chunked or not; Content-Length lying both ways. */
  size(rng, w) {
    const over = MAX_REQUEST_BYTES + rng.int(1, MAX_REQUEST_BYTES * 3);
    const padded = (n: number) => {
      const head = '{"jsonrpc":"2.0","id":"big","method":"tools/list","params":{"_meta":{},"pad":"';
      return Buffer.concat([
        Buffer.from(head),
        Buffer.alloc(Math.max(0, n - head.length - 3), 0x61),
        Buffer.from('"}}'),
      ]);
    };
    const chunked = (body: Buffer, size: number) => {
      const parts: Buffer[] = [];
      for (let i = 0; i < body.length; i += size) {
        const piece = body.subarray(i, i + size);
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from('0\r\n\r\n'));
      return Buffer.concat(parts);
    };
    const base = (extra: H): H => [...aliceHeaders(w), ...extra];
    const unauthenticated = rng.chance(0.15);
    const headersOf = (extra: H): H =>
      unauthenticated ? base(extra).filter(([n]) => n !== 'Authorization') : base(extra);
    const st = (s: readonly number[]) => (unauthenticated ? [401] : s);
    // Framing Node reads past the head before it refuses it: the bearer check may answer first.
    const late = (s: readonly number[]) => (unauthenticated ? [...s, 401] : s);
    const good = json(list());
    return rng.pick<() => HttpPlan>([
      () => only(one(post('/mcp', headersOf([]), padded(over)), POST(st([413]), { mayClose: true }))),
      () => only(one(post('/mcp', headersOf([]), padded(MAX_REQUEST_BYTES)), POST(st([200])))),
      () =>
        only(one(post('/mcp', headersOf([]), padded(MAX_REQUEST_BYTES - rng.int(1, 1000))), POST(st([200])))),
      // Declares far more than it sends: the limit answers before the body would be read.
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([['Content-Length', String(rng.pick([over, 2 ** 40, 2 ** 53 - 1]))]]),
              good,
            ),
            POST(st([413]), { mayClose: true }),
          ),
        ),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([['Transfer-Encoding', 'chunked']]),
              chunked(padded(over), rng.pick([1024, 65_536, 200_000])),
            ),
            POST(st([413]), { mayClose: true }),
          ),
        ),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([['Transfer-Encoding', 'chunked']]),
              chunked(good, rng.int(1, 20)),
            ),
            POST(st([200])),
          ),
        ),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([['Transfer-Encoding', 'chunked']]),
              chunked(good, 7).subarray(0, -5),
            ),
            POST(undefined, { optional: true }),
          ),
          [],
          true,
        ),
      // Declares more than it sends, then goes away: nothing to answer, nothing may stick.
      () => ({
        steps: [
          {
            bytes: httpRequest(
              'POST',
              '/mcp',
              headersOf([['Content-Length', String(good.length + rng.int(1, 5000))]]),
              good,
            ),
            requests: [POST(undefined, { optional: true })],
            abort: { at: Number.MAX_SAFE_INTEGER, waitMs: rng.int(0, 300), reset: rng.chance(0.5) },
          },
        ],
        secrets: [],
        alice: true,
      }),
      // Declares less than it sends: the rest is read as the next request on the connection.
      () =>
        only({
          bytes: httpRequest(
            'POST',
            '/mcp',
            headersOf([['Content-Length', String(rng.int(1, good.length - 1))]]),
            good,
          ),
          requests: [
            POST(st([400])),
            { method: '?', path: '?', statuses: [400], optional: true, mayClose: true },
          ],
        }),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([
                ['Content-Length', String(good.length)],
                ['Transfer-Encoding', 'chunked'],
              ]),
              chunked(good, 10),
            ),
            POST([400], { mayClose: true }),
          ),
        ),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([
                [
                  'Content-Length',
                  rng.pick(['abc', '-1', '1e3', '+10', '0x10', ' ', '99999999999999999999999']),
                ],
              ]),
              good,
            ),
            POST([400], { mayClose: true }),
          ),
        ),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([
                ['Content-Length', String(good.length)],
                ['Content-Length', String(good.length + 1)],
              ]),
              good,
            ),
            POST([400], { mayClose: true }),
          ),
        ),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([
                ['Transfer-Encoding', rng.pick(['gzip', 'chunked, gzip', 'xchunked', 'chunked\x0b'])],
              ]),
              good,
            ),
            POST(late([400, 501]), { mayClose: true }),
          ),
        ),
      () =>
        only(
          one(
            httpRequest(
              'POST',
              '/mcp',
              headersOf([['Transfer-Encoding', 'chunked']]),
              Buffer.from(
                `${rng.pick(['zz', '-1', 'ffffffffffffffff', '1;'.padEnd(9000, 'x')])}\r\n${good}\r\n0\r\n\r\n`,
              ),
            ),
            POST(late([400]), { mayClose: true, optional: true }),
          ),
        ),
    ])();
  },

  /** Mcp-Session-Id unknown, huge, another user's, with controls; the other user's session must live on. */
  'session id'(rng, w) {
    const own = w.sessions.alice;
    const v = rng.pick<() => { value: string | Buffer; ok: readonly number[]; mayClose?: boolean }>([
      () => ({ value: own, ok: [200] }),
      () => ({ value: crypto.randomUUID(), ok: [404] }),
      () => ({ value: w.sessions.probe, ok: [404] }),
      () => ({ value: w.sessions.bob, ok: [404] }),
      () => ({ value: own.toUpperCase(), ok: [404] }),
      () => ({ value: `${own} `, ok: [200, 404] }),
      () => ({ value: `${own}, ${own}`, ok: [404] }),
      () => ({ value: 'x'.repeat(rng.int(1000, 12_000)), ok: [404] }),
      () => ({ value: 'x'.repeat(20_000), ok: [431], mayClose: true }),
      () => ({ value: '', ok: [400, 404] }),
      () => ({ value: `${own}\x01`, ok: [400], mayClose: true }),
      () => ({ value: `a\x00b`, ok: [400], mayClose: true }),
      () => ({ value: `${own}\tx`, ok: [404] }),
      () => ({ value: Buffer.from(`sëssion-${own}`, 'utf8'), ok: [404] }),
      () => ({ value: TOKENS.alice, ok: [404] }),
      () => ({ value: '__proto__', ok: [404] }),
      () => ({ value: 'constructor', ok: [404] }),
      () => ({ value: '../../../etc/passwd', ok: [404] }),
    ])();
    const method = rng.pick(['POST', 'POST', 'GET', 'DELETE']);
    const headers: H = [
      ['Host', w.host],
      ['Authorization', `Bearer ${TOKENS.alice}`],
      ['Content-Type', 'application/json'],
      ['Accept', ACCEPT],
      ['Mcp-Session-Id', v.value],
      ['Mcp-Protocol-Version', PROTOCOL_VERSION],
    ];
    const body = method === 'POST' ? json(list()) : undefined;
    if (body) headers.push(['Content-Length', String(body.length)]);
    let ok = v.ok;
    if (method === 'GET') ok = ok.flatMap((s) => (s === 200 ? [200, 409] : [s]));
    return only(
      one(httpRequest(method, '/mcp', headers, body), {
        method,
        path: '/mcp',
        statuses: ok,
        ...(v.mayClose && { mayClose: true }),
        ...(method === 'GET' && { stream: true }),
      }),
      // A token put where a session id goes must not be logged either.
      v.value === TOKENS.alice ? [TOKENS.alice] : [],
    );
  },

  /** Mcp-Protocol-Version garbage on an established session. */
  'protocol version'(rng, w) {
    const v = rng.pick<[string | Buffer | undefined, readonly number[]]>([
      [undefined, [200]],
      [PROTOCOL_VERSION, [200]],
      ['2025-03-26', [200]],
      ['2024-11-05', [200]],
      ['2099-01-01', [400]],
      ['1999-12-31', [400]],
      ['', [200, 400]],
      ['latest', [400]],
      ['2025-06-18, 2025-03-26', [400]],
      ['2025-06-18\t', [200]],
      ['x'.repeat(rng.int(100, 10_000)), [400]],
      [Buffer.from('2025-06-18\u00e9', 'utf8'), [400]],
      ['%s%n%x', [400]],
      ['<script>alert(1)</script>', [400]],
    ]);
    const headers = aliceHeaders(w).filter(([n]) => n !== 'Mcp-Protocol-Version');
    if (v[0] !== undefined) headers.push(['Mcp-Protocol-Version', v[0]]);
    return only(one(post('/mcp', headers, json(list())), POST(v[1])));
  },

  /** Host and Origin attacks: names that are not the server's, odd spellings of its own. */
  'host and origin'(rng, w) {
    const h = hostHeader(rng, w);
    const o = originHeader(rng, w);
    const init = rng.chance(0.5);
    const headers: H = [];
    if (h.value !== undefined) headers.push(['Host', h.value]);
    headers.push(
      ['Authorization', `Bearer ${TOKENS.alice}`],
      ['Content-Type', 'application/json'],
      ['Accept', ACCEPT],
    );
    if (!init) headers.push(['Mcp-Session-Id', w.sessions.alice], ['Mcp-Protocol-Version', PROTOCOL_VERSION]);
    if (o.value !== undefined) headers.push(['Origin', o.value]);
    const body = json(init ? INITIALIZE : list());
    headers.push(['Content-Length', String(body.length)]);
    let bytes = httpRequest('POST', '/mcp', headers, body);
    if (h.http10)
      bytes = Buffer.from(bytes.toString('latin1').replace(' HTTP/1.1\r\n', ' HTTP/1.0\r\n'), 'latin1');
    // No Host: 400 (RFC 9112 §3.2 for HTTP/1.1; an HTTP/1.0 request names no host either).
    let statuses: readonly number[];
    if (h.value === undefined) statuses = [400];
    else if (h.ok === false || !o.ok) statuses = [403];
    else if (h.ok === undefined) statuses = [200, 403];
    else statuses = [200];
    return only(one(bytes, POST(statuses, { mayClose: h.value === undefined })));
  },

  /** Many requests on one keep-alive connection, one after another or all written at once. */
  'keep-alive'(rng, w) {
    const n = rng.int(5, 60);
    const pipelined = rng.chance(0.4);
    const steps: HttpStep[] = [];
    for (let i = 0; i < n; i++) {
      const pick = rng.pick<() => HttpStep>([
        () =>
          one(httpRequest('GET', '/healthz', [['Host', w.host]]), {
            method: 'GET',
            path: '/healthz',
            statuses: [200],
          }),
        () =>
          one(httpRequest('HEAD', '/healthz', [['Host', w.host]]), {
            method: 'HEAD',
            path: '/healthz',
            statuses: [200],
          }),
        () => one(post('/mcp', aliceHeaders(w), json(list(`k${i}`))), POST([200])),
        () =>
          one(
            post('/mcp', aliceHeaders(w), json({ jsonrpc: '2.0', id: `p${i}`, method: 'ping' })),
            POST([200]),
          ),
        () => one(post('/mcp', aliceHeaders(w), Buffer.from('{"jsonrpc":')), POST([400])),
        () =>
          one(
            post(
              '/mcp',
              aliceHeaders(w).filter(([k]) => k !== 'Authorization'),
              json(list()),
            ),
            POST([401]),
          ),
        () => one(post('/mcp', aliceHeaders(w, crypto.randomUUID()), json(list())), POST([404])),
        () =>
          one(httpRequest('GET', '/nope', [['Host', w.host]]), {
            method: 'GET',
            path: '/nope',
            statuses: [404],
          }),
        () =>
          one(httpRequest('PUT', '/mcp', aliceHeaders(w)), { method: 'PUT', path: '/mcp', statuses: [405] }),
      ])();
      steps.push({ ...pick, reuse: i > 0 });
    }
    if (pipelined) {
      return {
        steps: [
          { bytes: Buffer.concat(steps.map((s) => s.bytes)), requests: steps.flatMap((s) => s.requests) },
        ],
        secrets: [],
        alice: true,
      };
    }
    return { steps, secrets: [], alice: true };
  },

  /** Requests cut off midway (the client closes or resets), many in a row: nothing may stay held. */
  'cut off'(rng, w) {
    const n = rng.int(1, 24);
    const steps: HttpStep[] = [];
    for (let i = 0; i < n; i++) {
      const bytes = rng.pick([
        () => mcpPost(w, TOKENS.alice, w.sessions.alice, list(`c${i}`)),
        () => mcpPost(w, TOKENS.alice, undefined, INITIALIZE),
        () =>
          mcpPost(w, TOKENS.alice, w.sessions.alice, {
            jsonrpc: '2.0',
            id: `x${i}`,
            method: 'tools/call',
            params: { name: 'execute_command', arguments: { host: 'core1', command: 'uptime' } },
          }),
        () => post('/mcp', aliceHeaders(w), Buffer.alloc(rng.int(1000, MAX_REQUEST_BYTES), 0x20)),
        () => httpRequest('GET', '/mcp', aliceHeaders(w)),
      ])();
      const at = rng.chance(0.3) ? bytes.length : rng.int(1, bytes.length - 1);
      steps.push({
        bytes,
        requests: [
          {
            method: bytes.subarray(0, 4).toString() === 'GET ' ? 'GET' : 'POST',
            path: '/mcp',
            optional: true,
            stream: true,
          },
        ],
        abort: { at, waitMs: rng.pick([0, 0, 5, 50]), reset: rng.chance(0.5) },
      });
    }
    return { steps, secrets: [], alice: true };
  },

  /** A configured token where no token belongs (path, query, headers, body): it must not reach the log. */
  'token elsewhere'(rng, w) {
    const token = rng.pick([TOKENS.alice, TOKENS.bob]);
    const where = rng.pick<() => HttpStep>([
      () =>
        one(httpRequest('GET', `/healthz?token=${token}`, [['Host', w.host]]), {
          method: 'GET',
          path: '/healthz',
          statuses: [200],
        }),
      () =>
        one(httpRequest('GET', `/${token}`, [['Host', w.host]]), {
          method: 'GET',
          path: `/${token}`,
          statuses: [404],
        }),
      () =>
        one(
          post(
            `/mcp?access_token=${token}`,
            aliceHeaders(w).filter(([k]) => k !== 'Authorization'),
            json(list()),
          ),
          POST([401]),
        ),
      () =>
        one(
          post(
            '/mcp',
            [
              ...aliceHeaders(w),
              ['User-Agent', token],
              ['X-Forwarded-For', token],
              ['Referer', `http://x/?t=${token}`],
            ],
            json(list()),
          ),
          POST([200]),
        ),
      () =>
        one(
          post(
            '/mcp',
            aliceHeaders(w),
            json({
              jsonrpc: '2.0',
              id: 't1',
              method: 'tools/call',
              params: { name: 'execute_command', arguments: { host: token, command: `echo ${token}` } },
            }),
          ),
          POST([200]),
        ),
      () =>
        one(post('/mcp', aliceHeaders(w), json({ jsonrpc: '2.0', id: token, method: 'nope' })), POST([200])),
      () => one(post('/mcp', aliceHeaders(w), Buffer.from(`{"jsonrpc":"2.0","id":"${token}",`)), POST([400])),
    ])();
    return only(where, [token]);
  },
};

/** Case weights: the costly kinds (a 16 MiB bomb, 24 connections) are drawn less often. */
export const HTTP_WEIGHTS: Record<string, number> = {
  'cut off': 0.6,
  'keep-alive': 0.6,
  'content encoding': 0.6,
};
