import { connect, type Socket } from 'node:net';

/** One HTTP/1.1 response as it came off the wire. */
export interface WireResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps every value. */
  headers: Record<string, string[]>;
  head: string;
  body: Buffer;
  /** Milliseconds from the step's first byte written to this response's last byte read. */
  ms: number;
  /** The body was still open when the step ended (an SSE stream nobody closes): only its start is here. */
  open?: boolean;
}

/** What the socket did in one step: the responses read, and whether the server closed the connection. */
export interface WireResult {
  responses: WireResponse[];
  closed: boolean;
  /** Not every response needed came within the time given. */
  timedOut: boolean;
  /** The bytes after the last full response could not be read as HTTP. */
  garbage?: string;
}

export interface ReadPlan {
  /** Requests sent, in order: HEAD responses carry no body. */
  methods: string[];
  /** How many responses must come before the step is done; more may come (up to methods.length). */
  needed: number;
  /** After the needed ones, wait this long for the rest (or for the server to close). */
  graceMs: number;
  /** Which requests open an event stream that stays open (GET /mcp): its head counts as the response. */
  streams?: boolean[];
}

const HEAD_END = Buffer.from('\r\n\r\n');

interface Parsed {
  response: WireResponse;
  /** Bytes the response took from the buffer. */
  used: number;
}

/** The first response in `buf`, or undefined while it is incomplete; throws on what is not HTTP. */
function parseOne(
  buf: Buffer,
  method: string,
  ms: number,
  streamBytes: number | undefined,
  closed: boolean,
): Parsed | undefined {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) {
    if (buf.length > 64 * 1024) throw new Error('no end of head in 64 KiB');
    return undefined;
  }
  const head = buf.subarray(0, end).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!match) throw new Error(`not a status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const status = Number(match[1]);
  const headers: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).trim()];
  }
  const start = end + 4;
  const done = (body: Buffer, used: number, open?: boolean): Parsed => ({
    response: { status, headers, head, body, ms, ...(open && { open }) },
    used,
  });
  if (status >= 100 && status < 200) return done(Buffer.alloc(0), start); // 100 Continue: the caller skips it
  if (method === 'HEAD' || status === 204 || status === 304) return done(Buffer.alloc(0), start);
  const isStream = (headers['content-type']?.[0] ?? '').startsWith('text/event-stream');
  const chunked = (headers['transfer-encoding'] ?? []).some((v) => /chunked/i.test(v));
  if (chunked) {
    const parts: Buffer[] = [];
    let at = start;
    for (let n = 0; n < 1_000_000; n++) {
      const eol = buf.indexOf('\r\n', at);
      if (eol < 0) break;
      const size = Number.parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16);
      if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
      if (size === 0) {
        const trailerEnd = buf.indexOf(HEAD_END, eol);
        const bare = buf.subarray(eol, eol + 4).equals(HEAD_END);
        if (bare) return done(Buffer.concat(parts), eol + 4);
        if (trailerEnd < 0) break;
        return done(Buffer.concat(parts), trailerEnd + 4);
      }
      if (buf.length < eol + 2 + size + 2) break;
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    const got = Buffer.concat(parts);
    if (isStream && streamBytes !== undefined && got.length >= streamBytes)
      return done(got, buf.length, true);
    if (closed) throw new Error('connection closed inside a chunked body');
    return undefined;
  }
  const length = headers['content-length']?.[0];
  if (length !== undefined) {
    const n = Number(length);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad content-length ${length}`);
    if (buf.length >= start + n) return done(buf.subarray(start, start + n), start + n);
    if (closed) throw new Error('connection closed before the whole body');
    return undefined;
  }
  // No framing: the body runs until the server closes the connection.
  if (isStream && streamBytes !== undefined && buf.length - start >= streamBytes)
    return done(buf.subarray(start), buf.length, true);
  if (closed) return done(buf.subarray(start), buf.length);
  return undefined;
}

/** A connection to the server under fuzz, read as a sequence of responses. */
export class Wire {
  private readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private closedFlag = false;
  private readonly connected: Promise<boolean>;
  private wake: (() => void) | undefined;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve) => {
      this.socket.once('connect', () => resolve(true));
      this.socket.once('error', () => resolve(false));
    });
    this.socket.on('data', (chunk: Buffer) => {
      // Bounded: a server that streams without end must not fill the fuzzer's memory.
      if (this.buf.length < 32 * 1024 * 1024) this.buf = Buffer.concat([this.buf, chunk]);
      this.wake?.();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closedFlag = true;
      this.wake?.();
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Writes the bytes in pieces cut at the given offsets, yielding between them. */
  async write(bytes: Buffer, cuts: number[] = []): Promise<void> {
    if (!(await this.connected)) return;
    let from = 0;
    for (const cut of [
      ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b),
      bytes.length,
    ]) {
      if (this.closedFlag || this.socket.destroyed) return;
      const piece = bytes.subarray(from, cut);
      from = cut;
      // Not waiting for 'drain': the server may answer (413) and stop reading while we still write.
      this.socket.write(piece, () => {});
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Reads responses as the plan says, until they are in, the server closed, or `timeoutMs` passed. */
  async read(plan: ReadPlan, timeoutMs: number, started: number): Promise<WireResult> {
    const responses: WireResponse[] = [];
    let garbage: string | undefined;
    const deadline = started + timeoutMs;
    let graceUntil: number | undefined;
    for (let spins = 0; spins < 100_000; spins++) {
      // Take every complete response off the buffer.
      for (;;) {
        const method = plan.methods[responses.length] ?? 'GET';
        const streamBytes = plan.streams?.[responses.length] ? 0 : undefined;
        let parsed: Parsed | undefined;
        try {
          parsed = parseOne(
            this.buf,
            method,
            Math.round(performance.now() - started),
            streamBytes,
            this.closedFlag,
          );
        } catch (error) {
          garbage = `${(error as Error).message}: ${JSON.stringify(this.buf.subarray(0, 120).toString('latin1'))}`;
          this.buf = Buffer.alloc(0);
          break;
        }
        if (!parsed) break;
        this.buf = this.buf.subarray(parsed.used);
        if (parsed.response.status >= 100 && parsed.response.status < 200) continue;
        responses.push(parsed.response);
        if (parsed.response.open) break;
      }
      const now = performance.now();
      const all = responses.length >= plan.methods.length || responses.at(-1)?.open === true;
      if (all || garbage !== undefined) break;
      if (this.closedFlag && this.buf.length === 0) break;
      if (this.closedFlag) {
        // Closed with a partial response in the buffer: one more pass parses it as read-to-end.
        const before = this.buf.length;
        try {
          const streamBytes = plan.streams?.[responses.length] ? 0 : undefined;
          const last = parseOne(
            this.buf,
            plan.methods[responses.length] ?? 'GET',
            Math.round(now - started),
            streamBytes,
            true,
          );
          if (last) {
            responses.push(last.response);
            this.buf = this.buf.subarray(last.used);
          }
        } catch (error) {
          garbage = `${(error as Error).message}: ${JSON.stringify(this.buf.subarray(0, 120).toString('latin1'))}`;
        }
        if (this.buf.length === before || garbage !== undefined) break;
        continue;
      }
      if (responses.length >= plan.needed) graceUntil ??= Math.min(deadline, now + plan.graceMs);
      const until = graceUntil ?? deadline;
      if (now >= until) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, until - now);
        function finish() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = finish;
      });
      this.wake = undefined;
    }
    return {
      responses,
      closed: this.closedFlag,
      timedOut: responses.length < plan.needed,
      ...(garbage !== undefined && { garbage }),
    };
  }

  /** Closes from this side; `reset` sends RST instead of FIN (a client that vanishes). */
  close(reset = false): void {
    if (reset && typeof this.socket.resetAndDestroy === 'function') this.socket.resetAndDestroy();
    else this.socket.destroy();
  }
}

/** A request as bytes: a request line, headers in the order given (nothing added), and a body. */
export function httpRequest(
  method: string,
  target: string,
  headers: [string, string | Buffer][],
  body?: Buffer | string,
): Buffer {
  const parts: Buffer[] = [Buffer.from(`${method} ${target} HTTP/1.1\r\n`, 'latin1')];
  for (const [name, value] of headers) {
    parts.push(
      Buffer.from(`${name}: `, 'latin1'),
      Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from('\r\n'));
  if (body !== undefined) parts.push(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
  return Buffer.concat(parts);
}

/** One request on a fresh connection and its one response (or why there was none). */
export async function exchange(
  port: number,
  bytes: Buffer,
  method: string,
  timeoutMs: number,
): Promise<WireResponse | string> {
  const wire = new Wire(port);
  const started = performance.now();
  try {
    await wire.write(bytes);
    const result = await wire.read({ methods: [method], needed: 1, graceMs: 0 }, timeoutMs, started);
    const response = result.responses[0];
    if (response) return response;
    return result.garbage ?? (result.timedOut ? `no answer in ${timeoutMs} ms` : 'connection closed');
  } finally {
    wire.close();
  }
}
