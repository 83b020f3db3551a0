import {
  type CallToolResult,
  ClientRequestSchema,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { closest } from '../util/suggest.js';
import { describeIssues, short } from './arg-issues.js';
import { type ErrorReply, errorReply, INVALID_PARAMS, METHOD_NOT_FOUND } from './jsonrpc-check.js';
import type { ToolInput, ToolInputs } from './tool-inputs.js';

export interface ToolReply {
  jsonrpc: '2.0';
  id: string | number;
  result: CallToolResult;
}

/**
 * The requests an McpServer answers with these capabilities: it registers handlers per capability (the
 * SDK keeps the list private, so it is derived here from what the server declared).
 */
export function offeredMethods(capabilities: {
  tools?: object;
  resources?: object;
  prompts?: object;
  logging?: object;
  completions?: object;
}): Set<string> {
  return new Set([
    'initialize',
    'ping',
    ...(capabilities.tools ? ['tools/list', 'tools/call'] : []),
    ...(capabilities.resources ? ['resources/list', 'resources/templates/list', 'resources/read'] : []),
    ...(capabilities.prompts ? ['prompts/list', 'prompts/get'] : []),
    ...(capabilities.logging ? ['logging/setLevel'] : []),
    ...(capabilities.completions ? ['completion/complete'] : []),
  ]);
}

/** What to answer a message with instead of handing it to the server; undefined: hand it on. */
export type MessageCheck = (message: JSONRPCMessage) => ErrorReply | ToolReply | undefined;

/** The SDK's schema for each request a client may send, by method. */
const REQUESTS = new Map<string, z.ZodType>(
  ClientRequestSchema.options.map((s) => [s.shape.method.value, s]),
);

const toolError = (id: string | number, text: string): ToolReply => ({
  jsonrpc: '2.0',
  id,
  result: { content: [{ type: 'text', text }], isError: true },
});

/**
 * Argument names no tool takes: typos (`timout`, `comand`) that zod would drop without a word, so the call
 * ran with the default. A name another tool takes (`key_filename` given to close_session along with the
 * rest of the connection) is let through and ignored, as before.
 */
function unknownFields(args: unknown, tool: ToolInput, inputs: ToolInputs): string[] {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return [];
  return Object.keys(args).filter((key) => !tool.fields.has(key) && !inputs.anyTool.has(key));
}

function unknownFieldsText(keys: string[], tool: ToolInput): string {
  const known = [...tool.fields];
  const names = keys.slice(0, 3).map((key) => {
    // closest() is quadratic in the key's length: only short keys can be typos worth a guess.
    const guess = key.length <= 40 ? closest(key, known) : undefined;
    return `"${short(key)}"${guess ? ` (did you mean "${guess}"?)` : ''}`;
  });
  const more = keys.length > 3 ? ` and ${keys.length - 3} more` : '';
  const takes = known.length > 0 ? `the fields are: ${known.join(', ')}` : 'it takes no arguments';
  return `unknown field${keys.length > 1 ? 's' : ''} ${names.join(', ')}${more}; ${takes}`;
}

/**
 * Params and tool arguments checked before the SDK sees them. The SDK answers bad params with -32603 and
 * a JSON dump of zod's issues, and bad tool arguments with zod's wording behind two prefixes; here each is
 * one line naming the field, what it takes and what came. Tool argument errors stay tool results with
 * isError, as the SDK sends them (the model sees those and can correct the call).
 */
export function requestCheck(
  inputs: ToolInputs,
  offered: ReadonlySet<string>,
  /** Why a tool of this server is not offered here (toolsets.ts); the SDK would say only "not found". */
  whyHidden: (tool: string) => string | undefined = () => undefined,
): MessageCheck {
  return (message) => {
    if (!('method' in message) || !('id' in message)) return undefined;
    const request = message as JSONRPCRequest;
    const schema = REQUESTS.get(request.method);
    if (!schema) {
      const text = `Method not found: "${short(request.method)}" is not an MCP method; tools/list shows what this server offers`;
      return errorReply(request.id, METHOD_NOT_FOUND, text);
    }
    if (!offered.has(request.method)) {
      // The SDK says only "Method not found" for an MCP method a server does not offer.
      const text = `Method not found: this server does not offer ${request.method}; it answers ${[...offered].join(', ')}`;
      return errorReply(request.id, METHOD_NOT_FOUND, text);
    }
    const parsed = schema.safeParse({ method: request.method, params: request.params });
    if (!parsed.success) {
      const why = describeIssues(parsed.error.issues, { params: request.params }, schema, 'params');
      return errorReply(request.id, INVALID_PARAMS, `Invalid params for ${request.method}: ${why}`);
    }
    const uri = (parsed.data as { params?: { uri?: unknown } }).params?.uri;
    if (typeof uri === 'string' && !URL.canParse(uri)) {
      // The SDK answers new URL()'s "Invalid URL" as an internal error.
      const text = `Invalid params for ${request.method}: params.uri: "${short(uri)}" is not a URI; resources/list and resources/templates/list show what can be read`;
      return errorReply(request.id, INVALID_PARAMS, text);
    }
    if (request.method !== 'tools/call') return undefined;
    const { name, arguments: args } = (parsed.data as { params: { name: string; arguments?: unknown } })
      .params;
    const tool = inputs.byName.get(name);
    if (!tool) {
      const hidden = whyHidden(name);
      if (hidden) return toolError(request.id, `Tool "${name}" is not offered: ${hidden}`);
      const tools = [...inputs.byName.keys()].join(', ');
      return toolError(request.id, `Unknown tool "${short(name)}"; the tools are: ${tools}`);
    }
    const problems: string[] = [];
    const checked = tool.schema.safeParse(args ?? {});
    if (!checked.success) problems.push(describeIssues(checked.error.issues, args ?? {}, tool.schema));
    const unknown = unknownFields(args, tool, inputs);
    if (unknown.length > 0) problems.push(`arguments: ${unknownFieldsText(unknown, tool)}`);
    if (problems.length === 0) return undefined;
    return toolError(request.id, `Invalid arguments for ${name}: ${problems.join('; ')}`);
  };
}
