import {
  JSONRPCErrorResponseSchema,
  type JSONRPCMessage,
  JSONRPCNotificationSchema,
  JSONRPCRequestSchema,
  JSONRPCResultResponseSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describeIssues, kindOf, short } from './arg-issues.js';
import { IdScanner } from './id-scanner.js';
import { exceedsDepth } from './json-depth.js';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** The range -32000 to -32099 is for the server's own errors: refused (forbidden, shutting down, busy). */
export const SERVER_ERROR = -32000;
/** An unknown or ended Mcp-Session-Id (what the SDK's own transport answers). */
export const SESSION_NOT_FOUND = -32001;

export type ReplyId = string | number | null;

/** A response this server writes itself; `id: null` when the message's id could not be read (JSON-RPC 2.0). */
export interface ErrorReply {
  jsonrpc: '2.0';
  id: ReplyId;
  error: { code: number; message: string };
}

export type Checked = { message: JSONRPCMessage } | { reply: ErrorReply };

export const errorReply = (id: ReplyId, code: number, message: string): ErrorReply => ({
  jsonrpc: '2.0',
  id,
  error: { code, message },
});

const EXAMPLE = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
const REQUEST_MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** MCP messages nest a few levels (params, arguments, a value); this leaves room for any real one. */
export const MAX_DEPTH = 64;

/** One line from the client, parsed and checked; what to answer when it is not a JSON-RPC message. */
export function decodeLine(line: Uint8Array): Checked {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return { reply: errorReply(null, PARSE_ERROR, 'Parse error: the message is not valid UTF-8') };
  }
  if (exceedsDepth(line, MAX_DEPTH)) {
    const scanner = new IdScanner();
    scanner.feed(line);
    const id = scanner.method !== undefined ? (scanner.id ?? null) : null;
    return {
      reply: errorReply(id, INVALID_REQUEST, `Invalid Request: nested more than ${MAX_DEPTH} levels deep`),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const why =
      error instanceof RangeError ? 'it is nested too deeply' : short((error as Error).message, 120);
    return {
      reply: errorReply(
        null,
        PARSE_ERROR,
        `Parse error: not valid JSON (${why}); send one JSON-RPC message per line, e.g. ${EXAMPLE}`,
      ),
    };
  }
  return checkEnvelope(value);
}

const isId = (id: unknown): id is string | number =>
  typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));

/**
 * The JSON-RPC envelope: an object with jsonrpc "2.0", an id that is a string or integer, a string method
 * and object params (or result/error for a response). The SDK drops anything else without a word; here each
 * gets an error that says what was wrong. A request's id is echoed when it can be; a malformed response is
 * answered with id null, so the client cannot mistake the error for the answer to one of its own requests.
 */
export function checkEnvelope(value: unknown): Checked {
  const invalid = (id: ReplyId, text: string, code = INVALID_REQUEST): Checked => ({
    reply: errorReply(id, code, `Invalid Request: ${text}`),
  });
  if (Array.isArray(value)) {
    return invalid(
      null,
      'batches (JSON arrays) are not supported; send each message as an object on its own line',
    );
  }
  if (value === null || typeof value !== 'object') {
    return invalid(null, `a message must be a JSON object, got ${kindOf(value)}; e.g. ${EXAMPLE}`);
  }
  const m = value as Record<string, unknown>;
  const hasMethod = Object.hasOwn(m, 'method');
  const isResponse = !hasMethod && (Object.hasOwn(m, 'result') || Object.hasOwn(m, 'error'));
  const hasId = Object.hasOwn(m, 'id');
  const id: ReplyId = !isResponse && isId(m.id) ? m.id : null;
  if (hasId && !(typeof m.id === 'string' || Number.isSafeInteger(m.id))) {
    const got = typeof m.id === 'number' ? String(m.id) : kindOf(m.id);
    return invalid(id, `"id" must be a string or an integer (at most 2^53), got ${got}`);
  }
  if (m.jsonrpc !== '2.0') {
    const got = typeof m.jsonrpc === 'string' ? `"${short(m.jsonrpc)}"` : kindOf(m.jsonrpc);
    return invalid(id, `"jsonrpc" must be "2.0", got ${m.jsonrpc === undefined ? 'nothing' : got}`);
  }
  if (hasMethod) return checkRequest(m, id, hasId);
  if (isResponse) {
    const schema = Object.hasOwn(m, 'error') ? JSONRPCErrorResponseSchema : JSONRPCResultResponseSchema;
    const parsed = schema.safeParse(m);
    if (parsed.success) return { message: parsed.data };
    return invalid(null, `malformed response: ${describeIssues(parsed.error.issues, m, schema, 'response')}`);
  }
  return invalid(id, `a message needs "method" (a request or notification) or "result"/"error" (a response)`);
}

function checkRequest(m: Record<string, unknown>, id: ReplyId, hasId: boolean): Checked {
  const invalid = (text: string, code = INVALID_REQUEST): Checked => ({
    reply: errorReply(id, code, `${code === INVALID_PARAMS ? 'Invalid params' : 'Invalid Request'}: ${text}`),
  });
  if (typeof m.method !== 'string') return invalid(`"method" must be a string, got ${kindOf(m.method)}`);
  const method = short(m.method);
  if (
    m.params !== undefined &&
    (m.params === null || typeof m.params !== 'object' || Array.isArray(m.params))
  ) {
    return invalid(`"params" of "${method}" must be an object, got ${kindOf(m.params)}`, INVALID_PARAMS);
  }
  const extra = Object.keys(m).find((key) => !REQUEST_MEMBERS.has(key));
  if (extra !== undefined) {
    return invalid(`unknown member "${short(extra)}"; a request has only jsonrpc, id, method and params`);
  }
  if (!hasId && !m.method.startsWith('notifications/')) {
    return invalid(
      `${method} is a request and needs an "id" (a string or an integer) to answer to; only notifications/* go without one`,
    );
  }
  const schema = hasId ? JSONRPCRequestSchema : JSONRPCNotificationSchema;
  const parsed = schema.safeParse(m);
  if (parsed.success) return { message: parsed.data };
  const issues = parsed.error.issues;
  const code = issues[0]?.path[0] === 'params' ? INVALID_PARAMS : INVALID_REQUEST;
  return invalid(describeIssues(issues, m, schema, 'message'), code);
}
