import { InsufficientScopeError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import {
  createRemoteJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { OAuthConfig } from '../../config/load.js';
import { isTrustedWebUrl, USER_NAME } from '../../config/schema.js';
import { log } from '../../util/log.js';

/**
 * OAuth 2.1 access tokens (JWT) as a resource server checks them: jose does the cryptography and the
 * claim checks; this file chooses the options, finds the keys and turns each refusal into words that are
 * safe to send back (never the token, never a claim value).
 */

/** What a verified access token says about its caller. */
export interface JwtCaller {
  user: string;
  roles: string[];
  clientId: string;
  scopes: string[];
  /** Seconds since the epoch (the token's `exp`). */
  expiresAt: number;
}

/** Clocks of the identity provider and this server drift; 30 s is what most resource servers allow. */
const CLOCK_TOLERANCE_S = 30;
/** After a failed discovery, callers get the same failure for this long instead of each waiting on the IdP. */
const DISCOVERY_RETRY_MS = 10_000;
/** Warnings about an unreachable IdP repeat at most this often: every request would otherwise log one. */
const WARN_EVERY_MS = 60_000;
/** An authorization server metadata document is a few KB; more is not one. */
const MAX_METADATA_BYTES = 256 * 1024;

/** The refusal the SDK's requireBearerAuth answers with 401 and a WWW-Authenticate header. */
function refuse(message: string): InvalidTokenError {
  // The message goes into a quoted header parameter (error_description="..."): no quotes, no controls.
  return new InvalidTokenError(message.replace(/["\\\x00-\x1f\x7f]/g, ''));
}

let lastWarning = { text: '', at: 0 };
function warnThrottled(text: string): void {
  const now = Date.now();
  if (text === lastWarning.text && now - lastWarning.at < WARN_EVERY_MS) return;
  lastWarning = { text, at: now };
  log.warn(text);
}

/** Why a fetch failed, without the address it failed on (the caller sees this; the log has the URL). */
function fetchProblem(error: unknown, timeoutMs: number): string {
  if (error instanceof errors.JWKSTimeout || (error as Error)?.name === 'TimeoutError')
    return `no answer within ${timeoutMs} ms`;
  if (error instanceof errors.JWKSInvalid) return 'the answer is not a JSON Web Key Set';
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return `connection failed (${cause.code})`;
  if (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') {
    return /200 OK/.test(error.message) ? 'the answer was not 200 OK' : 'the answer is not JSON';
  }
  return 'connection failed';
}

/** Whether an error out of jose's remote key set comes from fetching it (not from picking a key). */
function isFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (error instanceof errors.JOSEError) return error.code === 'ERR_JOSE_GENERIC';
  // undici's own: `TypeError: fetch failed`, the reason in `cause`.
  return error instanceof TypeError && error.message === 'fetch failed';
}

/**
 * Where the issuer's metadata may be, in the order tried: RFC 8414 puts the well-known part before the
 * issuer's path; OpenID Connect Discovery appends it (RFC 8414 §5 allows both spellings for it).
 */
function metadataUrls(issuer: string): URL[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  const candidates = [
    `/.well-known/oauth-authorization-server${path}`,
    `/.well-known/openid-configuration${path}`,
    `${path}/.well-known/openid-configuration`,
  ];
  return [...new Set(candidates)].map((candidate) => new URL(candidate, url.origin));
}

/** The body as text, refused past `max` bytes (a metadata URL answering gigabytes must not fill memory). */
async function boundedText(response: Response, max: number): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The issuer's jwks_uri, from its metadata. One timeout bounds the whole search, so a silent IdP holds
 * the first request for at most that long. A document naming another issuer is not used (RFC 8414 §3.3).
 */
async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  const signal = AbortSignal.timeout(timeoutMs);
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    let response: Response;
    try {
      // A redirect counts as "not here": metadata is served where the issuer says, not elsewhere.
      response = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
    } catch (error) {
      // All candidates share one origin: if it cannot be reached, trying the others only waits longer.
      warnThrottled(`oauth: issuer metadata ${url.href}: ${fetchProblem(error, timeoutMs)}`);
      throw refuse(`JWKS unreachable: issuer metadata: ${fetchProblem(error, timeoutMs)}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      tried.push(`${url.pathname}: HTTP ${response.status}`);
      continue;
    }
    let metadata: unknown;
    try {
      const text = await boundedText(response, MAX_METADATA_BYTES);
      metadata = text === undefined ? undefined : JSON.parse(text);
    } catch (error) {
      if ((error as Error)?.name === 'TimeoutError' || signal.aborted) {
        throw refuse(`JWKS unreachable: issuer metadata: no answer within ${timeoutMs} ms`);
      }
      metadata = undefined;
    }
    const { issuer: named, jwks_uri: jwksUri } = (metadata ?? {}) as Record<string, unknown>;
    if (named !== issuer) {
      tried.push(`${url.pathname}: ${metadata ? 'names another issuer' : 'not a JSON document'}`);
      continue;
    }
    let jwks: URL | undefined;
    try {
      jwks = typeof jwksUri === 'string' ? new URL(jwksUri) : undefined;
    } catch {
      jwks = undefined;
    }
    if (!jwks || !isTrustedWebUrl(jwks)) {
      tried.push(`${url.pathname}: no usable https jwks_uri`);
      continue;
    }
    return jwks;
  }
  warnThrottled(
    `oauth: no usable metadata for issuer ${issuer} (${tried.join('; ')}); set auth.oauth.jwks_uri`,
  );
  throw refuse(`JWKS unreachable: no issuer metadata with a jwks_uri (${tried.join('; ')})`);
}

/** jose's remote key set, its fetch failures turned into a refusal that says so (and a warning with the URL). */
function remoteKeys(url: URL, timeoutMs: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { timeoutDuration: timeoutMs });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (!isFetchFailure(error)) throw error;
      const problem = fetchProblem(error, timeoutMs);
      warnThrottled(`oauth: JWKS ${url.href}: ${problem}`);
      throw refuse(`JWKS unreachable: ${problem}`);
    }
  };
}

/** A claim by name, else by dotted path (`realm_access.roles`); own properties only. */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let at: unknown = payload;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, part))
      return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** A list claim written either way identity providers write it: a JSON array or a space-separated string. */
function wordsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value))
    return value.filter((item): item is string => typeof item === 'string' && item !== '');
  return [];
}

/** Why jose refused a token, in words that quote nothing from it. */
function refusal(error: unknown): Error {
  if (error instanceof InvalidTokenError || error instanceof InsufficientScopeError) return error;
  if (error instanceof errors.JWTExpired) return refuse('token expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing') return refuse('token has no expiry (exp)');
    // A missing aud or iss is refused in the same words as a wrong one.
    switch (error.claim) {
      case 'aud':
        return refuse('token not issued for this server (audience)');
      case 'iss':
        return refuse('issuer mismatch');
      case 'nbf':
        return refuse('token not yet valid (nbf)');
      default:
        return refuse(`token claim ${error.claim} is invalid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return refuse('token signing algorithm not allowed');
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refuse('token signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey) return refuse('no key of the issuer signed this token');
  if (error instanceof errors.JOSENotSupported) return refuse('token signing algorithm not supported');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof TypeError)
    return refuse('malformed token');
  // Only the class: a message could, in some library's future, carry part of what it was given.
  log.warn(`oauth: token check failed unexpectedly (${(error as Error)?.name ?? typeof error})`);
  return refuse('token could not be verified');
}

/**
 * A function checking one access token against the configured issuer: signature from the issuer's JWKS
 * (fetched by jose when first needed and when an unknown key id shows up), `iss`, `aud`, `exp` required,
 * `nbf` honoured, asymmetric algorithms only. Resolves to the caller; rejects with the SDK's
 * InvalidTokenError (401) or InsufficientScopeError (403) only.
 */
export function jwtVerifier(
  oauth: OAuthConfig,
  resourceUrl: URL,
  timeoutMs: number,
): (token: string) => Promise<JwtCaller> {
  const options: JWTVerifyOptions = {
    issuer: oauth.issuer,
    audience: oauth.audience ?? resourceAudiences(resourceUrl),
    algorithms: oauth.algorithms,
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_S,
  };

  let keys: Promise<JWTVerifyGetKey> | undefined;
  let failedAt: number | undefined;
  const keySource = (): Promise<JWTVerifyGetKey> => {
    if (oauth.jwksUri !== undefined) {
      keys ??= Promise.resolve(remoteKeys(new URL(oauth.jwksUri), timeoutMs));
      return keys;
    }
    if (keys && (failedAt === undefined || Date.now() - failedAt < DISCOVERY_RETRY_MS)) return keys;
    failedAt = undefined;
    const found = discoverJwksUri(oauth.issuer, timeoutMs).then((url) => remoteKeys(url, timeoutMs));
    // Remembered, so the next request tries again after DISCOVERY_RETRY_MS rather than never.
    found.catch(() => {
      failedAt = Date.now();
    });
    keys = found;
    return found;
  };

  const verify = async (token: string): Promise<JWTPayload> => {
    const getKey = await keySource();
    try {
      return (await jwtVerify(token, getKey, options)).payload;
    } catch (error) {
      // Two keys of the set fit the header (a rotation with a shared kid): jose hands over each to try.
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  };

  return async (token) => {
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      throw refusal(error);
    }
    const user = claimAt(payload, oauth.userClaim);
    if (typeof user !== 'string' || !USER_NAME.test(user)) {
      throw refuse(
        `token has no usable user name in claim ${oauth.userClaim} (letters, digits, . _ - @, at most 128)`,
      );
    }
    const scopes = wordsOf(payload.scope ?? payload.scp);
    const missing = oauth.requiredScopes.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) throw new InsufficientScopeError(`token lacks scope ${missing.join(' ')}`);
    const clientId = [payload.client_id, payload.azp].find((id) => typeof id === 'string' && id !== '');
    return {
      user,
      roles: wordsOf(claimAt(payload, oauth.rolesClaim)),
      clientId: (clientId as string | undefined) ?? user,
      scopes,
      // jose checked exp is a number and present (requiredClaims).
      expiresAt: payload.exp as number,
    };
  };
}

/**
 * The audiences a token for this server may carry: its resource URL (RFC 8707), with or without the one
 * trailing slash identity providers disagree about (the SDK's resource check ignores it too).
 */
function resourceAudiences(resourceUrl: URL): string[] {
  const url = new URL(resourceUrl.href);
  url.hash = '';
  const href = url.href;
  return [href, href.endsWith('/') ? href.slice(0, -1) : `${href}/`];
}
