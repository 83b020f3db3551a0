// The one wrapper every tool result goes through: known secrets masked in the text and in every string of
// the structured content, at any depth; a thrown error becomes an error result, masked too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { addTool, toolResult } from '../../src/server/tool-result.js';
import { registerSecret } from '../../src/util/secrets.js';

const SECRET = 'tool-Secret-8181';
registerSecret(SECRET, 'password');

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

it('masks a secret in the text and in nested structured content: objects, arrays, keys', async () => {
  const r = await toolResult(() => ({
    structured: {
      status: 'awaiting_input',
      waiting: { prompt: `Use ${SECRET}? [y/N]`, kind: 'yes_no' },
      commands: [{ command: `echo ${SECRET}`, exitCode: null, lines: [`a ${SECRET} b`, 'plain'] }],
      byName: { [SECRET]: 'configured' },
      count: 3,
      done: false,
    },
    text: `waits for: Use ${SECRET}?`,
  }));
  assert.equal(r.isError, undefined);
  assert.equal(textOf(r), 'waits for: Use ********?');
  assert.deepEqual(r.structuredContent, {
    status: 'awaiting_input',
    waiting: { prompt: 'Use ********? [y/N]', kind: 'yes_no' },
    commands: [{ command: 'echo ********', exitCode: null, lines: ['a ******** b', 'plain'] }],
    byName: { '********': 'configured' },
    count: 3,
    done: false,
  });
});

it('passes verbatim fields on whole (base64 bytes), still masking the text', async () => {
  const bytes = Buffer.from(`x${SECRET}`).toString('latin1');
  const r = await toolResult(() => ({
    structured: { content: bytes, path: `/tmp/${SECRET}` },
    text: bytes,
    verbatim: ['content'],
  }));
  assert.deepEqual(r.structuredContent, { content: bytes, path: '/tmp/********' });
  assert.equal(textOf(r), 'x********');
});

it('turns a thrown error into a masked error result, with its hint', async () => {
  const error = Object.assign(new Error(`login as ${SECRET} failed`), { hint: `check ${SECRET}` });
  const r = await toolResult(() => {
    throw error;
  });
  assert.equal(r.isError, true);
  assert.equal(r.structuredContent, undefined);
  assert.equal(textOf(r), 'login as ******** failed\ncheck ********');
  const rejected = await toolResult(async () => Promise.reject(`plain ${SECRET}`));
  assert.equal(textOf(rejected), 'plain ********');
});

it('registers a tool whose every result, structured or error, reaches a client masked', async () => {
  const server = new McpServer({ name: 't', version: '0' }, { capabilities: { tools: {} } });
  addTool(
    server,
    'echo',
    {
      title: 'Echo',
      description: 'Says what it was given.',
      inputSchema: { text: z.string(), fail: z.boolean().default(false) },
      outputSchema: { said: z.object({ text: z.string() }) },
      annotations: { readOnlyHint: true },
    },
    (args) => {
      if (args.fail) throw new Error(`cannot say ${args.text}`);
      return { structured: { said: { text: args.text } }, text: args.text };
    },
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'c', version: '0' });
  await client.connect(clientSide);
  try {
    const said = (await client.callTool({
      name: 'echo',
      arguments: { text: `hi ${SECRET}` },
    })) as CallToolResult;
    assert.deepEqual(said.structuredContent, { said: { text: 'hi ********' } });
    assert.equal(textOf(said), 'hi ********');
    const failed = (await client.callTool({
      name: 'echo',
      arguments: { text: SECRET, fail: true },
    })) as CallToolResult;
    assert.equal(failed.isError, true);
    assert.equal(textOf(failed), 'cannot say ********');
  } finally {
    await client.close();
  }
});

it('is the only way a tool is registered: no tool file calls registerTool or builds a result itself', () => {
  const dir = new URL('../../src/server/tools/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 5, `tool files: ${files.join(', ')}`);
  const offending = files.flatMap((file) =>
    readFileSync(new URL(file, dir), 'utf8')
      .split('\n')
      .map((line, i) => ({ line, where: `${file}:${i + 1}` }))
      .filter(({ line }) => /\.registerTool\(|\bstructuredContent\s*:|\bisError\s*:/.test(line))
      .map(({ line, where }) => `${where}: ${line.trim()}`),
  );
  assert.deepEqual(offending, []);
});

it('measures a fitted reply again once masking lengthened it, and leaves one masking did not change alone', async () => {
  const short = 'k9q';
  registerSecret(short, 'password');
  const body = `${short} `.repeat(300); // 1,200 characters; masked, 2,700
  const fitted = await toolResult(() => ({ structured: { output: body }, text: body, fitted: true }), 2000);
  assert.ok(Buffer.byteLength(textOf(fitted)) <= 2000, `text ${Buffer.byteLength(textOf(fitted))}`);
  assert.ok(JSON.stringify(fitted.structuredContent).length <= 2000);
  assert.doesNotMatch(textOf(fitted) + JSON.stringify(fitted.structuredContent), /k9q/);
  // Nothing to mask: the handler's word is taken (no last-resort cut of a block it says fits).
  const plain = 'z'.repeat(1500);
  const trusted = await toolResult(
    () => ({ structured: { output: plain }, text: plain, fitted: true }),
    1000,
  );
  assert.equal(textOf(trusted), plain);
  const checked = await toolResult(() => ({ structured: { output: plain }, text: plain }), 1000);
  assert.ok(textOf(checked).length < 1000);
});
