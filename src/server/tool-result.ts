import type { McpServer, RegisteredTool, ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { log } from '../util/log.js';
import { redact } from '../util/secrets.js';

/** What the SDK hands a tool handler besides its arguments: the abort signal, progress token, notifications. */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What a tool handler answers: its structured result (per its outputSchema) and the text block for the model. */
export interface ToolReply<S extends object = Record<string, unknown>> {
  structured: S;
  text: string;
  /** Fields of `structured` passed on as they are: bytes (base64) that masking would corrupt. */
  verbatim?: readonly (keyof S & string)[];
}

/** The value of an object schema of this shape (optional fields optional). */
type Shape<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

/** A ToolReply of any tool. */
type AnyReply = { structured: object; text: string; verbatim?: readonly string[] };

export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
}

/**
 * Registers a tool whose handler answers a ToolReply, or throws: toolResult makes the CallToolResult, so
 * every tool's result is masked and its failures reported the same way. undefined: the server's tool
 * selection leaves this tool out (toolsets.ts).
 */
export function addTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  server: McpServer,
  name: string,
  definition: ToolDefinition<I, O>,
  handler: (args: Shape<I>, extra: Extra) => ToolReply<Shape<O>> | Promise<ToolReply<Shape<O>>>,
): RegisteredTool | undefined {
  const callback = (args: Shape<I>, extra: Extra) => toolResult(() => handler(args, extra));
  return server.registerTool(name, definition, callback as unknown as ToolCallback<I>);
}

/**
 * The one place a tool result is made: the handler's reply with every known secret masked in the text and
 * in each string of the structured content (nested ones and keys too), or the error it threw.
 */
export async function toolResult(handler: () => AnyReply | Promise<AnyReply>): Promise<CallToolResult> {
  let reply: AnyReply;
  try {
    reply = await handler();
  } catch (error) {
    return failure(error);
  }
  const verbatim = new Set<string>(reply.verbatim ?? []);
  const structuredContent = Object.fromEntries(
    Object.entries(reply.structured).map(([key, value]) => [
      redact(key),
      verbatim.has(key) ? value : masked(value),
    ]),
  );
  return { content: [{ type: 'text', text: redact(reply.text) }], structuredContent };
}

/** An error as a tool result: its message and hint, masked, and logged. */
function failure(error: unknown): CallToolResult {
  const err = error instanceof Error ? (error as Error & { hint?: string }) : undefined;
  const base = err ? err.message : String(error);
  const message = err?.hint ? `${base}\n${err.hint}` : base;
  log.info(`tool error: ${message}`);
  return { content: [{ type: 'text', text: redact(message) }], isError: true };
}

/** `value` with every known secret masked in each string it holds, at any depth (JSON values: plain objects, arrays). */
export function masked<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(masked) as T;
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), masked(v)])) as T;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
