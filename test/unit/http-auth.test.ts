// Authentication of the HTTP server: static bearer tokens from the config and OAuth access tokens (JWT)
// checked against a small identity provider served here on 127.0.0.1 (JWKS and issuer metadata).
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InsufficientScopeError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import {
  exportJWK,
  exportSPKI,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { parse as parseYaml } from 'yaml';
import { configWarnings } from '../../src/config/describe.js';
import { ConfigError } from '../../src/config/errors.js';
import { type AuthConfig, validateConfig } from '../../src/config/load.js';
import { JWT_ALGORITHMS } from '../../src/config/schema.js';
import {
  type AuthVerifierOptions,
  callerOf,
  createAuthVerifier,
  MIN_TOKEN_LENGTH,
  protectedResourceMetadata,
} from '../../src/server/http/auth.js';
import { redact } from '../../src/util/secrets.js';
import { freePort } from '../harness/sshd.js';
import { tempDir } from '../support/temp.js';

/** Every test is bounded: a hung fetch fails the test instead of the run. */
const T = { timeout: 10_000 };
const RESOURCE = new URL('https://mcp.example.net/mcp');
const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-fedcba9876543210xyz';

const dir = tempDir('http-auth-');
const configFile = path.join(dir, 'config.yaml');

/** Every token a test presented or configured: none may show up in an error or on stderr. */
const secrets = new Set<string>([ALICE, BOB]);
/** Every error the code under test threw. */
const thrown: unknown[] = [];
let stderr = '';
const realStderrWrite = process.stderr.write.bind(process.stderr);

/** The auth section as LoadedConfig carries it, through the schema like a real config file. */
function authFrom(section: unknown): AuthConfig {
  const loaded = validateConfig({ auth: section }, configFile);
  assert.ok(loaded.auth, 'no auth in LoadedConfig');
  return loaded.auth;
}

/** The message validateConfig refuses `section` with. */
function configRefusal(section: unknown): string {
  try {
    validateConfig({ auth: section }, configFile);
  } catch (error) {
    thrown.push(error);
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error.message;
  }
  assert.fail('the config was accepted');
}

/** What `promise` is refused with, checked to be of class `kind`. */
async function refusal(
  promise: Promise<unknown>,
  kind: abstract new (...args: never[]) => Error = InvalidTokenError,
) {
  try {
    await promise;
  } catch (error) {
    thrown.push(error);
    assert.ok(
      error instanceof kind,
      `expected ${kind.name}, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
    );
    return error;
  }
  assert.fail('accepted');
}

// --- a small identity provider on 127.0.0.1 ---

let idp: Server;
let base = '';
let issuer = '';
/** The paths the identity provider was asked for, in order. */
const requests: string[] = [];
let keyA: GenerateKeyPairResult;
let keyB: GenerateKeyPairResult;

/** What the identity provider answers on each path (JSON); .../hang never answers, anything else 404. */
function documents(jwks: unknown): Record<string, unknown> {
  const certs = `${base}/realms/net/certs`;
  return {
    '/realms/net/certs': jwks,
    '/.well-known/oauth-authorization-server/realms/net': { issuer, jwks_uri: certs },
    // OpenID Connect Discovery only (the well-known part appended to the issuer).
    '/realms/oidc/.well-known/openid-configuration': { issuer: `${base}/realms/oidc`, jwks_uri: certs },
    // Metadata naming another issuer than the one it is served for: must not be used (RFC 8414 §3.3).
    '/.well-known/oauth-authorization-server/realms/liar': { issuer, jwks_uri: certs },
  };
}

function serve(req: IncomingMessage, res: ServerResponse, jwks: unknown): void {
  const url = req.url ?? '';
  requests.push(url);
  if (url.endsWith('/hang')) return;
  const body = documents(jwks)[url];
  if (body === undefined) res.writeHead(404).end();
  else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A port nothing listens on: one that was just listened on and closed. */
before(async () => {
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return (realStderrWrite as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  keyA = await generateKeyPair('RS256');
  keyB = await generateKeyPair('RS256');
  const jwks = { keys: [{ ...(await exportJWK(keyA.publicKey)), kid: 'a', alg: 'RS256', use: 'sig' }] };
  idp = createServer((req, res) => serve(req, res, jwks));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  issuer = `${base}/realms/net`;
  process.env.MCP_TEST_TOKEN_ALICE = ALICE;
});

after(async () => {
  process.stderr.write = realStderrWrite;
  delete process.env.MCP_TEST_TOKEN_ALICE;
  delete process.env.MCP_TEST_TOKEN_SHORT;
  delete process.env.MCP_TEST_TOKEN_SAME;
  delete process.env.MCP_TEST_TOKEN_SPACE;
  idp.closeAllConnections();
  await new Promise<void>((resolve) => idp.close(() => resolve()));
});

/** A signed access token for the test issuer and RESOURCE; `claims` override (undefined drops one). */
async function accessToken(
  claims: JWTPayload = {},
  sign: { key?: CryptoKey; kid?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: issuer,
    aud: RESOURCE.href,
    sub: 'f3b1c2d4-0000-4000-8000-000000000001',
    preferred_username: 'carol',
    realm_access: { roles: ['operator', 'viewer'] },
    scope: 'openid mcp',
    azp: 'mcp-client',
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: sign.kid ?? 'a' })
    .sign(sign.key ?? keyA.privateKey);
  secrets.add(token);
  return token;
}

function oauthSection(extra: Record<string, unknown> = {}) {
  return {
    issuer,
    jwks_uri: `${base}/realms/net/certs`,
    user_claim: 'preferred_username',
    roles_claim: 'realm_access.roles',
    ...extra,
  };
}

async function oauthVerifier(
  extra: Record<string, unknown> = {},
  options: AuthVerifierOptions = {},
): Promise<OAuthTokenVerifier> {
  return createAuthVerifier(authFrom({ oauth: oauthSection(extra) }), RESOURCE, options);
}

describe('the auth section of the config file', () => {
  it('refuses a token written in the file, without quoting it', T, () => {
    const inline = 'inline-secret-token-0123456789';
    secrets.add(inline);
    const message = configRefusal({ tokens: [{ token: inline, user: 'alice' }] });
    assert.match(message, /auth\.tokens\[0\]\.token: a secret written in the config file is refused/);
    assert.ok(!message.includes(inline));
  });

  it('refuses HS256 and none as algorithms, and a plain http issuer off this machine', T, () => {
    const message = configRefusal({
      oauth: { issuer: 'http://idp.example.com/realms/net', algorithms: ['HS256', 'none'] },
    });
    assert.match(message, /auth\.oauth\.algorithms\[0\]: an asymmetric JWT algorithm/);
    assert.match(message, /auth\.oauth\.algorithms\[1\]: an asymmetric JWT algorithm/);
    assert.match(message, /auth\.oauth\.issuer: must start with https:\/\//);
  });

  it('refuses an unsafe user name, a reference used twice, and a section that lets nobody in', T, () => {
    const twice = configRefusal({
      tokens: [
        { token: 'env:A_TOKEN', user: '../etc' },
        { token: 'env:A_TOKEN', user: 'bob' },
      ],
    });
    assert.match(twice, /auth\.tokens\[0\]\.user: a user name: letters, digits/);
    assert.match(twice, /auth\.tokens\[1\]\.token: the same reference as auth\.tokens\[0\]/);
    assert.match(configRefusal({}), /auth: nobody could connect/);
    assert.match(configRefusal({ tokens: [{ token: 'env:A', user: 'a', role: ['x'] }] }), /unknown key/);
  });

  it('fills in the defaults and makes a file: token absolute against the config folder', T, () => {
    const auth = authFrom({
      tokens: [{ token: 'file:tokens/alice', user: 'alice@example.net', roles: ['operator'] }],
      oauth: { issuer: 'https://idp.example.com/realms/net' },
    });
    assert.deepEqual(auth.tokens, [
      {
        token: { kind: 'file', path: path.join(dir, 'tokens/alice') },
        user: 'alice@example.net',
        roles: ['operator'],
      },
    ]);
    assert.deepEqual(auth.oauth, {
      issuer: 'https://idp.example.com/realms/net',
      userClaim: 'sub',
      rolesClaim: 'roles',
      requiredScopes: [],
      algorithms: [...JWT_ALGORITHMS],
    });
  });
  it('check-config warns of a token reference that is not set, which serve --http would refuse', T, () => {
    const loaded = validateConfig(
      {
        auth: {
          tokens: [
            { token: 'env:MCP_SSH_TEST_UNSET_TOKEN', user: 'alice' },
            { token: 'file:no-such.token', user: 'bob' },
            { token: 'env:PATH', user: 'carol' },
          ],
        },
      },
      configFile,
    );
    const warnings = configWarnings(loaded).filter((w) => w.startsWith('auth.'));
    assert.deepEqual(warnings, [
      'auth.tokens[0]: env:MCP_SSH_TEST_UNSET_TOKEN is not set or empty (the token of user alice): serve --http does not start without it',
      `auth.tokens[1]: file:${path.join(dir, 'no-such.token')} cannot be read or is empty (the token of user bob): serve --http does not start without it`,
    ]);
  });

  it('accepts the example of docs/configuration.md', T, () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const example = /### `auth`[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'no yaml example under ### `auth`');
    const loaded = validateConfig(parseYaml(example), configFile);
    assert.equal(loaded.auth?.tokens[0]?.user, 'alice');
    assert.equal(loaded.auth?.oauth?.rolesClaim, 'realm_access.roles');
  });
});

describe('static bearer tokens', () => {
  const tokenFile = path.join(dir, 'bob.token');

  before(() => {
    writeFileSync(tokenFile, `${BOB}\n`);
    chmodSync(tokenFile, 0o600);
  });

  async function staticVerifier(): Promise<OAuthTokenVerifier> {
    return createAuthVerifier(
      authFrom({
        tokens: [
          { token: 'env:MCP_TEST_TOKEN_ALICE', user: 'alice', roles: ['operator'] },
          { token: 'file:bob.token', user: 'bob', roles: ['viewer', 'auditor'] },
        ],
      }),
      RESOURCE,
    );
  }

  it('accepts a token from the environment and says who it is, without the token', T, async () => {
    const info = await (await staticVerifier()).verifyAccessToken(ALICE);
    assert.ok(!JSON.stringify(info).includes(ALICE));
    assert.equal(info.clientId, 'alice');
    assert.deepEqual(info.scopes, []);
    assert.equal(info.resource?.href, RESOURCE.href);
    // requireBearerAuth refuses an AuthInfo without a future expiresAt.
    assert.ok(typeof info.expiresAt === 'number' && info.expiresAt > Date.now() / 1000);
    assert.deepEqual(callerOf(info), { user: 'alice', roles: ['operator'], via: 'token' });
  });

  it('accepts a token from a file (its trailing newline is not part of it)', T, async () => {
    const info = await (await staticVerifier()).verifyAccessToken(BOB);
    assert.deepEqual(callerOf(info), { user: 'bob', roles: ['viewer', 'auditor'], via: 'token' });
  });

  it('refuses an unknown token, and one a character away from a real one', T, async () => {
    const verifier = await staticVerifier();
    const near = `${ALICE.slice(0, -1)}0`;
    secrets.add(near);
    for (const token of ['nope-0123456789abcdef-nope', near, `${ALICE} `, ALICE.slice(0, -1)]) {
      secrets.add(token);
      const error = await refusal(verifier.verifyAccessToken(token));
      assert.equal(error.message, 'unknown token');
    }
  });

  it('registers each token for masking, so one that reaches output is masked', T, async () => {
    await staticVerifier();
    assert.equal(
      redact(`Authorization: Bearer ${ALICE} and ${BOB}`),
      'Authorization: Bearer ******** and ********',
    );
  });

  it('refuses at start a token that is short, shared, unfit for a header or not set', T, async () => {
    process.env.MCP_TEST_TOKEN_SHORT = 'short-token';
    process.env.MCP_TEST_TOKEN_SAME = ALICE;
    process.env.MCP_TEST_TOKEN_SPACE = 'a token with spaces in it';
    secrets.add('short-token').add('a token with spaces in it');
    const error = await refusal(
      createAuthVerifier(
        authFrom({
          tokens: [
            { token: 'env:MCP_TEST_TOKEN_ALICE', user: 'alice' },
            { token: 'env:MCP_TEST_TOKEN_SHORT', user: 'dave' },
            { token: 'env:MCP_TEST_TOKEN_SAME', user: 'eve' },
            { token: 'env:MCP_TEST_TOKEN_SPACE', user: 'frank' },
            { token: 'env:MCP_TEST_TOKEN_UNSET', user: 'grace' },
          ],
        }),
        RESOURCE,
      ),
      ConfigError,
    );
    assert.match(
      error.message,
      new RegExp(
        `auth\\.tokens\\[1\\] \\(user dave, env:MCP_TEST_TOKEN_SHORT\\): the token has 11 characters.*at least ${MIN_TOKEN_LENGTH}`,
      ),
    );
    assert.match(
      error.message,
      /auth\.tokens\[2\] \(user eve, .*\): the same token as auth\.tokens\[0\] \(user alice\)/,
    );
    assert.match(error.message, /auth\.tokens\[3\] .*cannot carry/);
    assert.match(
      error.message,
      /auth\.tokens\[4\], the token of user grace: environment variable MCP_TEST_TOKEN_UNSET is not set/,
    );
  });
});

describe('OAuth access tokens (JWT)', () => {
  it('fetches nothing from the identity provider until a token needs checking', T, async () => {
    const before = requests.length;
    await oauthVerifier({ jwks_uri: undefined });
    await oauthVerifier();
    assert.equal(requests.length, before);
  });

  it(
    'accepts a valid token: user and roles from the configured claims, scopes, client, expiry',
    T,
    async () => {
      const exp = Math.floor(Date.now() / 1000) + 120;
      const token = await accessToken({ exp });
      const info = await (await oauthVerifier()).verifyAccessToken(token);
      assert.deepEqual(callerOf(info), { user: 'carol', roles: ['operator', 'viewer'], via: 'oauth' });
      assert.deepEqual(info.scopes, ['openid', 'mcp']);
      assert.equal(info.clientId, 'mcp-client');
      assert.equal(info.expiresAt, exp);
      assert.equal(info.resource?.href, RESOURCE.href);
      assert.ok(!JSON.stringify(info).includes(token));
    },
  );

  it('reads roles written as a space-separated string, and the user from sub by default', T, async () => {
    const token = await accessToken({ groups: 'netops  readers', scope: undefined, scp: ['mcp'] });
    const verifier = await oauthVerifier({ user_claim: undefined, roles_claim: 'groups' });
    const info = await verifier.verifyAccessToken(token);
    assert.deepEqual(callerOf(info), {
      user: 'f3b1c2d4-0000-4000-8000-000000000001',
      roles: ['netops', 'readers'],
      via: 'oauth',
    });
    assert.deepEqual(info.scopes, ['mcp']);
  });

  it('refuses an expired token, and one without exp', T, async () => {
    const now = Math.floor(Date.now() / 1000);
    const verifier = await oauthVerifier();
    const expired = await accessToken({ iat: now - 900, exp: now - 120 });
    assert.equal((await refusal(verifier.verifyAccessToken(expired))).message, 'token expired');
    const noExp = await refusal(verifier.verifyAccessToken(await accessToken({ exp: undefined })));
    assert.equal(noExp.message, 'token has no expiry (exp)');
  });

  it('honours nbf, allowing for a little clock drift between the issuer and this server', T, async () => {
    const now = Math.floor(Date.now() / 1000);
    const verifier = await oauthVerifier();
    const early = await accessToken({ nbf: now + 600 });
    assert.equal((await refusal(verifier.verifyAccessToken(early))).message, 'token not yet valid (nbf)');
    // An issuer whose clock runs 10 s ahead of ours: its fresh token is usable here at once.
    await verifier.verifyAccessToken(await accessToken({ iat: now + 10, nbf: now + 10 }));
  });

  it(
    'refuses a token issued for another server (audience), and accepts a configured audience',
    T,
    async () => {
      const other = await accessToken({ aud: 'https://other.example.net/mcp' });
      const error = await refusal((await oauthVerifier()).verifyAccessToken(other));
      assert.equal(error.message, 'token not issued for this server (audience)');
      const none = await refusal(
        (await oauthVerifier()).verifyAccessToken(await accessToken({ aud: undefined })),
      );
      assert.equal(none.message, 'token not issued for this server (audience)');
      const configured = await oauthVerifier({ audience: 'https://other.example.net/mcp' });
      assert.equal(callerOf(await configured.verifyAccessToken(other))?.user, 'carol');
      // The resource URL with the trailing slash some identity providers add is the same resource.
      await (await oauthVerifier()).verifyAccessToken(await accessToken({ aud: `${RESOURCE.href}/` }));
    },
  );

  it('refuses a token from another issuer', T, async () => {
    const token = await accessToken({ iss: `${base}/realms/other` });
    assert.equal(
      (await refusal((await oauthVerifier()).verifyAccessToken(token))).message,
      'issuer mismatch',
    );
  });

  it('refuses a token signed by another key, under the same key id or another', T, async () => {
    const verifier = await oauthVerifier();
    const forged = await accessToken({}, { key: keyB.privateKey });
    assert.equal(
      (await refusal(verifier.verifyAccessToken(forged))).message,
      'token signature does not verify',
    );
    const unknownKid = await accessToken({}, { key: keyB.privateKey, kid: 'b' });
    assert.equal(
      (await refusal(verifier.verifyAccessToken(unknownKid))).message,
      'no key of the issuer signed this token',
    );
  });

  it('refuses alg none, and HS256 signed with the public key as the secret', T, async () => {
    const verifier = await oauthVerifier();
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, aud: RESOURCE.href, preferred_username: 'mallory', exp: now + 300 };
    const unsigned = new UnsecuredJWT(claims).encode();
    secrets.add(unsigned);
    assert.equal(
      (await refusal(verifier.verifyAccessToken(unsigned))).message,
      'token signing algorithm not allowed',
    );
    const pem = await exportSPKI(keyA.publicKey);
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'a' })
      .sign(new TextEncoder().encode(pem));
    secrets.add(confused);
    assert.equal(
      (await refusal(verifier.verifyAccessToken(confused))).message,
      'token signing algorithm not allowed',
    );
    // Restricting the algorithms is honoured too: RS256 refused when only ES256 is configured.
    const esOnly = await oauthVerifier({ algorithms: ['ES256'] });
    const rs = await accessToken();
    assert.equal(
      (await refusal(esOnly.verifyAccessToken(rs))).message,
      'token signing algorithm not allowed',
    );
  });

  it('refuses a token without the required scopes (403), or without a usable user name', T, async () => {
    const verifier = await oauthVerifier({ required_scopes: ['mcp', 'mcp:admin'] });
    const error = await refusal(verifier.verifyAccessToken(await accessToken()), InsufficientScopeError);
    assert.equal(error.message, 'token lacks scope mcp:admin');
    await verifier.verifyAccessToken(await accessToken({ scope: 'mcp mcp:admin' }));
    const noUser = await accessToken({ preferred_username: '../../root' });
    assert.match(
      (await refusal((await oauthVerifier()).verifyAccessToken(noUser))).message,
      /^token has no usable user name in claim preferred_username/,
    );
  });

  it('still accepts static tokens next to OAuth, and calls anything else an unknown token', T, async () => {
    const verifier = await createAuthVerifier(
      authFrom({ tokens: [{ token: 'env:MCP_TEST_TOKEN_ALICE', user: 'alice' }], oauth: oauthSection() }),
      RESOURCE,
    );
    assert.equal(callerOf(await verifier.verifyAccessToken(ALICE))?.via, 'token');
    assert.equal(callerOf(await verifier.verifyAccessToken(await accessToken()))?.via, 'oauth');
    const garbage = 'not-a-jwt-and-not-a-token-0123';
    secrets.add(garbage);
    assert.equal((await refusal(verifier.verifyAccessToken(garbage))).message, 'unknown token');
    const mangled = 'aaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbb.cccc';
    secrets.add(mangled);
    assert.equal((await refusal(verifier.verifyAccessToken(mangled))).message, 'malformed token');
  });

  it('says the JWKS is unreachable, quickly, when nothing listens there', T, async () => {
    const verifier = await oauthVerifier({ jwks_uri: `http://127.0.0.1:${await freePort()}/certs` });
    const started = Date.now();
    const error = await refusal(verifier.verifyAccessToken(await accessToken()));
    assert.match(error.message, /^JWKS unreachable: connection failed \(ECONNREFUSED\)$/);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('says the JWKS is unreachable within the fetch timeout when the server never answers', T, async () => {
    const verifier = await oauthVerifier({ jwks_uri: `${base}/hang` }, { fetchTimeoutMs: 300 });
    const started = Date.now();
    const error = await refusal(verifier.verifyAccessToken(await accessToken()));
    assert.equal(error.message, 'JWKS unreachable: no answer within 300 ms');
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('discovers the JWKS from the issuer metadata (RFC 8414), once', T, async () => {
    const verifier = await oauthVerifier({ jwks_uri: undefined });
    const before = requests.length;
    await verifier.verifyAccessToken(await accessToken());
    await verifier.verifyAccessToken(await accessToken());
    assert.deepEqual(requests.slice(before), [
      '/.well-known/oauth-authorization-server/realms/net',
      '/realms/net/certs',
    ]);
  });

  it('falls back to OpenID Connect discovery', T, async () => {
    const oidc = `${base}/realms/oidc`;
    const verifier = await oauthVerifier({ issuer: oidc, jwks_uri: undefined });
    const info = await verifier.verifyAccessToken(await accessToken({ iss: oidc }));
    assert.equal(callerOf(info)?.user, 'carol');
  });

  it('does not use metadata that names another issuer, and says why', T, async () => {
    const liar = `${base}/realms/liar`;
    const verifier = await oauthVerifier({ issuer: liar, jwks_uri: undefined });
    const error = await refusal(verifier.verifyAccessToken(await accessToken({ iss: liar })));
    assert.match(
      error.message,
      /^JWKS unreachable: no issuer metadata with a jwks_uri \(.*names another issuer/,
    );
  });

  it('bounds discovery by the fetch timeout when the metadata URL never answers', T, async () => {
    const silent = `${base}/hang`;
    const verifier = await oauthVerifier({ issuer: silent, jwks_uri: undefined }, { fetchTimeoutMs: 300 });
    const started = Date.now();
    const error = await refusal(verifier.verifyAccessToken(await accessToken({ iss: silent })));
    assert.equal(error.message, 'JWKS unreachable: issuer metadata: no answer within 300 ms');
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('bounds discovery when the identity provider is down', T, async () => {
    const down = `http://127.0.0.1:${await freePort()}/realms/net`;
    const verifier = await oauthVerifier({ issuer: down, jwks_uri: undefined });
    const started = Date.now();
    const error = await refusal(verifier.verifyAccessToken(await accessToken({ iss: down })));
    assert.equal(error.message, 'JWKS unreachable: issuer metadata: connection failed (ECONNREFUSED)');
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });
});

describe("the SDK's requireBearerAuth with this verifier", () => {
  /** One request through the middleware, with just enough of express's req and res. */
  async function through(verifier: OAuthTokenVerifier, authorization: string, requiredScopes: string[] = []) {
    const metadataUrl = getOAuthProtectedResourceMetadataUrl(RESOURCE);
    const middleware = requireBearerAuth({
      verifier,
      requiredScopes,
      resourceMetadataUrl: metadataUrl,
      expectedResource: RESOURCE,
    });
    const req = { headers: { authorization } } as { headers: Record<string, string>; auth?: AuthInfo };
    const out = {
      status: 0,
      headers: {} as Record<string, string>,
      body: undefined as unknown,
      passed: false,
    };
    const res = {
      set(name: string, value: string) {
        out.headers[name.toLowerCase()] = value;
        return res;
      },
      status(code: number) {
        out.status = code;
        return res;
      },
      json(body: unknown) {
        out.body = body;
        return res;
      },
    };
    await (middleware as unknown as (q: unknown, r: unknown, n: () => void) => Promise<void>)(
      req,
      res,
      () => {
        out.passed = true;
      },
    );
    return { ...out, auth: req.auth, metadataUrl };
  }

  it(
    'lets a static token through with its caller, and answers 401 naming the metadata otherwise',
    T,
    async () => {
      const verifier = await createAuthVerifier(
        authFrom({ tokens: [{ token: 'env:MCP_TEST_TOKEN_ALICE', user: 'alice', roles: ['operator'] }] }),
        RESOURCE,
      );
      const ok = await through(verifier, `Bearer ${ALICE}`);
      assert.ok(ok.passed, `refused: ${JSON.stringify(ok.body)}`);
      assert.deepEqual(callerOf(ok.auth), { user: 'alice', roles: ['operator'], via: 'token' });
      const wrong = 'wrong-token-0123456789abcdef';
      secrets.add(wrong);
      const refused = await through(verifier, `Bearer ${wrong}`);
      assert.equal(refused.passed, false);
      assert.equal(refused.status, 401);
      assert.equal(
        refused.headers['www-authenticate'],
        `Bearer error="invalid_token", error_description="unknown token", resource_metadata="${refused.metadataUrl}"`,
      );
      thrown.push(new Error(JSON.stringify(refused)));
    },
  );

  it('lets a valid access token through, and answers 403 for a missing scope', T, async () => {
    const verifier = await oauthVerifier({ required_scopes: ['mcp'] });
    const ok = await through(verifier, `Bearer ${await accessToken()}`);
    assert.ok(ok.passed, `refused: ${JSON.stringify(ok.body)}`);
    assert.equal(callerOf(ok.auth)?.user, 'carol');
    const narrow = await through(verifier, `Bearer ${await accessToken({ scope: 'openid' })}`);
    assert.equal(narrow.status, 403);
    assert.match(narrow.headers['www-authenticate'] ?? '', /error="insufficient_scope"/);
    // The answer is checked with the errors for any token text (last test).
    thrown.push(new Error(JSON.stringify(narrow)));
  });
});

describe('callerOf and the protected resource metadata', () => {
  it('finds no caller in an AuthInfo it did not make', T, () => {
    assert.equal(callerOf(undefined), undefined);
    const info = { token: 'x', clientId: 'c', scopes: [] };
    assert.equal(callerOf(info), undefined);
    assert.equal(callerOf({ ...info, extra: { user: 'a', roles: 'admin', via: 'token' } }), undefined);
    assert.equal(callerOf({ ...info, extra: { user: 'a', roles: [], via: 'saml' } }), undefined);
  });

  it('describes the resource, its authorization server and scopes (RFC 9728)', T, () => {
    const auth = authFrom({ oauth: oauthSection({ required_scopes: ['mcp'] }) });
    assert.deepEqual(protectedResourceMetadata(auth, RESOURCE), {
      resource: 'https://mcp.example.net/mcp',
      authorization_servers: [issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
      resource_name: 'mcp-ssh-session',
    });
    const tokensOnly = authFrom({ tokens: [{ token: 'env:MCP_TEST_TOKEN_ALICE', user: 'alice' }] });
    assert.deepEqual(protectedResourceMetadata(tokensOnly, RESOURCE), {
      resource: 'https://mcp.example.net/mcp',
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-ssh-session',
    });
  });
});

it('never puts a token in an error or a log line', T, () => {
  assert.ok(thrown.length >= 20, `only ${thrown.length} errors seen`);
  const pieces = [...secrets].flatMap((secret) => [
    secret,
    ...secret.split('.').filter((part) => part.length >= 12),
  ]);
  for (const error of thrown) {
    const e = error as Error & { toResponseObject?: () => unknown };
    const texts = [
      e.message,
      String(e.stack),
      JSON.stringify(e.toResponseObject?.() ?? null),
      String(e.cause ?? ''),
    ];
    for (const text of texts) {
      for (const piece of pieces) assert.ok(!text.includes(piece), `a token in: ${text.slice(0, 200)}`);
    }
  }
  for (const piece of pieces) assert.ok(!stderr.includes(piece), 'a token on stderr');
  // The failures above were logged (with their URLs), so stderr was really watched.
  assert.match(stderr, /oauth: JWKS http:\/\/127\.0\.0\.1:\d+\/hang: no answer within 300 ms/);
});
