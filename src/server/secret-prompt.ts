import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { log } from '../util/log.js';
import { registerSecret, SECRET_KINDS, type SecretName } from '../util/secrets.js';
import { donePage, formPage, SECURITY_HEADERS } from './secret-page.js';

/**
 * Asks the user for a missing secret (login password, key passphrase, enable or sudo secret) through MCP
 * URL-mode elicitation. The MCP spec forbids form mode for credentials, so the client only gets a link to a
 * page this process serves on 127.0.0.1; the user types the secret there and it never passes through the
 * MCP client or the model. Each ask has its own one-time token in the link, valid until it is used, the ask
 * times out, or it is aborted.
 */

export interface SecretRequest {
  /** The host the secret is for, as the user knows it, e.g. "core-sw1". */
  host: string;
  secret: SecretName;
  /** What asked, shown on the page, e.g. 'the device asked "Password:"'. */
  reason?: string;
  /** How long the user has, from the call on (clamped to 1 ms .. 1 h). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A value, or why there is none in words fit for an error message. */
export type SecretAnswer = { value: string } | { unavailable: string };

const SERVER_NAME = 'mcp-ssh-session';
const MAX_TIMEOUT_MS = 60 * 60_000;
const DEFAULT_TIMEOUT_MS = 120_000;
/** Open asks at once; more are refused rather than piling up tokens. */
const MAX_PENDING = 16;
const MAX_BODY_BYTES = 64 * 1024;
/** Bound on sending the completion notification before the answer is returned anyway. */
const NOTIFY_TIMEOUT_MS = 2_000;
const TOKEN_PATH = /^\/secret\/([A-Za-z0-9_-]{43})$/;

interface Pending {
  host: string;
  secret: SecretName;
  reason?: string;
  deadline: number;
  deliver(value: string): void;
  cancel(why: string): void;
}

/** Tokens are looked up by their hash, so the lookup says nothing about how close a guess was. */
const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

function clampTimeout(ms: number): number {
  if (Number.isNaN(ms)) return DEFAULT_TIMEOUT_MS;
  return Math.min(Math.max(Math.floor(ms), 1), MAX_TIMEOUT_MS);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class SecretPrompter {
  private readonly pending = new Map<string, Pending>();
  private http?: HttpServer;
  private starting?: Promise<string>;
  /** "127.0.0.1:port", what the Host header must say. */
  private hostHeader = '';
  /** "http://127.0.0.1:port" */
  private origin = '';
  private closed = false;

  constructor(private readonly server: Server) {}

  async ask(req: SecretRequest): Promise<SecretAnswer> {
    const what = `the ${SECRET_KINDS[req.secret].label} for ${req.host}`;
    if (!this.server.getClientCapabilities()?.elicitation?.url) {
      return { unavailable: 'the MCP client does not support URL elicitation' };
    }
    if (this.closed) return { unavailable: `${SERVER_NAME} is shutting down` };
    if (req.signal?.aborted) return { unavailable: `asking for ${what} was cancelled` };
    if (this.pending.size >= MAX_PENDING) {
      return { unavailable: `too many secret prompts are open already (${MAX_PENDING})` };
    }
    const timeoutMs = clampTimeout(req.timeoutMs);
    const deadline = Date.now() + timeoutMs;
    let origin: string;
    try {
      origin = await this.start();
    } catch (error) {
      return { unavailable: `could not start the local secret page: ${errorText(error)}` };
    }
    if (this.closed) return { unavailable: `${SERVER_NAME} is shutting down` };
    if (req.signal?.aborted) return { unavailable: `asking for ${what} was cancelled` };

    const token = randomBytes(32).toString('base64url');
    const key = digest(token);
    const elicitationId = randomUUID();
    const request = new AbortController();

    return new Promise<SecretAnswer>((resolve) => {
      let done = false;
      let outstanding = true; // the elicitation request has no answer yet
      const finish = (answer: SecretAnswer, notify: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(key); // the link is dead from here on
        if (!notify) {
          resolve(answer);
          return;
        }
        this.notifyComplete(elicitationId).then(() => resolve(answer));
      };
      const fail = (why: string) => {
        // An elicitation the client still shows is cancelled (notifications/cancelled); once it has been
        // answered the SDK would still send one, so only while it is outstanding.
        if (outstanding) request.abort(why);
        finish({ unavailable: why }, false);
      };
      const onAbort = () => fail(`asking for ${what} was cancelled`);
      const timer = setTimeout(() => fail(`nobody entered ${what} within ${seconds(timeoutMs)}`), timeoutMs);
      req.signal?.addEventListener('abort', onAbort, { once: true });

      this.pending.set(key, {
        host: req.host,
        secret: req.secret,
        reason: req.reason,
        deadline,
        deliver: (value) => {
          registerSecret(value, req.secret);
          // The elicitation request may still be open (a client can answer after the page was used); its
          // answer no longer matters and its own timeout bounds it.
          finish({ value }, true);
        },
        cancel: fail,
      });

      const message = `Enter ${what} in your browser (the page is served by ${SERVER_NAME} on this machine).`;
      this.server
        .elicitInput(
          { mode: 'url', message, url: `${origin}/secret/${token}`, elicitationId },
          // Our own timer decides; the request's timeout only has to be later.
          { signal: request.signal, timeout: timeoutMs + 1_000 },
        )
        .then(
          (result) => {
            outstanding = false;
            if (done || result.action === 'accept') return; // accept: the user went to the page; wait for it
            fail(
              result.action === 'decline'
                ? `the user declined to enter ${what}`
                : `the user dismissed the request for ${what}`,
            );
          },
          (error: unknown) => {
            outstanding = false;
            if (!done) fail(`the MCP client did not take the request for ${what}: ${errorText(error)}`);
          },
        );
    });
  }

  /** Ends every open ask (unavailable) and stops the page server. Later asks are unavailable. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of [...this.pending.values()]) pending.cancel(`${SERVER_NAME} is shutting down`);
    const http = this.http;
    this.http = undefined;
    this.starting = undefined;
    if (!http) return;
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  }

  private async notifyComplete(elicitationId: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const notify = this.server.createElicitationCompletionNotifier(elicitationId);
      await Promise.race([
        notify(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, NOTIFY_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      log.debug(`secret prompt: completion notification not sent: ${errorText(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the page server once, on 127.0.0.1 and a free port; resolves with its origin. */
  private start(): Promise<string> {
    if (this.starting) return this.starting;
    const starting = new Promise<string>((resolve, reject) => {
      const http = createServer(
        { requestTimeout: 15_000, headersTimeout: 10_000, connectionsCheckingInterval: 5_000 },
        (req, res) => this.handle(req, res),
      );
      http.keepAliveTimeout = 1_000;
      http.maxHeadersCount = 64;
      // Neither the listener nor a browser's open connection may keep the process alive.
      http.on('connection', (socket) => socket.unref());
      const failed = (error: Error) => reject(error);
      http.once('error', failed);
      http.once('close', () => reject(new Error('closed')));
      http.listen(0, '127.0.0.1', () => {
        http.off('error', failed);
        http.on('error', (error) => log.warn(`secret prompt page: ${error.message}`));
        http.unref();
        const { port } = http.address() as AddressInfo;
        this.hostHeader = `127.0.0.1:${port}`;
        this.origin = `http://${this.hostHeader}`;
        log.debug(`secret prompt page listening on ${this.origin}`);
        resolve(this.origin);
      });
      this.http = http;
    });
    this.starting = starting;
    starting.catch(() => {
      if (this.starting === starting) this.starting = undefined; // a later ask tries again
    });
    return starting;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 sends that name as Host.
    if (req.headers.host !== this.hostHeader) {
      send(res, 403, 'Forbidden');
      return;
    }
    const path = (req.url ?? '').split('?')[0] ?? '';
    const token = TOKEN_PATH.exec(path)?.[1];
    const key = token === undefined ? undefined : digest(token);
    const pending = key === undefined ? undefined : this.pending.get(key);
    if (key === undefined || pending === undefined) {
      send(res, 404, 'Not found');
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      sendHtml(res, 200, formPage(this.pageFor(pending)));
      return;
    }
    if (req.method === 'POST') {
      this.receive(req, res, key, pending);
      return;
    }
    send(res, 405, 'Method not allowed', { Allow: 'GET, HEAD, POST' });
  }

  private receive(req: IncomingMessage, res: ServerResponse, key: string, pending: Pending): void {
    // Cross-site form posts (defence in depth; the token is the real guard): browsers say where a post
    // comes from and only our own page may post. Our Referrer-Policy no-referrer makes a browser send
    // "Origin: null" even for our own form, so Sec-Fetch-Site decides where the browser sends it.
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (
      site !== undefined
        ? site !== 'same-origin'
        : origin !== undefined && origin !== 'null' && origin !== this.origin
    ) {
      send(res, 403, 'Forbidden');
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      send(res, 415, 'Unsupported media type');
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      send(res, 413, 'Too large');
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        refused = true;
        wipe(chunks);
        send(res, 413, 'Too large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => wipe(chunks));
    req.on('end', () => {
      if (refused) return;
      const body = Buffer.concat(chunks);
      wipe(chunks);
      const value = new URLSearchParams(body.toString('utf8')).get('secret');
      body.fill(0);
      // The ask may have ended while the body was on its way.
      if (this.pending.get(key) !== pending) {
        send(res, 404, 'Not found');
        return;
      }
      if (!value) {
        sendHtml(res, 400, formPage({ ...this.pageFor(pending), error: 'Nothing was entered.' }));
        return;
      }
      pending.deliver(value);
      sendHtml(res, 200, donePage(SERVER_NAME, pending.host, pending.secret));
    });
  }

  private pageFor(pending: Pending) {
    return {
      serverName: SERVER_NAME,
      host: pending.host,
      secret: pending.secret,
      reason: pending.reason,
      expiresInS: Math.max(0, Math.ceil((pending.deadline - Date.now()) / 1000)),
    };
  }
}

function wipe(chunks: Buffer[]): void {
  for (const chunk of chunks) chunk.fill(0);
  chunks.length = 0;
}

function send(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...extra,
  });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(html)),
  });
  res.end(html);
}
