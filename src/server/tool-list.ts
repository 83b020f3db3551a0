import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/**
 * tools/list as the SDK makes it, less what tells a model nothing: every client reads the whole list into
 * the model's context on every turn. Dropped: `$schema` (draft-07 in each of ~40 schemas; nothing here
 * reads differently under the MCP default), the safe-integer bounds zod puts on every integer
 * (±9007199254740991), `additionalProperties: false` in output schemas (zod's note that it strips
 * extra keys, which a result never has), `propertyNames: { type: "string" }`, `execution: {
 * taskSupport: "forbidden" }` (what no `execution` means), hints that say what the spec assumes when they
 * are absent (destructive, not idempotent, open world; readOnlyHint stays), the destructive and idempotent hints
 * of a read-only tool (the spec gives them meaning only when readOnlyHint is false), and the descriptions
 * and `required` lists inside output schemas (a result explains itself: its notes say how to read on, and
 * a field that is left out is false, zero or empty); a nullable's anyOf
 * becomes a type list. What a schema says about a value stays.
 */
export function leanToolList(server: McpServer): { installed(): boolean } {
  const inner = server.server;
  const set = inner.setRequestHandler.bind(inner) as unknown as SetHandler;
  let installed = false;
  const setting: SetHandler = (schema, handler) => {
    if (methodOf(schema) !== 'tools/list') return set(schema, handler);
    installed = true;
    return set(schema, async (request, extra) => {
      const result = (await handler(request, extra)) as { tools: Tool[] };
      return { ...result, tools: describedOnce(result.tools.map(leanTool)) };
    });
  };
  // Before the first tool: the SDK sets its tools/list handler when the first tool is registered (or
  // when the McpServer is made, if its options declare tools: server.ts declares them later for this).
  inner.setRequestHandler = setting as unknown as typeof inner.setRequestHandler;
  return { installed: () => installed };
}

type Handler = (request: unknown, extra: unknown) => unknown;
type SetHandler = (schema: unknown, handler: Handler) => void;

function methodOf(schema: unknown): unknown {
  return (schema as { shape?: { method?: { value?: unknown } } }).shape?.method?.value;
}

export function leanTool(tool: Tool): Tool {
  const { execution, annotations, ...rest } = tool;
  // taskSupport "forbidden" is what a tool without `execution` means.
  const plain = execution?.taskSupport === 'forbidden' && Object.keys(execution).length === 1;
  return {
    ...rest,
    ...(annotations && annotated(leanAnnotations(annotations))),
    ...(execution && !plain && { execution }),
    inputSchema: leanSchema(tool.inputSchema, false) as Tool['inputSchema'],
    ...(tool.outputSchema && { outputSchema: leanSchema(tool.outputSchema, true) as Tool['outputSchema'] }),
  };
}

const annotated = (annotations: ToolAnnotations) =>
  Object.keys(annotations).length > 0 ? { annotations } : {};

/**
 * A parameter described in an earlier tool of the list, with the same name and words (host, password,
 * command ... of every tool that reaches a host), keeps its type and bounds but not the words again: the
 * model reads the whole list at once.
 */
export function describedOnce(tools: Tool[]): Tool[] {
  const seen = new Set<string>();
  return tools.map((tool) => {
    const properties = tool.inputSchema.properties as Record<string, Record<string, unknown>> | undefined;
    if (!properties) return tool;
    const lean: Record<string, object> = {};
    for (const [name, schema] of Object.entries(properties)) {
      const words = schema.description;
      const key = `${name}\u0000${String(words)}`;
      if (typeof words === 'string' && seen.has(key)) {
        const { description: _said, ...rest } = schema;
        lean[name] = rest;
      } else {
        if (typeof words === 'string') seen.add(key);
        lean[name] = schema;
      }
    }
    return { ...tool, inputSchema: { ...tool.inputSchema, properties: lean } };
  });
}

/** The spec's defaults when a hint is absent. */
const HINT_DEFAULTS: Partial<Record<keyof ToolAnnotations, boolean>> = {
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
};

/**
 * readOnlyHint always (whether a tool changes anything is what a client shows first), the other hints
 * only where they differ from the spec's defaults; destructive and idempotent only for a tool that writes.
 */
function leanAnnotations(annotations: ToolAnnotations): ToolAnnotations {
  const readOnly = annotations.readOnlyHint === true;
  return Object.fromEntries(
    Object.entries(annotations).filter(([key, value]) => {
      if (key === 'readOnlyHint') return true;
      if (readOnly && (key === 'destructiveHint' || key === 'idempotentHint')) return false;
      return HINT_DEFAULTS[key as keyof ToolAnnotations] !== value;
    }),
  ) as ToolAnnotations;
}

/**
 * A JSON schema without what says nothing; the same values pass it. Keywords have scalar values (or a
 * schema for propertyNames): a property of the same name has a schema of its own and stays.
 */
export function leanSchema(schema: unknown, output: boolean): unknown {
  if (Array.isArray(schema)) return schema.map((item) => leanSchema(item, output));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' && typeof value === 'string') continue;
    if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) continue;
    if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) continue;
    if (output && key === 'additionalProperties' && value === false) continue;
    if (output && key === 'description' && typeof value === 'string') continue;
    // Which fields a result always has: the client's validator may check less; the model reads the result.
    if (output && key === 'required' && Array.isArray(value)) continue;
    // The keys of a JSON object are strings anyway.
    if (key === 'propertyNames' && isTypeOnly(value) && value.type === 'string') continue;
    out[key] = leanSchema(value, output);
  }
  // zod's nullable: anyOf [{type: integer}, {type: null}] is type [integer, null].
  const { anyOf, ...rest } = out;
  if (Array.isArray(anyOf) && anyOf.length > 1 && anyOf.every(isTypeOnly) && rest.type === undefined) {
    return { type: anyOf.map((branch) => (branch as { type: string }).type), ...rest };
  }
  return out;
}

/** `{ type: "x" }` and nothing else. */
function isTypeOnly(schema: unknown): schema is { type: string } {
  if (schema === null || typeof schema !== 'object') return false;
  const keys = Object.keys(schema);
  return keys.length === 1 && keys[0] === 'type' && typeof (schema as { type: unknown }).type === 'string';
}
