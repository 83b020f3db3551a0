import type { McpServer, RegisteredTool, ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { DEFAULT_LIMITS, RESULT_CEILING } from '../config/limits.js';
import { log } from '../util/log.js';
import { redact } from '../util/secrets.js';
import { fitStructured, fitText } from './result-budget.js';

/** What the SDK hands a tool handler besides its arguments: the abort signal, progress token, notifications. */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What a tool handler answers: its structured result (per its outputSchema) and the text block for the model. */
export interface ToolReply<S extends object = Record<string, unknown>> {
  structured: S;
  text: string;
  /** Fields of `structured` passed on as they are: bytes (base64) that masking would corrupt. */
  verbatim?: readonly (keyof S & string)[];
  /** This call's budget per block, when it asked for another than the server's (max_bytes); capped. */
  budget?: number;
  /**
   * The handler measured its content into the budget with room for the rest (contentRoom), so both blocks
   * fit: they are measured again only if masking changed them. Saves scanning a big output twice more.
   */
  fitted?: boolean;
}

/** The value of an object schema of this shape (optional fields optional). */
type Shape<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

/** A ToolReply of any tool. */
type AnyReply = {
  structured: object;
  text: string;
  verbatim?: readonly string[];
  budget?: number;
  fitted?: boolean;
};

/** The budget per result block of each server's tools (limits.maxResultBytes), set when it is made. */
const budgets = new WeakMap<McpServer, number>();

/** Every tool result of `server` fits `bytes` per block (text and structuredContent), unless a call asks otherwise. */
export function setResultBudget(server: McpServer, bytes: number): void {
  budgets.set(server, Math.min(bytes, RESULT_CEILING));
}

/** The budget per block of `server`'s results. */
export function resultBudget(server: McpServer): number {
  return budgets.get(server) ?? DEFAULT_LIMITS.maxResultBytes;
}

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
  const callback = (args: Shape<I>, extra: Extra) =>
    toolResult(() => handler(args, extra), resultBudget(server));
  return server.registerTool(name, definition, callback as unknown as ToolCallback<I>);
}

/**
 * The one place a tool result is made: the handler's reply with every known secret masked in the text and
 * in each string of the structured content (nested ones and keys too), or the error it threw. Each block
 * then fits the budget (the reply's own, or `budget`): tools fit their content themselves and say what
 * they left out; what is still too long (masking can lengthen text) is cut here in the middle, saying so.
 */
export async function toolResult(
  handler: () => AnyReply | Promise<AnyReply>,
  budget: number = DEFAULT_LIMITS.maxResultBytes,
): Promise<CallToolResult> {
  let reply: AnyReply;
  try {
    reply = await handler();
  } catch (error) {
    return failure(error, budget);
  }
  const verbatim = new Set<string>(reply.verbatim ?? []);
  const structured = reply.structured as Record<string, unknown>;
  const structuredContent = Object.fromEntries(
    Object.entries(structured).map(([key, value]) => [
      redact(key),
      verbatim.has(key) ? value : masked(value),
    ]),
  );
  const text = redact(reply.text);
  const limit = Math.min(reply.budget ?? budget, RESULT_CEILING);
  if (reply.fitted && grewBy(text, reply.text) + maskingGrowth(structuredContent, structured) <= MASK_SLACK) {
    return { content: [{ type: 'text', text }], structuredContent };
  }
  return {
    content: [{ type: 'text', text: fitText(text, limit) }],
    structuredContent: fitStructured(structuredContent, limit),
  };
}

/**
 * Characters masking may add to a fitted reply (a mask longer than the secret it hides) that the room the
 * handler kept (RESULT_ROOM, 4 KiB) still holds, at up to 6 bytes each once JSON-encoded.
 */
const MASK_SLACK = 512;

const grewBy = (masked: string, original: string) => Math.max(0, masked.length - original.length);

/**
 * How many characters masking added to the top-level fields of a structured reply (masked() keeps what it
 * does not change); a changed field that is not a string counts as past the slack, so it is measured.
 */
function maskingGrowth(masked: Record<string, unknown>, original: Record<string, unknown>): number {
  const keys = Object.keys(masked);
  if (keys.length !== Object.keys(original).length) return Number.POSITIVE_INFINITY;
  let grew = 0;
  for (const key of keys) {
    const now = masked[key];
    const was = original[key];
    if (now === was) continue;
    if (typeof now !== 'string' || typeof was !== 'string') return Number.POSITIVE_INFINITY;
    grew += grewBy(now, was);
  }
  return grew;
}

/** An error as a tool result: its message and hint, masked, and logged. */
function failure(error: unknown, budget: number): CallToolResult {
  const err = error instanceof Error ? (error as Error & { hint?: string }) : undefined;
  const base = err ? err.message : String(error);
  const message = err?.hint ? `${base}\n${err.hint}` : base;
  log.info(`tool error: ${message}`);
  return { content: [{ type: 'text', text: fitText(redact(message), budget) }], isError: true };
}

/**
 * `value` with every known secret masked in each string it holds, at any depth (JSON values: plain objects,
 * arrays); `value` itself when nothing in it changed.
 */
export function masked<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) {
    const items = value.map(masked);
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(([k, v]) => [redact(k), masked(v)] as const);
    const changed = entries.some(([k, v]) => !(k in value) || value[k] !== v);
    return (changed ? Object.fromEntries(entries) : value) as T;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
