import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../support/raw-client.js';

type Json = Record<string, unknown>;
type ErrorAnswer = { code: number; message: string };

/** What no error message may look like: a stack, a zod dump, an object printed as text, nothing. */
function assertClear(text: string): void {
  assert.ok(text.trim().length > 0, 'empty message');
  assert.doesNotMatch(text, /\n\s+at .+:\d+/, `stack trace in: ${text}`);
  assert.doesNotMatch(text, /"code":\s*"|\[\s*\{\s*"/, `zod dump in: ${text}`);
  assert.doesNotMatch(text, /\[object Object\]|MCP error -\d+/, text);
  assert.ok(text.length < 1500, `too long (${text.length}): ${text.slice(0, 200)}`);
}

describe('JSON-RPC protocol errors over stdio', () => {
  let server: RawClient;

  before(async () => {
    server = new RawClient({
      env: { HOME: '/nonexistent', MCP_SSH_SESSION_LOG_LEVEL: 'error', MCP_SSH_TOOLS: 'all' },
    });
    await server.initialize();
  });
  after(() => server.close());

  /** Sends raw bytes and returns the next answer with id null. */
  async function nullIdAnswer(line: string | Buffer): Promise<ErrorAnswer> {
    server.take();
    await server.write(line);
    assert.ok(await server.until((a) => a.some((x) => x.json?.id === null), 5000), `no answer to ${line}`);
    const answer = server.take().find((x) => x.json?.id === null)?.json as Json;
    assert.equal(answer.jsonrpc, '2.0');
    const error = answer.error as ErrorAnswer;
    assertClear(error.message);
    return error;
  }

  async function errorTo(id: string | number, line: string): Promise<ErrorAnswer> {
    await server.write(`${line}\n`);
    const answer = await server.answerTo(id);
    assert.ok(answer, `no answer to ${line}`);
    assert.ok(answer.error, `expected an error, got ${JSON.stringify(answer)}`);
    const error = answer.error as ErrorAnswer;
    assertClear(error.message);
    return error;
  }

  async function toolErrorTo(id: string, name: string, args: unknown): Promise<string> {
    const answer = await server.request({ id, method: 'tools/call', params: { name, arguments: args } });
    const result = answer?.result as { isError?: boolean; content: { text: string }[] } | undefined;
    assert.equal(result?.isError, true, JSON.stringify(answer));
    const text = result.content.map((c) => c.text).join('');
    assertClear(text);
    return text;
  }

  it('answers invalid JSON, invalid UTF-8 and non-objects with -32700 / -32600 and id null', async () => {
    assert.equal((await nullIdAnswer('not json\n')).code, -32700);
    assert.equal((await nullIdAnswer('{"jsonrpc":"2.0","id":1,\n')).code, -32700);
    assert.equal((await nullIdAnswer(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]))).code, -32700);
    assert.equal((await nullIdAnswer('5\n')).code, -32600);
    assert.match((await nullIdAnswer('[{"jsonrpc":"2.0","id":1,"method":"ping"}]\n')).message, /batch/);
    assert.match((await nullIdAnswer('{"jsonrpc":"2.0","id":null,"method":"ping"}\n')).message, /"id"/);
    const deep = await nullIdAnswer(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}\n`);
    assert.match(deep.message, /nested more than 64 levels/);
  });

  it('answers a request without an id, a wrong jsonrpc and unknown members with -32600', async () => {
    const noId = await nullIdAnswer('{"jsonrpc":"2.0","method":"tools/list"}\n');
    assert.equal(noId.code, -32600);
    assert.match(noId.message, /tools\/list is a request and needs an "id"/);
    const version = await errorTo(3, '{"jsonrpc":"1.0","id":3,"method":"tools/list"}');
    assert.equal(version.code, -32600);
    assert.match(version.message, /"jsonrpc" must be "2\.0", got "1\.0"/);
    const extra = await errorTo(4, '{"jsonrpc":"2.0","id":4,"method":"ping","foo":1}');
    assert.match(extra.message, /unknown member "foo"/);
    const neither = await errorTo(5, '{"jsonrpc":"2.0","id":5}');
    assert.equal(neither.code, -32600);
  });

  it('answers an unknown method with -32601 naming it', async () => {
    const error = await errorTo(6, '{"jsonrpc":"2.0","id":6,"method":"nope/nothing"}');
    assert.equal(error.code, -32601);
    assert.match(error.message, /nope\/nothing/);
  });

  it('answers bad params with -32602 naming the field, not -32603 with a zod dump', async () => {
    for (const [id, args] of [
      [7, '5'],
      [8, '[]'],
      [9, '"x"'],
    ] as const) {
      const error = await errorTo(
        id,
        `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"list_hosts","arguments":${args}}}`,
      );
      assert.equal(error.code, -32602);
      assert.match(error.message, /params\.arguments: expected an object, got/);
    }
    const list = await errorTo(10, '{"jsonrpc":"2.0","id":10,"method":"tools/list","params":5}');
    assert.equal(list.code, -32602);
    const cursor = await errorTo(11, '{"jsonrpc":"2.0","id":11,"method":"tools/list","params":{"cursor":5}}');
    assert.match(cursor.message, /params\.cursor: expected a string, got an integer/);
  });

  it('answers bad tool arguments as a tool error that names each field and what it takes', async () => {
    const wrongType = await toolErrorTo('a1', 'execute_command', { host: 5, command: 'true' });
    assert.match(
      wrongType,
      /^Invalid arguments for execute_command: host: expected a string, got an integer$/,
    );
    const missing = await toolErrorTo('a2', 'execute_command', { host: 'h' });
    assert.match(missing, /command: missing \(a string is required\)/);
    const unknown = await toolErrorTo('a3', 'execute_command', { host: 'h', command: 'x', timout: 5 });
    assert.match(unknown, /unknown field "timout" \(did you mean "timeout"\?\); the fields are: host, /);
    const range = await toolErrorTo('a4', 'execute_command', {
      host: 'h',
      command: 'x',
      timeout: -1,
      port: 0,
    });
    assert.match(
      range,
      /port: must be at least 1; timeout: must be more than 0|timeout: must be more than 0/,
    );
    const long = await toolErrorTo('a6', 'interrupt_command_by_id', { command_id: '😀'.repeat(5000) });
    assert.match(long, /command_id: must be at most 64 characters long/);
    const tool = await toolErrorTo('a5', 'no_such_tool', {});
    assert.match(tool, /Unknown tool "no_such_tool"; the tools are: execute_command/);
  });

  it('answers a bad dialect:// read with -32602 and a short reason', async () => {
    const read = (id: string, uri: string) =>
      server.request({ id, method: 'resources/read', params: { uri } });
    for (const [id, uri, reason] of [
      ['r1', `dialect://${'a'.repeat(10_000)}`, /is not a dialect name/],
      ['r2', 'dialect://no-such', /no dialect named "no-such"/],
    ] as const) {
      const error = (await read(id, uri))?.error as ErrorAnswer;
      assert.equal(error.code, -32602);
      assert.match(error.message, reason);
      assertClear(error.message);
    }
  });

  it('refuses a message over 10 MiB with its id, and keeps serving', async () => {
    const content = 'x'.repeat(11 * 1024 * 1024);
    const big = {
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'list_hosts', arguments: { content } },
    };
    const withId = await errorTo('big', JSON.stringify({ ...big, id: 'big' }));
    assert.equal(withId.code, -32600);
    assert.match(withId.message, /11 MiB, over this server's limit of 10 MiB/);
    const noId = await nullIdAnswer(`${JSON.stringify(big)}\n`);
    assert.match(noId.message, /over this server's limit/);
    const ping = await server.request({ id: 'after', method: 'ping' });
    assert.deepEqual(ping?.result, {});
    assert.ok(server.alive);
  });

  it('exits when nobody reads its answers any more, instead of living on deaf', async () => {
    const deaf = new RawClient({ env: { HOME: '/nonexistent', MCP_SSH_SESSION_LOG_LEVEL: 'error' } });
    await deaf.initialize();
    deaf.child.stdout.destroy(); // the client stops reading; its stdin stays open
    await deaf.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.ok(await deaf.until(() => !deaf.alive, 10_000), 'still running with nobody to answer');
    assert.equal(deaf.exit?.code, 0);
  });

  it('answers every message of one write, and a message split across writes', async () => {
    server.take();
    const many = Array.from({ length: 200 }, (_, i) => `{"jsonrpc":"2.0","id":"m${i}","method":"ping"}\n`);
    await server.write(many.join(''));
    assert.ok(
      await server.until((a) => a.filter((x) => String(x.json?.id).startsWith('m')).length === 200, 5000),
    );
    const line = '{"jsonrpc":"2.0","id":"split","method":"ping"}\n';
    for (const piece of [line.slice(0, 3), line.slice(3, 20), line.slice(20)]) await server.write(piece);
    assert.deepEqual((await server.answerTo('split'))?.result, {});
  });
});
