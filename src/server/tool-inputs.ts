import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** A tool's input schema and the argument names it takes. */
export interface ToolInput {
  schema: z.ZodType;
  fields: ReadonlySet<string>;
}

export interface ToolInputs {
  byName: ReadonlyMap<string, ToolInput>;
  /** Every argument name some tool takes. */
  anyTool: ReadonlySet<string>;
}

/** registerTool without its generics, which TypeScript cannot take apart. */
type Register = (
  name: string,
  config: { inputSchema?: unknown } & Record<string, unknown>,
  callback: unknown,
) => RegisteredTool;

/**
 * Records the input schema of every tool registered from now on, for the checks that run before the SDK
 * sees a call (request-check.ts). The SDK's own handling is left as it is.
 */
export function recordToolInputs(server: McpServer): ToolInputs {
  const byName = new Map<string, ToolInput>();
  const anyTool = new Set<string>();
  const register = server.registerTool.bind(server) as unknown as Register;
  const recording: Register = (name, config, callback) => {
    const given = config.inputSchema;
    // The SDK calls a tool without a schema with no arguments; a raw shape becomes an object.
    const schema =
      given === undefined
        ? z.object({})
        : typeof given === 'object' && given !== null && !('_zod' in given)
          ? z.object(given as z.ZodRawShape)
          : (given as z.ZodType);
    const fields = new Set(schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);
    for (const field of fields) anyTool.add(field);
    byName.set(name, { schema, fields });
    return register(name, config, callback);
  };
  server.registerTool = recording as unknown as McpServer['registerTool'];
  return { byName, anyTool };
}
