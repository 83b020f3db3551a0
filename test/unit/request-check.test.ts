import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ClientRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { describeIssues } from '../../src/server/arg-issues.js';
import { offeredMethods, requestCheck } from '../../src/server/request-check.js';
import { createServer, SERVER_CAPABILITIES } from '../../src/server/server.js';

const request = (method: string, params: unknown, id = 1) =>
  ({ jsonrpc: '2.0', id, method, params }) as JSONRPCMessage;

describe('request checks', () => {
  it('knows which methods the SDK server answers (the rest it calls Method not found)', async () => {
    const { server, manager } = createServer();
    const [client, end] = InMemoryTransport.createLinkedPair();
    await server.connect(end);
    const answers = new Map<unknown, JSONRPCMessage>();
    client.onmessage = (m) => void answers.set((m as { id?: unknown }).id, m);
    await client.start();
    const methods = ClientRequestSchema.options.map((o) => o.shape.method.value);
    for (const [i, method] of methods.entries()) await client.send(request(method, {}, i));
    await new Promise((r) => setTimeout(r, 300));
    const offered = offeredMethods(SERVER_CAPABILITIES);
    for (const [i, method] of methods.entries()) {
      const code = (answers.get(i) as { error?: { code: number } } | undefined)?.error?.code;
      assert.equal(code === -32601, !offered.has(method), `${method}: ${JSON.stringify(answers.get(i))}`);
    }
    await server.close();
    await manager.dispose();
  });

  it('names the method not offered, and a URI that is not one', () => {
    const check = requestCheck(
      { byName: new Map(), anyTool: new Set() },
      offeredMethods(SERVER_CAPABILITIES),
    );
    const subscribe = check(request('resources/subscribe', { uri: 'dialect://linux' }));
    assert.match(
      String(subscribe && 'error' in subscribe && subscribe.error.message),
      /does not offer resources\/subscribe; it answers initialize, ping/,
    );
    const read = check(request('resources/read', { uri: 'no uri here' }));
    assert.match(
      String(read && 'error' in read && read.error.message),
      /params\.uri: "no uri here" is not a URI/,
    );
    assert.equal(check(request('resources/read', { uri: 'dialect://linux' })), undefined);
  });

  it('says one thing per field: the type before its length, the real bound before the safe-integer one', () => {
    const schema = z.object({ host: z.string().min(1).max(64), port: z.number().int().max(65535) });
    const input = { host: [], port: 2 ** 60 };
    const result = schema.safeParse(input);
    assert.ok(!result.success);
    assert.equal(
      describeIssues(result.error.issues, input, schema),
      'host: expected a string, got an array; port: must be at most 65535',
    );
  });
});
