import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { ConfigError } from '../../config/errors.js';
import type { AuthConfig } from '../../config/load.js';
import {
  formatSecretRef,
  missingSecretMessage,
  resolveSecret,
  secretFileWarning,
} from '../../config/secrets.js';
import { log } from '../../util/log.js';
import { jwtVerifier } from './oauth.js';

/**
 * Who is calling the HTTP server: static bearer tokens from the config, else OAuth 2.1 access tokens
 * (JWT). The SDK's requireBearerAuth calls verifyAccessToken on every request and hands the AuthInfo to
 * tool handlers, so the AuthInfo never holds the token: a tool result, a log line or a host must not be
 * able to receive it.
 */

/** The authenticated caller, as the audit log and per-user isolation see it. */
export interface Caller {
  user: string;
  roles: string[];
  via: 'token' | 'oauth';
}

export interface AuthVerifierOptions {
  /** The most one fetch from the identity provider (metadata, JWKS) may take. Default 5000 ms. */
  fetchTimeoutMs?: number;
}

/** Tokens are machine secrets: shorter ones are guessable, and refused when the server starts. */
export const MIN_TOKEN_LENGTH = 16;

/** What AuthInfo.token holds instead of the token. */
const TOKEN_PLACEHOLDER = '[redacted]';

/**
 * A static token never expires, but requireBearerAuth refuses an AuthInfo without expiresAt. Each request
 * is verified anew, so this only has to outlast one request.
 */
const STATIC_EXPIRY_S = 300;

const DEFAULT_FETCH_TIMEOUT_MS = 5000;

/** RFC 6750's Authorization header splits on spaces: a token must be printable ASCII without them. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

interface StaticToken {
  /** SHA-256 of the token: equal length for every token, so comparing leaks nothing through lengths. */
  hash: Buffer;
  user: string;
  roles: string[];
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Reads every static token once, keeps its hash only, and refuses the set (all problems at once) when a
 * token is missing, short, unfit for a header, or shared by two entries.
 */
async function loadStaticTokens(tokens: AuthConfig['tokens']): Promise<StaticToken[]> {
  const loaded: StaticToken[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const [i, { token: ref, user, roles }] of tokens.entries()) {
    const where = `auth.tokens[${i}] (user ${user}, ${formatSecretRef(ref)})`;
    const warning = secretFileWarning(ref);
    if (warning) log.warn(`auth.tokens[${i}]: ${warning}`);
    // Registered for masking by resolveSecret, so a token that reaches any output is masked there.
    const value = await resolveSecret(ref, 'token');
    if (value === undefined) {
      problems.push(missingSecretMessage(ref, `auth.tokens[${i}], the token of user ${user}`));
      continue;
    }
    if (value.length < MIN_TOKEN_LENGTH) {
      problems.push(
        `${where}: the token has ${value.length} characters; a token is a machine secret, use at least ${MIN_TOKEN_LENGTH} random ones (e.g. openssl rand -hex 32)`,
      );
    } else if (!HEADER_SAFE.test(value)) {
      problems.push(
        `${where}: the token holds spaces or characters outside printable ASCII, which an Authorization: Bearer header cannot carry (e.g. openssl rand -hex 32)`,
      );
    }
    const hash = sha256(value);
    const key = hash.toString('hex');
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(
        `${where}: the same token as auth.tokens[${first}] (user ${tokens[first]?.user}); each user needs a token of their own`,
      );
    }
    seen.set(key, i);
    loaded.push({ hash, user, roles: [...roles] });
  }
  if (problems.length > 0) {
    throw new ConfigError(`auth: static tokens cannot be used:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return loaded;
}

/**
 * The entry whose hash equals the presented token's. Every entry is compared, whether or not one matched
 * already, so the time taken says nothing about which entry (or whether any) matched.
 */
function matchStatic(tokens: readonly StaticToken[], presented: string): StaticToken | undefined {
  const hash = sha256(presented);
  let found: StaticToken | undefined;
  for (const entry of tokens) {
    const equal = timingSafeEqual(hash, entry.hash);
    if (equal && found === undefined) found = entry;
  }
  return found;
}

/**
 * The verifier requireBearerAuth calls. Static token references are resolved now (values hashed, the
 * plaintext dropped); nothing is fetched from the identity provider until the first JWT arrives, so the
 * server starts whether the IdP answers or not, and every fetch is bounded by `fetchTimeoutMs`.
 * Throws ConfigError when a static token is missing, shorter than MIN_TOKEN_LENGTH or shared.
 */
export async function createAuthVerifier(
  auth: AuthConfig,
  resourceUrl: URL,
  options: AuthVerifierOptions = {},
): Promise<OAuthTokenVerifier> {
  const tokens = await loadStaticTokens(auth.tokens);
  const resource = new URL(resourceUrl.href);
  const verifyJwt = auth.oauth
    ? jwtVerifier(auth.oauth, resource, options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS)
    : undefined;

  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const entry = matchStatic(tokens, token);
      if (entry) {
        const caller: Caller = { user: entry.user, roles: [...entry.roles], via: 'token' };
        return {
          token: TOKEN_PLACEHOLDER,
          clientId: entry.user,
          scopes: [],
          expiresAt: Math.floor(Date.now() / 1000) + STATIC_EXPIRY_S,
          resource: new URL(resource.href),
          extra: { ...caller },
        };
      }
      // Not three dot-separated parts: no JWT, so nothing for the issuer to say about it.
      if (!verifyJwt || token.split('.').length !== 3) throw new InvalidTokenError('unknown token');
      const jwt = await verifyJwt(token);
      const caller: Caller = { user: jwt.user, roles: jwt.roles, via: 'oauth' };
      return {
        token: TOKEN_PLACEHOLDER,
        clientId: jwt.clientId,
        scopes: jwt.scopes,
        expiresAt: jwt.expiresAt,
        resource: new URL(resource.href),
        extra: { ...caller },
      };
    },
  };
}

/** The caller verifyAccessToken recorded in AuthInfo.extra; undefined when there is none or it is not ours. */
export function callerOf(info: AuthInfo | undefined): Caller | undefined {
  const extra = info?.extra;
  if (!extra) return undefined;
  const { user, roles, via } = extra;
  if (typeof user !== 'string' || user === '') return undefined;
  if (via !== 'token' && via !== 'oauth') return undefined;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) return undefined;
  return { user, roles: [...roles], via };
}

/**
 * The RFC 9728 protected resource metadata for this server: where a client learns which authorization
 * server issues tokens for it. Served at getOAuthProtectedResourceMetadataUrl(resourceUrl) and named in
 * WWW-Authenticate (requireBearerAuth's resourceMetadataUrl).
 */
export function protectedResourceMetadata(
  auth: AuthConfig,
  resourceUrl: URL,
): OAuthProtectedResourceMetadata {
  const scopes = auth.oauth?.requiredScopes ?? [];
  return {
    resource: resourceUrl.href,
    ...(auth.oauth && { authorization_servers: [auth.oauth.issuer] }),
    bearer_methods_supported: ['header'],
    ...(scopes.length > 0 && { scopes_supported: [...scopes] }),
    resource_name: 'mcp-ssh-session',
  };
}
