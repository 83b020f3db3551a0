#!/usr/bin/env -S node --max-semi-space-size=4
import { type CliCommand, commandList, UsageError } from './cli/args.js';
import { checkConfigCommand } from './cli/check-config.js';
import { dialectCommand } from './cli/dialect.js';
import { recordCommand } from './cli/record.js';
import { replayCommand } from './cli/replay.js';
import { serveCommand } from './cli/serve.js';
import { VERSION } from './server/version.js';
import { log } from './util/log.js';

/** Every command, in the order --help lists them. */
const COMMANDS: CliCommand[] = [
  serveCommand,
  checkConfigCommand,
  recordCommand,
  replayCommand,
  dialectCommand,
];

function help(): string {
  const list = commandList(COMMANDS);
  return `mcp-ssh-session ${VERSION}: an MCP server for persistent SSH sessions to servers and network devices.

Usage: mcp-ssh-session [command] [options]

Commands:
${list}

mcp-ssh-session <command> --help shows a command's options; --version prints the version.
Dialect folders beyond the built-ins: MCP_SSH_DIALECT_PATH (folders separated by ':', later ones win).
Logs go to stderr; MCP_SSH_SESSION_LOG_LEVEL=error|warn|info|debug (default warn).`;
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--version') return print(VERSION);
  if (first === '--help' || first === '-h' || first === 'help') return print(help());
  const named = COMMANDS.find((c) => c.name === first);
  if (first !== undefined && !first.startsWith('-') && !named) {
    process.stderr.write(`mcp-ssh-session: unknown command "${first}"\n\n${help()}\n`);
    return 2;
  }
  const command = named ?? serveCommand;
  const rest = named ? argv.slice(1) : argv;
  const usage = command.usageFor?.(rest) ?? command.usage;
  if (rest.includes('--help') || rest.includes('-h')) return print(usage);
  try {
    return await command.run(rest);
  } catch (error) {
    // parseArgs throws TypeErrors with a code for unknown or malformed options.
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mcp-ssh-session ${command.name}: ${(error as Error).message}\n\n${usage}\n`);
      return 2;
    }
    throw error;
  }
}

// A bug must not take every session down with it: log and keep serving.
process.on('uncaughtException', (error) => log.error(`uncaught: ${error.stack ?? error.message}`));
process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${String(reason)}`));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    log.error(error.message);
    process.exit(1);
  },
);
