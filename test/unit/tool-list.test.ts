import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { z } from 'zod';
import { createServer } from '../../src/server/server.js';
import { describedOnce, leanSchema } from '../../src/server/tool-list.js';

describe('tools/list without the schema noise', () => {
  it('drops $schema, safe-integer bounds, closed outputs and string keys; keeps the real bounds', () => {
    const schema = z.toJSONSchema(
      z.object({
        count: z.number().int().describe('How many.'),
        port: z.number().int().min(1).max(65535),
        code: z.number().int().nullable(),
        tags: z.record(z.string(), z.string()),
        inner: z.object({ minimum: z.string(), required: z.array(z.string()), description: z.string() }),
      }),
      { target: 'draft-7', io: 'output' },
    );
    // An output schema also loses its descriptions and required lists: a result explains itself.
    assert.deepEqual(leanSchema(schema, true), {
      type: 'object',
      properties: {
        count: { type: 'integer' },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        code: { type: ['integer', 'null'] },
        tags: { type: 'object', additionalProperties: { type: 'string' } },
        // A property named like a keyword is a property.
        inner: {
          type: 'object',
          properties: {
            minimum: { type: 'string' },
            required: { type: 'array', items: { type: 'string' } },
            description: { type: 'string' },
          },
        },
      },
    });
    const input = z.toJSONSchema(z.object({ host: z.string().describe('Host.') }), { target: 'draft-7' });
    assert.deepEqual(leanSchema(input, false), {
      type: 'object',
      properties: { host: { type: 'string', description: 'Host.' } },
      required: ['host'],
      additionalProperties: false,
    });
    // An input schema says what it accepts: a closed object stays closed.
    const strict = z.toJSONSchema(z.strictObject({ a: z.string() }), { target: 'draft-7' });
    assert.equal(
      (leanSchema(strict, false) as { additionalProperties?: unknown }).additionalProperties,
      false,
    );
  });

  it("lists every tool lean, and a call's structured result still matches its listed output schema", async () => {
    const { server, manager } = createServer();
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 't', version: '0' });
    await client.connect(b);
    try {
      const { tools } = await client.listTools();
      const text = JSON.stringify(tools);
      assert.doesNotMatch(text, /\$schema|9007199254740991|"taskSupport":"forbidden"/);
      const hosts = tools.find((t) => t.name === 'list_hosts');
      assert.deepEqual(hosts?.annotations, { readOnlyHint: true, openWorldHint: false });
      // Hints the spec assumes when they are absent are left out, but readOnlyHint is always said.
      const run = tools.find((t) => t.name === 'execute_command');
      assert.deepEqual(run?.annotations, { readOnlyHint: false });
      const close = tools.find((t) => t.name === 'close_session');
      assert.deepEqual(close?.annotations, {
        readOnlyHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
      assert.deepEqual(client.getServerCapabilities()?.tools, { listChanged: true });
      // The SDK client checks structuredContent against the listed outputSchema.
      const result = await client.callTool({ name: 'list_dialects', arguments: {} });
      assert.equal(result.isError, undefined, JSON.stringify(result));
    } finally {
      await client.close();
      await manager.dispose();
    }
  });

  it('describes a parameter once: a later tool with the same name and words keeps only its type', () => {
    const tool = (name: string, properties: Record<string, object>) => ({
      name,
      inputSchema: { type: 'object' as const, properties },
    });
    const host = { type: 'string', description: 'Host.' };
    const [first, second] = describedOnce([
      tool('a', { host, port: { type: 'integer' } }),
      tool('b', { host, other: { type: 'string', description: 'Other.' }, port: { type: 'integer' } }),
    ]);
    assert.deepEqual(first?.inputSchema.properties, { host, port: { type: 'integer' } });
    assert.deepEqual(second?.inputSchema.properties, {
      host: { type: 'string' },
      other: { type: 'string', description: 'Other.' },
      port: { type: 'integer' },
    });
    // Other words for the same name are said again.
    const [, third] = describedOnce([
      tool('a', { host }),
      tool('c', { host: { ...host, description: 'A session.' } }),
    ]);
    assert.deepEqual(third?.inputSchema.properties?.host, { ...host, description: 'A session.' });
  });
});
