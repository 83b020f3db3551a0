#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { DEFAULT_LIMITS } from './server/limits.js';
import { createServer } from './server/server.js';
import { VERSION } from './server/version.js';
import { log } from './util/log.js';

const USAGE = `mcp-ssh-session ${VERSION}: an MCP server (stdio) for persistent SSH sessions.

Usage: mcp-ssh-session [options]

  --max-output-bytes N    output kept per command (default ${DEFAULT_LIMITS.maxOutputBytes}; env MCP_SSH_MAX_OUTPUT_BYTES)
  --max-result-bytes N    output in one tool result (default ${DEFAULT_LIMITS.maxResultBytes}; env MCP_SSH_MAX_RESULT_BYTES)
  --connect-timeout S     seconds for connect + authentication (default ${DEFAULT_LIMITS.connectTimeoutMs / 1000}; env MCP_SSH_CONNECT_TIMEOUT)
  --help, --version

Dialect folders beyond the built-ins: MCP_SSH_DIALECT_PATH (folders separated by ':', later ones win).
Logs go to stderr; MCP_SSH_SESSION_LOG_LEVEL=error|warn|info|debug (default warn).`;

function positiveNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`mcp-ssh-session: ${name} must be a positive number, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'max-output-bytes': { type: 'string' },
      'max-result-bytes': { type: 'string' },
      'connect-timeout': { type: 'string' },
      help: { type: 'boolean' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  const env = process.env;
  const connectTimeout = positiveNumber(
    '--connect-timeout',
    values['connect-timeout'] ?? env.MCP_SSH_CONNECT_TIMEOUT,
  );
  const { server, manager } = createServer({
    limits: {
      maxOutputBytes: positiveNumber(
        '--max-output-bytes',
        values['max-output-bytes'] ?? env.MCP_SSH_MAX_OUTPUT_BYTES,
      ),
      maxResultBytes: positiveNumber(
        '--max-result-bytes',
        values['max-result-bytes'] ?? env.MCP_SSH_MAX_RESULT_BYTES,
      ),
      connectTimeoutMs: connectTimeout === undefined ? undefined : connectTimeout * 1000,
    },
  });
  const shutdown = () => {
    manager.closeAll();
    process.exit(0);
  };
  process.stdin.on('close', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await server.connect(new StdioServerTransport());
  log.info(`mcp-ssh-session ${VERSION} listening on stdio`);
}

// A bug must not take every session down with it: log and keep serving.
process.on('uncaughtException', (error) => log.error(`uncaught: ${error.stack ?? error.message}`));
process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${String(reason)}`));

main().catch((error: Error) => {
  log.error(error.message);
  process.exit(1);
});
