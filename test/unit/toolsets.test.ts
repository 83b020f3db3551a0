import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { configWarnings, describeConfig } from '../../src/config/describe.js';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import { createServer, type ServerOptions } from '../../src/server/server.js';
import {
  ALL_TOOLS,
  CHANGING_TOOLS,
  DEFAULT_TOOLSETS,
  selectTools,
  TOOLSET_NAMES,
  TOOLSETS,
  ToolsetError,
} from '../../src/server/toolsets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'toolsets-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = (data: unknown) => validateConfig(data, path.join(dir, 'config.yaml'));

/** The tools a server made with these options lists, and its request check. */
async function listed(options: ServerOptions) {
  const { server, manager, check } = createServer(options);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 't', version: '0' });
  await client.connect(b);
  const { tools } = await client.listTools();
  await client.close();
  await manager.dispose();
  return { names: tools.map((t) => t.name).sort(), check };
}

const sorted = (names: Iterable<string>) => [...names].sort();

describe('tool sets', () => {
  it('put every tool the server has in exactly one set', async () => {
    const { names } = await listed({ tools: selectTools({ names: ['all'] }) });
    const inSets = TOOLSET_NAMES.flatMap((set) => [...TOOLSETS[set].tools]);
    assert.deepEqual(sorted(inSets), names);
    assert.equal(new Set(inSets).size, inSets.length, 'no tool in two sets');
    assert.deepEqual(sorted(ALL_TOOLS), names);
    for (const tool of CHANGING_TOOLS) assert.ok(names.includes(tool), tool);
  });

  it('offer the default sets when nothing is chosen, and what is named otherwise', async () => {
    const defaults = DEFAULT_TOOLSETS.flatMap((set) => TOOLSETS[set].tools);
    assert.deepEqual((await listed({})).names, sorted(defaults));
    assert.deepEqual(sorted(selectTools({ names: ['files'] }).tools), sorted(TOOLSETS.files.tools));
    assert.deepEqual(
      sorted(selectTools({ names: ['default', 'interactive', 'read_file'] }).tools),
      sorted([...defaults, ...TOOLSETS.interactive.tools, 'read_file']),
    );
  });

  it('refuse a name that is neither a set nor a tool, listing the valid ones', () => {
    assert.throws(
      () => selectTools({ names: ['commands', 'fiels'] }),
      (error: Error) =>
        error instanceof ToolsetError &&
        /^unknown tool set "fiels" \(did you mean "files"\?\); tool sets: commands, background, interactive, sessions, files, inventory, config, fleet; also default \(commands,sessions,inventory\), all, or a tool's own name/.test(
          error.message,
        ),
    );
    assert.throws(() => selectTools({ names: [] }), /no tool set given; tool sets: commands/);
    assert.throws(
      () => selectTools({ names: ['write_file'], readOnly: true }),
      /write_file offers no tool once read-only hides write_file/,
    );
  });

  it('read-only hides the tools that change files, and says why when one is called', async () => {
    const { names, check } = await listed({ tools: selectTools({ names: ['all'], readOnly: true }) });
    assert.deepEqual(names, sorted(ALL_TOOLS.filter((t) => !CHANGING_TOOLS.has(t))));
    assert.ok(names.includes('execute_command') && names.includes('read_file'));
    const call = (name: string) =>
      check({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name, arguments: {} },
      } as JSONRPCMessage);
    const text = (name: string) => JSON.stringify(call(name));
    assert.match(text('write_file'), /Tool \\"write_file\\" is not offered: write_file changes files/);
    assert.match(text('no_such_tool'), /Unknown tool \\"no_such_tool\\"; the tools are: /);
  });

  it('say which set a tool left out is in, and how to add it', () => {
    const selection = selectTools({ names: ['default'] });
    assert.equal(
      selection.whyHidden('send_keys'),
      'send_keys is in the tool set "interactive", which this server does not offer (its tool sets: default); the user can add it with --tools default,interactive, MCP_SSH_TOOLS or the config key `tools`',
    );
    assert.equal(selection.whyHidden('execute_command'), undefined);
    assert.equal(selection.whyHidden('no_such_tool'), undefined);
  });
});

describe('tool sets in the config file', () => {
  it('`tools` and security.read_only choose what the server offers', async () => {
    const loaded = config({ tools: ['files', 'inventory'], security: { read_only: true } });
    assert.deepEqual(loaded.tools, { names: ['files', 'inventory'], readOnly: true });
    assert.deepEqual(
      (await listed({ config: loaded })).names,
      sorted(['read_file', 'list_directory', 'list_hosts', 'list_dialects']),
    );
    // `tools: all` is a list of one.
    assert.deepEqual(config({ tools: 'all' }).tools, { names: ['all'], readOnly: false });
    assert.deepEqual(config({}).tools, { readOnly: false });
  });

  it('a name the file gets wrong fails the server, naming the file and the key', () => {
    const loaded = config({ tools: ['comands'] });
    assert.throws(
      () => createServer({ config: loaded }),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message.startsWith(
          `invalid config file ${path.join(dir, 'config.yaml')}: tools: unknown tool set "comands" (did you mean "commands"?); tool sets: `,
        ),
    );
  });

  it('check-config shows the choice, and warns when read-only leaves commands unlimited', () => {
    const open = config({ tools: ['all'], security: { read_only: true }, hosts: { web1: {} } });
    assert.match(describeConfig(open), /^Tools: all; read-only \(the tools that write files are hidden\)$/m);
    const warning = configWarnings(open).find((w) => w.startsWith('security.read_only'));
    assert.equal(
      warning,
      'security.read_only hides the tools that write files, but commands are not limited on web1, hosts not in `hosts` (defaults): give them policy.preset read-only (or an allow list) to make commands read-only too',
    );
    const limited = config({
      security: { read_only: true, inventory_only: true },
      hosts: { web1: { policy: { preset: 'read-only' } } },
    });
    assert.ok(!configWarnings(limited).some((w) => w.startsWith('security.read_only')));
    assert.match(describeConfig(config({})), /^Tools: the default sets$/m);
  });
});
