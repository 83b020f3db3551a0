import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { IdScanner } from '../../src/server/id-scanner.js';
import { checkEnvelope, decodeLine } from '../../src/server/jsonrpc-check.js';
import { type LineEvent, LineReader } from '../../src/server/line-reader.js';
import { StdioLineTransport } from '../../src/server/stdio-transport.js';

const lines = (events: LineEvent[]) =>
  events.map((e) => (e.kind === 'line' ? e.line.toString() : `<${e.bytes} bytes, id ${e.id}>`));

function scan(text: string, pieces = 1): IdScanner {
  const scanner = new IdScanner();
  const bytes = Buffer.from(text);
  const size = Math.ceil(bytes.length / pieces);
  for (let i = 0; i < bytes.length; i += size) scanner.feed(bytes.subarray(i, i + size));
  return scanner;
}

describe('LineReader', () => {
  it('splits lines anywhere, strips CR, and keeps an unfinished line for the next chunk', () => {
    const reader = new LineReader(100);
    assert.deepEqual(lines(reader.push(Buffer.from('ab'))), []);
    assert.deepEqual(lines(reader.push(Buffer.from('c\r\nde\n\nf'))), ['abc', 'de', '']);
    assert.deepEqual(lines(reader.push(Buffer.from('g\n'))), ['fg']);
  });

  it('drops a line over the limit as it arrives, holding no more than the limit, and goes on', () => {
    const reader = new LineReader(16);
    const head = '{"id":7,"method":"tools/call","params":{"x":"';
    assert.deepEqual(lines(reader.push(Buffer.from(head))), []);
    for (let i = 0; i < 100; i++) {
      assert.deepEqual(reader.push(Buffer.alloc(1000, 0x61)), []);
      assert.ok(reader.buffered <= 16);
    }
    const events = reader.push(Buffer.from('"}}\n{"ok":1}\n'));
    assert.deepEqual(events[0], {
      kind: 'oversized',
      bytes: head.length + 100_000 + 3,
      id: 7,
      method: 'tools/call',
    });
    assert.deepEqual(lines(events.slice(1)), ['{"ok":1}']);
  });
});

describe('IdScanner', () => {
  it('finds the top-level id and method wherever they are, in any pieces', () => {
    const text = JSON.stringify({
      jsonrpc: '2.0',
      params: { id: 'inner', method: 'no', list: [{ id: 2 }] },
      method: 'm',
      id: 'outer',
    });
    for (const pieces of [1, 3, text.length]) {
      const s = scan(text, pieces);
      assert.equal(s.id, 'outer');
      assert.equal(s.method, 'm');
    }
  });

  it('reads strings with escapes and ignores ids that are not a string or number', () => {
    assert.equal(scan('{"x":"a\\"}","id":"q\\"}"}').id, 'q"}');
    assert.equal(scan('{"id":null}').id, undefined);
    assert.equal(scan('{"id":{"a":1}}').id, undefined);
    assert.equal(scan('[{"id":1}]').id, undefined);
    assert.equal(scan(`{"id":"${'x'.repeat(5000)}"}`).id, undefined, 'an id that long is not used');
  });
});

describe('JSON-RPC envelope checks', () => {
  const reply = (value: unknown) => {
    const checked = checkEnvelope(value);
    assert.ok('reply' in checked, `expected an error for ${JSON.stringify(value)}`);
    return checked.reply;
  };

  it('passes well-formed requests, notifications and responses', () => {
    for (const message of [
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'x', arguments: {} } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'no' } },
    ]) {
      assert.ok('message' in checkEnvelope(message), JSON.stringify(message));
    }
  });

  it('says what is wrong, echoing the id of a request and never that of a response', () => {
    assert.deepEqual(reply({ jsonrpc: '1.0', id: 4, method: 'ping' }).id, 4);
    assert.deepEqual(reply({ jsonrpc: '2.0', id: 4.5, method: 'ping' }).id, 4.5);
    assert.match(
      reply({ jsonrpc: '2.0', id: 2 ** 60, method: 'ping' }).error.message,
      /\(at most 2\^53\), got 1152921504606847000/,
    );
    assert.equal(reply({ jsonrpc: '2.0', id: 4, result: 5 }).id, null);
    assert.equal(reply({ jsonrpc: '2.0', method: 'ping' }).id, null);
    assert.match(
      reply({ jsonrpc: '2.0', id: 1, method: 5 }).error.message,
      /"method" must be a string, got an integer/,
    );
    assert.equal(reply({ jsonrpc: '2.0', id: 1, method: 'x', params: [] }).error.code, -32602);
    assert.equal(reply({ jsonrpc: '2.0', id: 1, method: 'x', params: { _meta: 5 } }).error.code, -32602);
  });

  it('answers invalid UTF-8 and invalid JSON with a parse error', () => {
    const parse = (bytes: Buffer) => {
      const checked = decodeLine(bytes);
      assert.ok('reply' in checked);
      assert.equal(checked.reply.error.code, -32700);
      return checked.reply.error.message;
    };
    assert.match(parse(Buffer.from([0x22, 0xc3, 0x28, 0x22])), /UTF-8/);
    assert.match(parse(Buffer.from('{"a":')), /not valid JSON/);
    assert.match(parse(Buffer.from('{"a":"\u0000"}')), /not valid JSON/);
  });

  it('refuses nesting deeper than 64 levels before parsing it, brackets in strings not counted', () => {
    const deep = decodeLine(Buffer.from(`${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}`));
    assert.ok('reply' in deep);
    assert.match(deep.reply.error.message, /nested more than 64 levels/);
    const withId = decodeLine(Buffer.from(`{"id":3,"method":"ping","params":{"a":${'['.repeat(100)}}}`));
    assert.ok('reply' in withId);
    assert.equal(withId.reply.id, 3);
    const inString = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"${'['.repeat(1000)}"}}`;
    assert.ok('message' in decodeLine(Buffer.from(inString)));
  });
});

describe('StdioLineTransport', () => {
  it('keeps serving after an oversized message and answers it with its id', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const transport = new StdioLineTransport({ stdin, stdout, maxMessageBytes: 1024 });
    const got: JSONRPCMessage[] = [];
    transport.onmessage = (m) => got.push(m);
    await transport.start();
    stdin.write(`{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"${'y'.repeat(5000)}"}}\n`);
    stdin.write('{"jsonrpc":"2.0","id":10,"method":"ping"}\n');
    await new Promise((r) => setImmediate(r));
    const written = String(stdout.read())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(written.length, 1);
    assert.equal(written[0].id, 9);
    assert.equal(written[0].error.code, -32600);
    assert.deepEqual(got, [{ jsonrpc: '2.0', id: 10, method: 'ping' }]);
    await transport.close();
  });

  it('stops reading while the client does not read its answers', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough({ highWaterMark: 64 });
    const transport = new StdioLineTransport({ stdin, stdout });
    await transport.start();
    stdin.write('not json\n');
    await new Promise((r) => setImmediate(r));
    assert.ok(stdin.isPaused(), 'input paused while the answer waits');
    stdout.read();
    await new Promise((r) => setImmediate(r));
    assert.ok(!stdin.isPaused(), 'input resumed once the answer was read');
    await transport.close();
  });
});
