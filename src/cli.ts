#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { configWarnings, describeConfig } from './config/describe.js';
import { type LoadedConfig, loadConfig } from './config/load.js';
import { DialectRegistry, defaultDialectDirs } from './dialect/loader.js';
import { DEFAULT_LIMITS } from './server/limits.js';
import { createServer } from './server/server.js';
import { VERSION } from './server/version.js';
import { log } from './util/log.js';

const USAGE = `mcp-ssh-session ${VERSION}: an MCP server (stdio) for persistent SSH sessions.

Usage: mcp-ssh-session [options]               serve MCP on stdio
       mcp-ssh-session check-config [--config F] validate a config file, print its hosts (no secrets)

  --config FILE           config file (inventory, secrets by reference, policy, audit log); without it the
                          file is searched for as docs/configuration.md says; none is fine
  --max-output-bytes N    output kept per command (default ${DEFAULT_LIMITS.maxOutputBytes}; env MCP_SSH_MAX_OUTPUT_BYTES)
  --max-result-bytes N    output in one tool result (default ${DEFAULT_LIMITS.maxResultBytes}; env MCP_SSH_MAX_RESULT_BYTES)
  --max-spill-bytes N     output of one command kept on disk beyond that (default ${DEFAULT_LIMITS.maxSpillBytes}; env MCP_SSH_MAX_SPILL_BYTES)
  --connect-timeout S     seconds for connect + authentication (default ${DEFAULT_LIMITS.connectTimeoutMs / 1000}; env MCP_SSH_CONNECT_TIMEOUT)
Flags and environment beat the config file's limits.
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
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'max-output-bytes': { type: 'string' },
      'max-spill-bytes': { type: 'string' },
      'max-result-bytes': { type: 'string' },
      'connect-timeout': { type: 'string' },
      help: { type: 'boolean' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  const [subcommand, ...extra] = positionals;
  if (extra.length > 0 || (subcommand !== undefined && subcommand !== 'check-config')) {
    process.stderr.write(`mcp-ssh-session: unknown argument "${positionals.join(' ')}"\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (subcommand === 'check-config') return checkConfig(values.config);
  const config = await loadConfig({ explicitPath: values.config });
  if (config) {
    log.info(`config: ${config.file}`);
    for (const warning of configWarnings(config)) log.warn(`config: ${warning}`);
  }
  const env = process.env;
  const connectTimeout = positiveNumber(
    '--connect-timeout',
    values['connect-timeout'] ?? env.MCP_SSH_CONNECT_TIMEOUT,
  );
  const { server, manager, prompter } = createServer({
    ...(config && { config }),
    limits: {
      maxOutputBytes: positiveNumber(
        '--max-output-bytes',
        values['max-output-bytes'] ?? env.MCP_SSH_MAX_OUTPUT_BYTES,
      ),
      maxSpillBytes: positiveNumber(
        '--max-spill-bytes',
        values['max-spill-bytes'] ?? env.MCP_SSH_MAX_SPILL_BYTES,
      ),
      maxResultBytes: positiveNumber(
        '--max-result-bytes',
        values['max-result-bytes'] ?? env.MCP_SSH_MAX_RESULT_BYTES,
      ),
      connectTimeoutMs: connectTimeout === undefined ? undefined : connectTimeout * 1000,
    },
  });
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    // Spill files deleted, audit log flushed; a stuck disk does not hold the exit up for long.
    const exit = () => process.exit(0);
    setTimeout(exit, 2000).unref();
    void Promise.allSettled([manager.dispose(), prompter.close()]).then(exit);
  };
  process.stdin.on('close', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await server.connect(new StdioServerTransport());
  log.info(`mcp-ssh-session ${VERSION} listening on stdio`);
}

/** `check-config`: exit 0 with the resolved hosts, 1 with what is wrong. Dialect names are checked too. */
async function checkConfig(explicitPath: string | undefined): Promise<void> {
  let config: LoadedConfig | undefined;
  try {
    config = await loadConfig({ explicitPath });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  if (!config) {
    process.stdout.write(
      'No config file found (none is needed: hosts then come from ~/.ssh/config). Pass --config FILE to check one.\n',
    );
    return;
  }
  const dialects = new DialectRegistry(defaultDialectDirs(config.dialectPaths));
  const known = new Set(await dialects.names());
  const problems: string[] = [];
  for (const host of config.inventory.list()) {
    if (host.dialect !== undefined && !known.has(host.dialect)) {
      problems.push(
        `hosts.${host.name}: no dialect named "${host.dialect}" (known: ${[...known].join(', ')})`,
      );
    }
  }
  process.stdout.write(`${describeConfig(config)}\n`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    process.exit(1);
  }
}

// A bug must not take every session down with it: log and keep serving.
process.on('uncaughtException', (error) => log.error(`uncaught: ${error.stack ?? error.message}`));
process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${String(reason)}`));

main().catch((error: Error) => {
  log.error(error.message);
  process.exit(1);
});
