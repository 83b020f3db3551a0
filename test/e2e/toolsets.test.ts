import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, NODE_FLAGS, type ServerStart, startServerInTempHome, textOf } from '../support/mcp-client.js';

/** What tools/list costs a client's context: the SDK client's answer as JSON, as issue 15 measures it. */
const DEFAULT_BUDGET = 16_000;
const ALL_BUDGET = 30_000;
const FILE_TOOLS = ['download_file', 'list_directory', 'read_file', 'upload_file', 'write_file'];
const CHANGING = [
  'download_file',
  'upload_file',
  'write_file',
  'configure',
  'confirm_commit',
  'discard_changes',
  'rollback',
];

async function listing(start: ServerStart = {}) {
  const server = await startServerInTempHome(start);
  try {
    const list = await server.client.listTools();
    const sizes = list.tools
      .map((t) => `${t.name} ${JSON.stringify(t).length}`)
      .sort()
      .join(', ');
    return { size: JSON.stringify(list).length, names: list.tools.map((t) => t.name).sort(), sizes };
  } finally {
    await server.close();
  }
}

describe('tool sets: what tools/list carries, chosen by flag, environment and config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'toolsets-e2e-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`lists the default set in at most ${DEFAULT_BUDGET} characters`, async () => {
    const { size, names, sizes } = await listing();
    assert.ok(size <= DEFAULT_BUDGET, `default tools/list is ${size} characters: ${sizes}`);
    for (const name of ['execute_command', 'get_command_status', 'send_input', 'list_hosts'])
      assert.ok(names.includes(name), name);
    assert.ok(!names.includes('write_file') && !names.includes('send_keys'), names.join(', '));
  });

  it(`lists every tool with --tools all, in at most ${ALL_BUDGET} characters`, async () => {
    const { size, names, sizes } = await listing({ args: ['--tools', 'all'] });
    assert.equal(names.length, 29, names.join(', '));
    assert.ok(size <= ALL_BUDGET, `--tools all tools/list is ${size} characters: ${sizes}`);
  });

  it('--tools files lists the file tools only; MCP_SSH_TOOLS does the same, and the flag beats it', async () => {
    assert.deepEqual((await listing({ args: ['--tools', 'files'] })).names, FILE_TOOLS);
    assert.deepEqual((await listing({ env: { MCP_SSH_TOOLS: 'files' } })).names, FILE_TOOLS);
    const both = await listing({ args: ['--tools', 'inventory'], env: { MCP_SSH_TOOLS: 'files' } });
    assert.deepEqual(both.names, ['list_dialects', 'list_hosts']);
  });

  it('refuses to start with an unknown set name, listing the valid ones', () => {
    const run = spawnSync(process.execPath, [...NODE_FLAGS, CLI, '--tools', 'commands,fils'], {
      encoding: 'utf8',
      input: '',
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(
      run.stderr,
      /^mcp-ssh-session serve: --tools: unknown tool set "fils" \(did you mean "files"\?\); tool sets: commands, background, interactive, sessions, files, inventory, config, fleet; also default \(.+\), all, or a tool's own name/,
    );
    const fromEnv = spawnSync(process.execPath, [...NODE_FLAGS, CLI], {
      encoding: 'utf8',
      input: '',
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, MCP_SSH_TOOLS: 'everything' },
    });
    assert.equal(fromEnv.status, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /MCP_SSH_TOOLS: unknown tool set "everything"; tool sets: commands, /);
    const config = path.join(dir, 'bad-tools.yaml');
    writeFileSync(config, 'tools: [commands, shell]\n');
    const fromConfig = spawnSync(process.execPath, [...NODE_FLAGS, CLI, '--config', config], {
      encoding: 'utf8',
      input: '',
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    assert.equal(fromConfig.status, 1, fromConfig.stderr);
    assert.ok(
      fromConfig.stderr.includes(`invalid config file ${config}: tools: unknown tool set "shell"`),
      fromConfig.stderr,
    );
  });

  it('read-only hides the tools that change files, by flag or config, and a call to one says why', async () => {
    const flagged = await listing({ args: ['--tools', 'all', '--read-only'] });
    assert.equal(flagged.names.length, 29 - CHANGING.length);
    for (const name of CHANGING) assert.ok(!flagged.names.includes(name), name);
    assert.ok(flagged.names.includes('execute_command') && flagged.names.includes('read_file'));
    const env = await listing({ env: { MCP_SSH_TOOLS: 'files', MCP_SSH_READ_ONLY: '1' } });
    assert.deepEqual(env.names, ['list_directory', 'read_file']);

    const config = path.join(dir, 'read-only.yaml');
    writeFileSync(config, 'tools: [files]\nsecurity:\n  read_only: true\n');
    const server = await startServerInTempHome({ args: ['--config', config] });
    try {
      const names = (await server.client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['list_directory', 'read_file']);
      const refused = await server.call('write_file', { host: 'h', remote_path: '/tmp/x', content: 'x' });
      assert.equal(refused.isError, true);
      assert.match(
        textOf(refused),
        /^Tool "write_file" is not offered: write_file changes files, and this server is read-only/,
      );
    } finally {
      await server.close();
    }
  });
});
