/** What a line must get back: an answer with this id, one with id null, any one answer, or none. */
export type Expect = { id: string | number } | 'null' | 'some' | 'none';

export interface FuzzLine {
  bytes: Buffer;
  expect: Expect;
}

export interface FuzzCase {
  group: string;
  /** What kind of input this is, for the summary and for reading a failure. */
  kind: string;
  lines: FuzzLine[];
  /** Write the bytes in pieces cut at these offsets (a message split in odd places). */
  cuts?: number[];
  /** How long an answer may take, when not the run's bound. */
  boundMs?: number;
}

let next = 0;
/** Every id handed out: an answer may carry any of them, even one inside a line that is not valid JSON. */
export const issuedIds = new Set<string | number>();
/** A fresh id, unique in the run, so an answer cannot be taken for another case's. */
export function freshId(prefix = 'f'): string {
  const id = `${prefix}${++next}`;
  issuedIds.add(id);
  return id;
}

export const line = (text: string | Buffer, expect: Expect): FuzzLine => ({
  bytes: Buffer.isBuffer(text) ? text : Buffer.from(text),
  expect,
});

/** A request line with a fresh id, expecting an answer to that id. */
export function request(method: string, params?: unknown, extra: Record<string, unknown> = {}): FuzzLine {
  const id = freshId();
  const message = { jsonrpc: '2.0', id, method, ...(params !== undefined && { params }), ...extra };
  return line(JSON.stringify(message), { id });
}

export function toolCall(name: string, args: unknown): FuzzLine {
  return request('tools/call', { name, arguments: args });
}

/** Whether the server treats the line as no message at all (blank after the CR of a CRLF). */
export function isBlank(bytes: Buffer): boolean {
  const end = bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  for (let i = 0; i < end; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0x09) return false;
  return true;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isRequestId = (v: unknown) => typeof v === 'string' || Number.isSafeInteger(v);

/**
 * What JSON-RPC 2.0 (as MCP narrows it) says a message gets back: nothing for a well-formed notification
 * or response, else an answer; one to the id when the message is a request whose id could be read.
 */
export function expectFor(message: unknown): Expect {
  if (!isObject(message)) return 'some';
  const keys = Object.keys(message);
  const only = (allowed: string[]) => keys.every((k) => allowed.includes(k));
  if (message.jsonrpc === '2.0' && typeof message.method === 'string') {
    const paramsOk = message.params === undefined || isObject(message.params);
    if (
      !('id' in message) &&
      paramsOk &&
      only(['jsonrpc', 'method', 'params']) &&
      message.method.startsWith('notifications/')
    )
      return 'none';
    if (isRequestId(message.id)) return { id: message.id as string | number };
    return 'some';
  }
  const error = message.error;
  const validError = isObject(error) && Number.isInteger(error.code) && typeof error.message === 'string';
  const response = 'result' in message !== 'error' in message;
  if (
    message.jsonrpc === '2.0' &&
    !('method' in message) &&
    isRequestId(message.id) &&
    response &&
    only(['jsonrpc', 'id', 'result', 'error']) &&
    ('result' in message ? isObject(message.result) : validError)
  )
    return 'none';
  return 'some';
}
