import { z } from 'zod';
import { dialectFileSchema } from './schema.js';

/**
 * The dialect schema as JSON Schema, for editors: a dialect file that starts with
 * `# yaml-language-server: $schema=<path>/schema/dialect.schema.json` is checked as it is typed.
 */
export function dialectJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(dialectFileSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }),
    $id: 'https://github.com/mcp-ssh-session/mcp-ssh-session/schema/dialect.schema.json',
    title: 'mcp-ssh-session dialect',
  };
}
