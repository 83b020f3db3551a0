import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { CLI, NODE_FLAGS } from '../support/mcp-client.js';
import { exchange, httpRequest, type WireResponse } from '../support/raw-http.js';
import type { Fixtures } from './values.js';

const PRELOAD = new URL('./loopback-only.mjs', import.meta.url).pathname;

/** The static tokens of the fuzzed server (constants, so a case replays byte for byte). */
export const TOKENS = {
  alice: 'fuzz-alice-7f3a9c0e5b21d4486e0f',
  bob: 'fuzz-bob-0c8e2a6f4d1b9e7c3a50ff',
  /** Holds only a role the config does not define: authenticated, and refused 403. */
  mallory: 'fuzz-mallory-5e9b1d3f7a0c2e4b86',
  /** The health probe's user: no case sends as this user, so its session must live through every case. */
  probe: 'fuzz-probe-a1b2c3d4e5f60718293a',
} as const;
export type User = keyof typeof TOKENS;

/** The body limit the fuzzed server is configured with (http.max_request_bytes): small, so over it is cheap. */
export const MAX_REQUEST_BYTES = 256 * 1024;

/** OAuth access tokens made when the target starts: signed by the local issuer's key, or not quite. */
export type Jwts = Record<string, string>;

/** What a case's requests are built from: where the server is, and the live MCP sessions. */
export interface HttpWorld {
  port: number;
  /** `127.0.0.1:PORT`: the Host header the server answers to. */
  host: string;
  /** MCP session ids, one per user, initialized. */
  sessions: Record<'alice' | 'bob' | 'probe', string>;
  jwts: Jwts;
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } },
};
export const PROTOCOL_VERSION = '2025-06-18';
export const ACCEPT = 'application/json, text/event-stream';

/** The JSON-RPC messages of a response body: one JSON document, or the data lines of an event stream. */
export function messagesOf(response: WireResponse): unknown[] {
  const text = response.body.toString('utf8');
  const type = response.headers['content-type']?.[0] ?? '';
  if (type.startsWith('text/event-stream')) {
    const out: unknown[] = [];
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data === '') continue;
      try {
        out.push(JSON.parse(data));
      } catch {
        out.push(data);
      }
    }
    return out;
  }
  try {
    return [JSON.parse(text)];
  } catch {
    return [];
  }
}

/** An MCP POST as bytes: the usual headers of an established client, then the extra ones. */
export function mcpPost(
  w: { host: string },
  token: string | undefined,
  session: string | undefined,
  message: unknown,
  extra: [string, string][] = [],
): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  return httpRequest(
    'POST',
    '/mcp',
    [
      ['Host', w.host],
      ...(token ? ([['Authorization', `Bearer ${token}`]] as [string, string][]) : []),
      ['Content-Type', 'application/json'],
      ['Accept', ACCEPT],
      ...(session
        ? ([
            ['Mcp-Session-Id', session],
            ['Mcp-Protocol-Version', PROTOCOL_VERSION],
          ] as [string, string][])
        : []),
      ['Content-Length', String(body.length)],
      ...extra,
    ],
    body,
  );
}

/**
 * The fuzzed `serve --http` server: static tokens from the environment, an OAuth issuer served from this
 * process (JWKS on a 127.0.0.1 port), a roles section, the same loopback-only preload as the stdio server.
 * Every line it logs is kept for the judge (is a token in it? is it JSON?).
 */
export class HttpTarget {
  child: ChildProcess | undefined;
  port = 0;
  world: HttpWorld | undefined;
  /** Log lines not yet looked at by a case. */
  private lines: string[] = [];
  private partial = '';
  stderrTail = '';
  private issuer: Server | undefined;
  private issuerPort = 0;
  jwts: Jwts = {};
  private exited: Promise<void> | undefined;
  /** How the last server ended: its exit code or signal. */
  lastExit: string | undefined;

  constructor(
    private readonly f: Fixtures,
    private readonly boundMs: number,
  ) {}

  get alive(): boolean {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return false;
    try {
      process.kill(child.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** The log lines written since the last call. */
  takeLog(): string[] {
    return this.lines.splice(0);
  }

  async ensure(): Promise<HttpWorld> {
    if (!this.issuer) await this.startIssuer();
    if (!this.alive || !this.world) await this.start();
    return this.world as HttpWorld;
  }

  private async startIssuer(): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    this.issuer = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/jwks' ? JSON.stringify({ keys: [jwk] }) : '{}');
    });
    await new Promise<void>((resolve) => this.issuer?.listen(0, '127.0.0.1', resolve));
    this.issuerPort = (this.issuer.address() as AddressInfo).port;
    const issuer = `http://127.0.0.1:${this.issuerPort}`;
    // The audience is the resource URL, which holds the port chosen at start: tokens are signed then.
    this.signers = async (audience: string) => {
      const sign = (
        claims: JWTPayload,
        o: { key?: CryptoKey; kid?: string; aud?: string; iss?: string; exp?: number | string | null } = {},
      ) => {
        const jwt = new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? 'k1' })
          .setIssuer(o.iss ?? issuer)
          .setAudience(o.aud ?? audience)
          .setIssuedAt();
        // null: the claims carry their own exp (or none).
        if (o.exp !== null) jwt.setExpirationTime(o.exp ?? '1h');
        return jwt.sign(o.key ?? privateKey);
      };
      return {
        valid: await sign({ sub: 'carol', realm_access: { roles: ['operator'] } }),
        'valid, no known role': await sign({ sub: 'dave', realm_access: { roles: ['intern'] } }),
        'valid, roles a string': await sign({ sub: 'erin', realm_access: { roles: 'admin operator' } }),
        expired: await sign({ sub: 'carol', realm_access: { roles: ['admin'] } }, { exp: -120 }),
        'another audience': await sign({ sub: 'carol' }, { aud: 'http://127.0.0.1:1/mcp' }),
        'another issuer': await sign({ sub: 'carol' }, { iss: 'http://127.0.0.1:2' }),
        'another key': await sign({ sub: 'carol' }, { key: other.privateKey }),
        'unknown kid': await sign({ sub: 'carol' }, { kid: 'k-unknown' }),
        'user claim with spaces': await sign({ sub: 'carol smith; rm -rf /' }),
        'user claim an object': await sign({ sub: { name: 'carol' } as unknown as string }),
        'huge claims': await sign({
          sub: 'carol',
          realm_access: { roles: Array.from({ length: 600 }, (_, i) => `role-${i}`) },
          junk: 'x'.repeat(2000),
        }),
        'huge user claim': await sign({ sub: 'c'.repeat(5000) }),
        'nested claims': await sign({
          sub: 'carol',
          realm_access: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`),
        }),
        'exp a string': await sign({ sub: 'carol', exp: 'tomorrow' as unknown as number }, { exp: null }),
        'no exp': await sign({ sub: 'carol', realm_access: { roles: ['admin'] } }, { exp: null }),
        'nbf far ahead': await sign({ sub: 'carol', nbf: Math.floor(Date.now() / 1000) + 86_400 }),
      };
    };
  }

  private signers: ((audience: string) => Promise<Jwts>) | undefined;

  private writeConfig(): string {
    const file = path.join(this.f.dir, 'http-fuzz.yaml');
    const issuer = `http://127.0.0.1:${this.issuerPort}`;
    writeFileSync(
      file,
      [
        'defaults:\n  host_key: off',
        'groups:\n  core: {}',
        `hosts:\n  core1:\n    host: 127.0.0.1\n    port: ${this.f.refusedPort}\n    user: fuzz\n    groups: [core]`,
        `http:\n  max_request_bytes: ${MAX_REQUEST_BYTES}\n  shutdown_grace: 2`,
        'auth:\n  tokens:',
        '    - { token: env:FUZZ_TOKEN_ALICE, user: alice, roles: [operator] }',
        '    - { token: env:FUZZ_TOKEN_BOB, user: bob, roles: [admin] }',
        '    - { token: env:FUZZ_TOKEN_MALLORY, user: mallory, roles: [intern] }',
        '    - { token: env:FUZZ_TOKEN_PROBE, user: probe, roles: [admin] }',
        `  oauth:\n    issuer: ${issuer}\n    jwks_uri: ${issuer}/jwks\n    roles_claim: realm_access.roles`,
        'roles:',
        '  operator:\n    hosts: [group:core]\n    tools: [commands, sessions, inventory]\n    read_only: true',
        '  admin:\n    hosts: ["*"]\n    tools: [all]',
      ].join('\n'),
    );
    return file;
  }

  private async start(): Promise<void> {
    await this.stop();
    const config = this.writeConfig();
    const child = spawn(
      process.execPath,
      [...NODE_FLAGS, '--import', PRELOAD, CLI, 'serve', '--http', '127.0.0.1:0', '--config', config],
      {
        cwd: this.f.dir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: this.f.dir,
          MCP_SSH_TOOLS: 'all',
          MCP_SSH_SESSION_LOG_LEVEL: 'debug',
          FUZZ_ALLOWED_PORTS: [this.f.refusedPort, this.f.closingPort, this.issuerPort].join(','),
          FUZZ_TOKEN_ALICE: TOKENS.alice,
          FUZZ_TOKEN_BOB: TOKENS.bob,
          FUZZ_TOKEN_MALLORY: TOKENS.mallory,
          FUZZ_TOKEN_PROBE: TOKENS.probe,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.lastExit = String(code ?? signal);
        resolve();
      }),
    );
    this.lines = [];
    this.partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-8192);
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      // Bounded: a server that logs without end must not fill the fuzzer's memory.
      if (this.lines.length < 100_000) this.lines.push(...lines);
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`http: no start line in 20 s: ${this.stderrTail}`)),
        20_000,
      );
      const look = () => {
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(this.stderrTail);
        if (match) {
          clearTimeout(timer);
          child.stderr?.off('data', look);
          resolve(Number(match[1]));
        }
      };
      child.stderr?.on('data', look);
      void this.exited?.then(() => {
        clearTimeout(timer);
        reject(new Error(`http: server exited before listening: ${this.stderrTail}`));
      });
    });
    this.port = port;
    const host = `127.0.0.1:${port}`;
    this.jwts = (await this.signers?.(`http://${host}/mcp`)) ?? {};
    const world: HttpWorld = { port, host, sessions: { alice: '', bob: '', probe: '' }, jwts: this.jwts };
    for (const user of ['alice', 'bob', 'probe'] as const)
      world.sessions[user] = await this.openSession(world, user);
    this.world = world;
  }

  /** initialize + notifications/initialized as `user`: the new session's id. */
  async openSession(w: HttpWorld, user: User): Promise<string> {
    const answer = await exchange(
      w.port,
      mcpPost(w, TOKENS[user], undefined, INITIALIZE),
      'POST',
      this.boundMs,
    );
    const id = typeof answer === 'string' ? undefined : answer.headers['mcp-session-id']?.[0];
    if (typeof answer === 'string' || answer.status !== 200 || !id) {
      throw new Error(
        `http: initialize as ${user} failed: ${typeof answer === 'string' ? answer : `${answer.status} ${answer.body.toString().slice(0, 300)}`}`,
      );
    }
    const note = await exchange(
      w.port,
      mcpPost(w, TOKENS[user], id, { jsonrpc: '2.0', method: 'notifications/initialized' }),
      'POST',
      this.boundMs,
    );
    if (typeof note === 'string' || note.status !== 202) {
      throw new Error(
        `http: notifications/initialized as ${user}: ${typeof note === 'string' ? note : note.status}`,
      );
    }
    return id;
  }

  /**
   * Whether the server still serves: GET /healthz, then tools/list on the probe user's session and (when
   * the case spoke as alice) on alice's, opening alice a new one if the case ended hers. Undefined when
   * all is well, else what failed and whether it was time.
   */
  async probe(aliceToo: boolean): Promise<{ why: string; hang: boolean } | undefined> {
    const w = this.world;
    if (!w) return { why: 'no server', hang: false };
    const health = await exchange(
      w.port,
      httpRequest('GET', '/healthz', [['Host', w.host]]),
      'GET',
      this.boundMs,
    );
    if (typeof health === 'string') return { why: `GET /healthz: ${health}`, hang: /no answer/.test(health) };
    if (health.status !== 200 || !/"status":"ok"/.test(health.body.toString()))
      return { why: `GET /healthz: ${health.status} ${health.body.toString().slice(0, 100)}`, hang: false };
    const list = async (user: 'probe' | 'alice') => {
      const answer = await exchange(
        w.port,
        mcpPost(w, TOKENS[user], w.sessions[user], { jsonrpc: '2.0', id: 'probe', method: 'tools/list' }),
        'POST',
        this.boundMs,
      );
      return answer;
    };
    for (const user of aliceToo ? (['probe', 'alice'] as const) : (['probe'] as const)) {
      let answer = await list(user);
      if (user === 'alice' && typeof answer !== 'string' && answer.status === 404) {
        // The case ended or displaced alice's session (DELETE, 32 new ones): a new one must open.
        try {
          w.sessions.alice = await this.openSession(w, 'alice');
        } catch (error) {
          return { why: (error as Error).message, hang: /no answer/.test((error as Error).message) };
        }
        answer = await list(user);
      }
      if (typeof answer === 'string')
        return { why: `tools/list as ${user}: ${answer}`, hang: /no answer/.test(answer) };
      const tools = (messagesOf(answer)[0] as { result?: { tools?: unknown[] } } | undefined)?.result?.tools;
      if (answer.status !== 200 || !Array.isArray(tools) || tools.length === 0) {
        return {
          why: `tools/list as ${user}: ${answer.status} ${answer.body.toString().slice(0, 160)}`,
          hang: false,
        };
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.world = undefined;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([
      this.exited?.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!killed) {
      child.kill('SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
    }
  }

  async close(): Promise<void> {
    await this.stop();
    const issuer = this.issuer;
    this.issuer = undefined;
    if (issuer) {
      issuer.closeAllConnections();
      await new Promise((resolve) => issuer.close(resolve));
    }
  }
}
