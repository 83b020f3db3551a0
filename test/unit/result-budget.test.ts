// Every tool result fits a budget per block (text and structuredContent): the helpers tools fit their
// content with, and the wrapper's last resort, which cuts what still does not fit and says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RESULT_CEILING } from '../../src/config/limits.js';
import { jsonEncodedBytes } from '../../src/expect/output.js';
import { clip, fitList, fitStructured, fitText, jsonBytes } from '../../src/server/result-budget.js';
import { setResultBudget, toolResult } from '../../src/server/tool-result.js';
import { registerSessionTools } from '../../src/server/tools/sessions.js';
import type { SessionManager } from '../../src/session/manager.js';

const textOf = (r: { content: { type: string; text?: string }[] }) =>
  r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('fitText', () => {
  it('leaves text that fits alone', () => {
    assert.equal(fitText('hello\n', 100), 'hello\n');
  });

  it('keeps head and tail of long text, saying how much was left out and how to read it', () => {
    const text = `${'a'.repeat(5000)}${'b'.repeat(5000)}`;
    const fitted = fitText(text, 1000, 'read on by offset');
    assert.ok(jsonBytes(fitted) <= 1000, `${jsonBytes(fitted)}`);
    assert.match(
      fitted,
      /^a+\n\[\.\.\. \d+ characters left out of this result; read on by offset \.\.\.\]\nb+$/,
    );
    const left = Number(/\.\.\. (\d+) characters/.exec(fitted)?.[1]);
    const [head = '', , tail = ''] = fitted.split('\n');
    assert.equal(left + head.length + tail.length, 10_000);
  });

  it('counts JSON escapes: control characters cost six bytes each', () => {
    const fitted = fitText('\u0001'.repeat(10_000), 1200);
    assert.ok(jsonBytes(fitted) <= 1200, `${jsonBytes(fitted)}`);
  });

  it('never splits a surrogate pair', () => {
    const fitted = fitText('😀'.repeat(5000), 999);
    assert.ok(jsonBytes(fitted) <= 999);
    assert.doesNotMatch(fitted, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });
});

describe('jsonBytes and jsonEncodedBytes', () => {
  const wire = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');
  it('count exactly what JSON.stringify writes, without building it', () => {
    const strings = [
      '',
      'hi\n',
      'tab\tquote"back\\',
      '\u0000\u001f\u007f',
      'héllo wörld',
      '日本',
      '\ud83d\ude00',
      'lone \ud800 \udc00 end\ud83d',
    ];
    for (const s of strings) {
      assert.equal(jsonEncodedBytes(s) + 2, wire(s), JSON.stringify(s));
      assert.equal(jsonBytes(s), wire(s));
    }
    const values: unknown[] = [
      null,
      0,
      -1.5,
      1e21,
      Number.NaN,
      true,
      [],
      {},
      [1, 'a', null, undefined, [2]],
      { a: 1, skipped: undefined, f: () => 1, 'ké\n': ['x', { deep: 'y"' }], n: null },
      { status: 'done', exit: 0, output: strings.join('\n'), when: new Date(0) },
      undefined,
    ];
    for (const v of values) assert.equal(jsonBytes(v), wire(v), JSON.stringify(v));
  });
});

describe('fitList and clip', () => {
  it('keeps the longest prefix of a list that fits', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ id: `item-${i}`, pad: 'x'.repeat(80) }));
    const kept = fitList(items, 2000);
    assert.ok(kept.length > 0 && kept.length < 100);
    assert.ok(jsonBytes(kept) <= 2000);
    assert.ok(jsonBytes(items.slice(0, kept.length + 1)) > 2000);
  });

  it('clips a long string, saying how much more there is', () => {
    assert.equal(clip('short', 10), 'short');
    assert.equal(clip('x'.repeat(30), 10), `${'x'.repeat(10)}... [20 more characters]`);
  });
});

describe('fitStructured', () => {
  it('cuts the longest string of a result that is too big, keeping its shape', () => {
    const value = { commandId: 'cmd-1', output: 'o'.repeat(50_000), nested: { note: 'n'.repeat(100) } };
    const fitted = fitStructured(value, 10_000);
    assert.ok(jsonBytes(fitted) <= 10_000, `${jsonBytes(fitted)}`);
    assert.equal(fitted.commandId, 'cmd-1');
    assert.equal(fitted.nested.note, value.nested.note);
    assert.match(fitted.output, /characters left out of this result/);
    assert.equal(value.output.length, 50_000, 'the value given is not changed');
  });

  it('drops entries at the end of a list of many small ones', () => {
    const value = {
      commands: Array.from({ length: 5000 }, (_, i) => ({ commandId: `cmd-${i}`, status: 'completed' })),
    };
    const fitted = fitStructured(value, 20_000);
    assert.ok(jsonBytes(fitted) <= 20_000, `${jsonBytes(fitted)}`);
    assert.ok(fitted.commands.length > 100);
    assert.deepEqual(fitted.commands[0], value.commands[0]);
  });
});

describe('toolResult', () => {
  it('holds each block of a result to the budget, and a call to the hard ceiling', async () => {
    const huge = 'y'.repeat(3_000_000);
    const r = await toolResult(() => ({ structured: { output: huge }, text: huge }), 100_000);
    assert.ok(jsonBytes(r.structuredContent) <= 100_000);
    assert.ok(jsonBytes(textOf(r)) <= 100_000);
    const asked = await toolResult(() => ({ structured: { output: huge }, text: huge, budget: 5_000_000 }));
    assert.ok(jsonBytes(asked.structuredContent) <= RESULT_CEILING);
    assert.ok(jsonBytes(asked) < 1_000_000, `the whole result on the wire: ${jsonBytes(asked)}`);
  });

  it('holds an error message to the budget too', async () => {
    const r = await toolResult(() => {
      throw new Error(`bad ${'z'.repeat(500_000)}`);
    }, 10_000);
    assert.equal(r.isError, true);
    assert.ok(jsonBytes(textOf(r)) <= 10_000);
  });
});

describe('list_sessions', () => {
  it('cuts a long list of sessions to the budget, and pages through all of them by offset', async () => {
    const sessions = Array.from({ length: 60 }, (_, i) => ({
      id: `admin@host-${i}.example.net:22`,
      host: `host-${i}.example.net`,
      port: 22,
      username: 'admin',
      dialect: 'linux',
      connected: true,
      busy: false,
      commandCount: i,
      createdAt: new Date(0).toISOString(),
      lastUsedAt: new Date(0).toISOString(),
    }));
    const server = new McpServer({ name: 't', version: '0' }, { capabilities: { tools: {} } });
    setResultBudget(server, 3000);
    registerSessionTools(server, { list: () => sessions } as unknown as SessionManager);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'c', version: '0' });
    await client.connect(clientSide);
    try {
      const seen: string[] = [];
      let offset: number | undefined = 0;
      for (let calls = 0; offset !== undefined && calls < 60; calls++) {
        const r = (await client.callTool({ name: 'list_sessions', arguments: { offset } })) as CallToolResult;
        const s = r.structuredContent as { sessions: { id: string }[]; nextOffset?: number; note?: string };
        assert.ok(jsonBytes(s) <= 3000 && jsonBytes(textOf(r)) <= 3000, `${jsonBytes(s)}`);
        assert.ok(s.sessions.length > 0);
        seen.push(...s.sessions.map((x) => x.id));
        if (s.nextOffset !== undefined) {
          assert.equal(
            s.note,
            `${60 - s.nextOffset} more left out of this result: list_sessions(offset=${s.nextOffset}) shows them`,
          );
          assert.ok(textOf(r).endsWith(`[${s.note}]`));
        }
        offset = s.nextOffset;
      }
      assert.deepEqual(
        seen,
        sessions.map((x) => x.id),
      );
    } finally {
      await client.close();
    }
  });
});
