import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { metadataHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/metadata.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import {
  isInitializeRequest,
  type JSONRPCMessage,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { deploymentOf } from '../../config/deployment.js';
import { type Rights, rightsOf, userDeployment } from '../../config/roles.js';
import type { Deployment } from '../../session/manager.js';
import { ConnectPacer } from '../../session/pacing.js';
import { log } from '../../util/log.js';
import {
  errorReply,
  INTERNAL_ERROR,
  INVALID_REQUEST,
  PARSE_ERROR,
  SERVER_ERROR,
  SESSION_NOT_FOUND,
} from '../jsonrpc-check.js';
import {
  createDialects,
  createManager,
  createServer,
  type ManagedSessions,
  type ServerOptions,
  serverLimits,
  toolSelectionOf,
} from '../server.js';
import { withoutCodePrefix } from '../stdio-transport.js';
import { narrowTools, type ToolSelection, ToolsetError } from '../toolsets.js';
import { VERSION } from '../version.js';
import { type Caller, callerOf } from './auth.js';
import { allowedHostnames, checkOrigin, hostnameOf, requestHostname } from './origin.js';
import { checkRoles } from './roles-check.js';

/** MCP sessions nobody used for this long are closed (the user's SSH sessions stay). */
const MCP_IDLE_MS = 60 * 60_000;

export interface HttpAuth {
  verifier: OAuthTokenVerifier;
  /** RFC 9728 protected resource metadata, served and pointed at from WWW-Authenticate. */
  metadata: OAuthProtectedResourceMetadata;
}

export interface HttpServeOptions {
  host: string;
  port: number;
  server: ServerOptions;
  /**
   * Made once the URL of /mcp is known (the OAuth resource: http.public_url, else where it listens).
   * Undefined: no authentication (the CLI allows that on a loopback address only).
   */
  auth?: (resourceUrl: URL) => Promise<HttpAuth>;
}

export interface HttpService {
  /** Where it listens, e.g. http://127.0.0.1:8080/mcp. */
  url: URL;
  /** The URL clients are told to use (http.public_url, else `url`): the token audience. */
  resourceUrl: URL;
  /** Stops taking requests, lets running ones finish within the grace, then closes every session. */
  close(graceMs?: number): Promise<void>;
}

/** One MCP session: its transport and the server answering on it. */
interface McpSession {
  transport: StreamableHTTPServerTransport;
  close(): Promise<void>;
  lastUsed: number;
}

/** One user's share of the server: their SSH sessions and everything under them, and their MCP sessions. */
interface UserSpace {
  rights: Rights;
  sessions: ManagedSessions;
  tools: ToolSelection;
  mcp: Map<string, McpSession>;
  running: number;
}

/** The JSON-RPC error body MCP clients read on an HTTP error status. */
function rpcError(res: Response, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.status(status).json(errorReply(null, code, message));
}

/**
 * Why body-parser could not read a request body, as [status, JSON-RPC code, message]; undefined for an
 * error that is not the request's fault.
 */
function bodyProblem(
  error: Error & { type?: string; status?: number; code?: unknown; charset?: unknown },
  coding: string,
  tooLarge: string,
): [number, number, string] | undefined {
  const quoted = (value: unknown) => JSON.stringify(String(value).slice(0, 40));
  switch (error.type) {
    case 'entity.too.large':
      return [413, INVALID_REQUEST, tooLarge];
    case 'entity.parse.failed':
      return [400, PARSE_ERROR, 'Parse error: the request body is not JSON'];
    case 'charset.unsupported':
      return [
        415,
        INVALID_REQUEST,
        `the request body's charset ${quoted(error.charset)} is not one this server reads; send JSON in UTF-8`,
      ];
    case 'encoding.unsupported':
      return [
        415,
        INVALID_REQUEST,
        `Content-Encoding ${quoted(coding)} is not one this server reads; send the body as is, or with gzip, deflate or br`,
      ];
    case 'request.size.invalid':
      return [400, INVALID_REQUEST, 'the request body is not as long as its Content-Length says'];
    case 'request.aborted':
      return [400, INVALID_REQUEST, 'the request ended before its body did'];
  }
  // zlib's refusal of a body that is not what its Content-Encoding says (body-parser makes it a 400).
  if (error.status === 400 && typeof error.code === 'string' && /^(Z_|ERR_)/.test(error.code)) {
    return [
      400,
      INVALID_REQUEST,
      `the request body is not valid ${quoted(coding)} data (Content-Encoding); send it as is or encoded as it says`,
    ];
  }
  return undefined;
}

/** What Node's HTTP parser refused, as the status and message to answer; undefined: no one to answer. */
function clientErrorAnswer(error: NodeJS.ErrnoException & { reason?: string }): [number, string] | undefined {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return [
        431,
        'the request headers are over 16 KB together, more than this server reads; send a shorter token or fewer headers',
      ];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'the chunk extensions of the request body are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'the request did not arrive whole in time; send it again'];
  }
  const why = typeof error.reason === 'string' ? ` (${error.reason.slice(0, 80)})` : '';
  return [400, `Bad Request: not HTTP/1.1 this server can read${why}`];
}

/** No authentication configured: the one local user, with every right the server gives. */
const LOCAL: Caller = { user: 'local', roles: [], via: 'token' };

/**
 * MCP over Streamable HTTP on /mcp. Each authenticated user gets a session manager of their own: SSH
 * sessions, commands, outputs and fan-outs are found only through it, so another user's ids lead nowhere.
 * Each MCP session gets its own MCP server over that manager (a server speaks to one client).
 */
export async function startHttpServer(options: HttpServeOptions): Promise<HttpService> {
  const config = options.server.config;
  const http = config?.config.http;
  const limits = serverLimits(options.server);
  const baseTools = toolSelectionOf(options.server);
  const roles = checkRoles(options.server, baseTools);
  const base: Deployment | undefined = config && deploymentOf(config);
  const dialects = createDialects(options.server);
  // One limit on SSH connections being opened for all users together: 50 users arriving at once must not
  // be 50 handshakes at one jump host past its MaxStartups.
  const pacer = new ConnectPacer({ maxConnecting: limits.maxConnecting });

  // Listening first: the resource URL (and so the token audience) may need the port the system chose.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** The response each connection is working on, so a client error does not write into one begun. */
  const inFlight = new WeakMap<Duplex, ServerResponse>();
  // No Host is answered by our own check below (with a body saying so), not Node's empty 400.
  const httpServer: Server = createHttpServer({ requireHostHeader: false }, (req, res) => {
    inFlight.set(req.socket, res);
    res.once('close', () => {
      if (inFlight.get(req.socket) === res) inFlight.delete(req.socket);
    });
    if (handler) return handler(req, res);
    res
      .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
      .end('{"status":"starting"}');
  });
  // What Node cannot parse as HTTP (headers over its 16 KB, bytes no header may hold, an unknown method,
  // Content-Length with Transfer-Encoding): the status Node would send, with a JSON-RPC error that says
  // what was wrong instead of an empty body.
  httpServer.on('clientError', (error: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    const answer = clientErrorAnswer(error);
    const begun = inFlight.get(socket)?.headersSent === true;
    if (answer && socket.writable && !begun) {
      const body = JSON.stringify(errorReply(null, INVALID_REQUEST, answer[1]));
      socket.end(
        `HTTP/1.1 ${answer[0]} ${STATUS_CODES[answer[0]]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  });
  // Bounds receiving a request only (an answer or SSE stream may last as long as a call): a client that
  // declares more body than it sends does not hold its connection for good.
  httpServer.requestTimeout = 120_000;
  // Longer than proxies keep idle upstream connections (nginx up to 60 s, AWS ALB 60 s): a proxy must never
  // send a request on a connection node is closing, which it would answer 502.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = new URL(`http://${shownHost}:${address.port}/mcp`);
  const resourceUrl = http?.public_url ? new URL(http.public_url) : url;
  let auth: HttpAuth | undefined;
  try {
    auth = await options.auth?.(resourceUrl);
  } catch (error) {
    httpServer.close();
    throw error;
  }

  // By user and the roles this request's token carries: a token with other roles (the identity provider
  // took one away, or a static token and a JWT name the same user) gets the rights it holds, not those of
  // whichever token came first. Its MCP sessions are apart too: a session's tools were chosen by its rights.
  const spaces = new Map<string, UserSpace>();
  const spaceOf = (caller: Caller): UserSpace | string => {
    // Without authentication there is one local user, whom roles do not concern.
    const rights = rightsOf(auth ? config : undefined, caller.user, caller.roles);
    if (typeof rights === 'string') return rights;
    const key = `${caller.user}\u0000${rights.roles.join('\u0000')}`;
    const known = spaces.get(key);
    if (known) return known;
    let tools: ToolSelection;
    try {
      tools = narrowTools(baseTools, rights.tools, caller.user);
    } catch (error) {
      if (error instanceof ToolsetError) return error.message;
      throw error;
    }
    const deployment = base && userDeployment(base, roles, rights);
    const sessions = createManager({ ...options.server, dialects, pacer, ...(deployment && { deployment }) });
    const space: UserSpace = { rights, sessions, tools, mcp: new Map(), running: 0 };
    spaces.set(key, space);
    return space;
  };

  let stopping = false;
  let running = 0;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      log.info('http request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        user: callerOf((req as Request & { auth?: AuthInfo }).auth)?.user,
        session: req.header('mcp-session-id'),
      });
    });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.status(stopping ? 503 : 200).json({ status: stopping ? 'stopping' : 'ok', version: VERSION });
  });

  // Public facts, for any page or client (the SDK's handler answers CORS): before the Host/Origin check.
  const metadataUrl = getOAuthProtectedResourceMetadataUrl(resourceUrl);
  if (auth) {
    const serve = metadataHandler(auth.metadata);
    app.use(new URL(metadataUrl).pathname, serve);
    app.use('/.well-known/oauth-protected-resource', serve);
  }

  const hostnames = allowedHostnames(options.host, resourceUrl, http?.allowed_hosts ?? []);
  app.use((req, res, next) => {
    if (req.headers.host === undefined) {
      rpcError(
        res,
        400,
        INVALID_REQUEST,
        'Bad Request: no Host header; a request names the host it is meant for',
      );
      return;
    }
    const hostname = requestHostname(req.headers.host);
    const spelled = hostname === undefined ? hostnameOf(req.headers.host) : undefined;
    if (spelled !== undefined) {
      rpcError(
        res,
        403,
        SERVER_ERROR,
        `Host header "${req.headers.host.slice(0, 100)}" is not written as URLs write it; send "${spelled.slice(0, 100)}" (with the port, if any)`,
      );
      return;
    }
    if (hostname === undefined || !hostnames.has(hostname)) {
      log.warn('refused a request for another host name (DNS rebinding?)', {
        host: req.headers.host?.slice(0, 100),
      });
      rpcError(
        res,
        403,
        SERVER_ERROR,
        `Host header "${String(req.headers.host).slice(0, 100)}" is not a name of this server; an administrator adds it under http.allowed_hosts`,
      );
      return;
    }
    const origin = checkOrigin(req.headers.origin, hostnames, http?.allowed_origins ?? []);
    if (origin !== undefined) {
      rpcError(res, 403, SERVER_ERROR, origin);
      return;
    }
    next();
  });

  app.use('/mcp', (_req, res, next) => {
    if (stopping) {
      res.setHeader('Connection', 'close');
      rpcError(res, 503, SERVER_ERROR, 'the server is shutting down; connect again shortly');
      return;
    }
    next();
  });
  if (auth) {
    app.use(
      '/mcp',
      requireBearerAuth({
        verifier: auth.verifier,
        resourceMetadataUrl: metadataUrl,
        expectedResource: resourceUrl,
      }),
    );
  }
  const tooLarge = `the request is over this server's limit of ${limits.httpMaxRequestBytes} bytes (http.max_request_bytes); send less per call`;
  app.use('/mcp', (req, res, next) => {
    // Declared over the limit: answered now. body-parser would answer only once it has read the whole
    // body (never, from a client that declared more than it sends). Node reads off and drops the rest,
    // so a client still sending is not cut off (EPIPE) before it can read the answer.
    if (Number(req.headers['content-length']) > limits.httpMaxRequestBytes) {
      rpcError(res, 413, INVALID_REQUEST, tooLarge);
      return;
    }
    next();
  });
  app.use('/mcp', express.json({ limit: limits.httpMaxRequestBytes, type: () => true }));

  app.all('/mcp', async (req: Request & { auth?: AuthInfo }, res) => {
    const caller = callerOf(req.auth) ?? LOCAL;
    const space = spaceOf(caller);
    if (typeof space === 'string') {
      rpcError(res, 403, SERVER_ERROR, `forbidden: ${space}`);
      return;
    }
    if (req.method === 'POST' && space.running >= limits.httpMaxRequestsPerUser) {
      res.setHeader('Retry-After', '1');
      rpcError(
        res,
        429,
        SERVER_ERROR,
        `${caller.user} has ${space.running} requests running, the most this server takes at once (http.max_requests_per_user); wait for one to finish`,
      );
      return;
    }
    const id = req.header('mcp-session-id');
    let session: McpSession | undefined;
    if (id !== undefined) {
      // Another user's session id is as unknown here as a made-up one.
      session = space.mcp.get(id);
      if (!session) {
        rpcError(
          res,
          404,
          SESSION_NOT_FOUND,
          'Session not found: it ended or the server restarted; initialize a new one',
        );
        return;
      }
      // The SDK refuses an unknown version too, but quotes all of it back (a 10 KB header, 10 KB message).
      const version = req.header('mcp-protocol-version');
      if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        rpcError(
          res,
          400,
          SERVER_ERROR,
          `Bad Request: Unsupported protocol version: ${JSON.stringify(version.slice(0, 40))}${version.length > 40 ? '…' : ''} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
        );
        return;
      }
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      session = await openSession(space, caller);
    } else {
      rpcError(
        res,
        400,
        SERVER_ERROR,
        'Bad Request: no Mcp-Session-Id header; a session starts with an initialize request',
      );
      return;
    }
    session.lastUsed = Date.now();
    if (req.method === 'POST') {
      space.running++;
      running++;
      res.on('close', () => {
        space.running--;
        running--;
      });
    }
    await session.transport.handleRequest(req, res, req.body);
  });

  // Any other path, or a method /healthz does not take: JSON that says where things are, not express's page.
  app.use((_req, res) => {
    rpcError(
      res,
      404,
      SERVER_ERROR,
      'Not found: this server serves MCP on /mcp and its health on GET /healthz',
    );
  });

  // A body that cannot be read (too large, not JSON, a charset or coding it cannot decode): a JSON-RPC
  // error that says which, not express's HTML page or a bare 'Internal error'.
  app.use(
    (
      error: Error & { type?: string; status?: number; code?: unknown },
      req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      const problem = bodyProblem(error, req.header('content-encoding') ?? 'identity', tooLarge);
      if (problem) {
        log.debug(`http: ${problem[2]}`);
        rpcError(res, problem[0], problem[1], problem[2]);
        return;
      }
      log.error(`http: ${error.stack ?? error.message}`);
      rpcError(
        res,
        error.status !== undefined && error.status >= 400 && error.status < 600 ? error.status : 500,
        INTERNAL_ERROR,
        'Internal error: the server failed on this request (its log says why); try again',
      );
    },
  );

  async function openSession(space: UserSpace, caller: Caller): Promise<McpSession> {
    if (space.mcp.size >= limits.httpMaxSessionsPerUser) {
      // The one left unused longest goes; its client gets 404 and starts again.
      const [oldest] = [...space.mcp.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      if (oldest) {
        space.mcp.delete(oldest[0]);
        await oldest[1].close();
      }
    }
    const instance = http?.instance;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => (instance ? `${instance}-${randomUUID()}` : randomUUID()),
      onsessioninitialized: (sessionId) => {
        space.mcp.set(sessionId, session);
      },
    });
    const { server, prompter, check } = createServer({
      ...options.server,
      sessions: space.sessions,
      tools: space.tools,
    });
    const session: McpSession = {
      transport,
      lastUsed: Date.now(),
      close: async () => {
        await Promise.allSettled([prompter.close(), server.close()]);
      },
    };
    transport.onclose = () => {
      if (transport.sessionId !== undefined) space.mcp.delete(transport.sessionId);
      void prompter.close();
    };
    await server.connect(transport);
    // The same checks and wording as over stdio: bad params answered with what to fix.
    const deliver = transport.onmessage;
    const send = transport.send.bind(transport);
    transport.send = (message, sendOptions) => send(withoutCodePrefix(message), sendOptions);
    transport.onmessage = (message: JSONRPCMessage, extra) => {
      const answer = check(message);
      if (answer) {
        void send(answer as JSONRPCMessage).catch((error: Error) => log.debug(`http: ${error.message}`));
        return;
      }
      deliver?.(message, extra);
    };
    log.info('mcp session opened', { user: caller.user });
    return session;
  }

  const idleReaper = setInterval(() => {
    const cutoff = Date.now() - MCP_IDLE_MS;
    for (const space of spaces.values()) {
      for (const [id, session] of space.mcp) {
        if (session.lastUsed < cutoff) {
          space.mcp.delete(id);
          void session.close();
        }
      }
    }
  }, 60_000);
  idleReaper.unref();

  handler = app as (req: IncomingMessage, res: ServerResponse) => void;

  let closing: Promise<void> | undefined;
  const close = (graceMs = limits.httpShutdownGraceMs) => {
    closing ??= (async () => {
      stopping = true;
      clearInterval(idleReaper);
      httpServer.close();
      httpServer.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (running > 0)
        log.warn(`shutting down with ${running} requests still running after the grace period`);
      for (const space of spaces.values()) {
        await Promise.allSettled([...space.mcp.values()].map((session) => session.close()));
        space.mcp.clear();
      }
      await Promise.allSettled([...spaces.values()].map((space) => space.sessions.manager.dispose()));
      await base?.audit?.close();
      httpServer.closeAllConnections();
    })();
    return closing;
  };
  return { url, resourceUrl, close };
}
