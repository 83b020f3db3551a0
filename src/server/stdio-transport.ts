import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { log } from '../util/log.js';
import { decodeLine, errorReply, INVALID_REQUEST } from './jsonrpc-check.js';
import { type LineEvent, LineReader } from './line-reader.js';
import type { MessageCheck } from './request-check.js';

/** The SDK's own limit (STDIO_DEFAULT_MAX_BUFFER_SIZE), and what its client accepts. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export interface StdioOptions {
  stdin?: Readable;
  stdout?: Writable;
  maxMessageBytes?: number;
  /** Answers a message itself instead of passing it on (bad params, bad tool arguments). */
  check?: MessageCheck;
}

/** McpError puts "MCP error -32602: " before its text; the code is already in the error's code field. */
export function withoutCodePrefix(message: JSONRPCMessage): JSONRPCMessage {
  if (!('error' in message) || typeof message.error?.message !== 'string') return message;
  const text = message.error.message.replace(/^MCP error -?\d+: /, '');
  return text === message.error.message
    ? message
    : { ...message, error: { ...message.error, message: text } };
}

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

/**
 * MCP over stdio, one JSON message per line, replacing the SDK's StdioServerTransport, which drops
 * malformed lines without an answer and, on one message over 10 MiB, closes for good while the process
 * lives on, deaf. Here every line gets an answer (a result, or the JSON-RPC error that says what was
 * wrong), an over-long message is refused and skipped, and memory stays bounded: at most one message is
 * held, and input is paused while the client is not reading what was written to it.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly stdin: Readable;
  private readonly stdout: Writable;
  private readonly reader: LineReader;
  private readonly check: MessageCheck | undefined;
  private closed = false;

  constructor(options: StdioOptions = {}) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.reader = new LineReader(options.maxMessageBytes ?? MAX_MESSAGE_BYTES);
    this.check = options.check;
  }

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onEnd);
    this.stdin.on('error', this.onStreamError);
    this.stdout.on('error', this.onStreamError);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    await this.write(withoutCodePrefix(message));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    this.stdin.off('error', this.onStreamError);
    this.stdout.off('error', this.onStreamError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.onclose?.();
  }

  private readonly onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const event of this.reader.push(bytes)) {
      if (this.closed) return;
      this.handle(event);
    }
  };

  private readonly onEnd = () => void this.close();

  private readonly onStreamError = (error: Error) => {
    this.onerror?.(error);
    // A closed pipe (EPIPE) means the client is gone: nobody is left to answer.
    void this.close();
  };

  private handle(event: LineEvent): void {
    if (event.kind === 'oversized') {
      const what = event.method ? `${event.method} message` : 'message';
      log.warn(`refused a ${what} of ${event.bytes} bytes (over ${mib(this.reader.maxBytes)})`);
      void this.reply(
        errorReply(
          event.id ?? null,
          INVALID_REQUEST,
          `Invalid Request: the ${what} is ${mib(event.bytes)}, over this server's limit of ${mib(this.reader.maxBytes)} per message; it was not read. Send less per call: write_file with append: true writes a file in pieces, upload_file streams a local one.`,
        ),
      );
      return;
    }
    if (event.line.every((b) => b === 0x20 || b === 0x09)) return; // a blank line is no message
    const checked = decodeLine(event.line);
    if ('reply' in checked) {
      log.debug(`answered a bad message: ${checked.reply.error.message}`);
      void this.reply(checked.reply);
      return;
    }
    const answer = this.check?.(checked.message);
    if (answer) {
      void this.reply(answer);
      return;
    }
    this.onmessage?.(checked.message);
  }

  private reply(answer: object): Promise<void> {
    return this.write(answer).catch((error: Error) => this.onerror?.(error));
  }

  /**
   * Writes one message. When the pipe is full, reading stops until it drains: a client that sends without
   * reading cannot make the server queue answers without end.
   */
  private write(message: object): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) {
        resolve();
        return;
      }
      this.stdin.pause();
      this.stdout.once('drain', () => {
        if (!this.closed) this.stdin.resume();
        resolve();
      });
    });
  }
}
