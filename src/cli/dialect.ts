import { type CliCommand, commandList, UsageError } from './args.js';
import { dialectExplainCommand } from './dialect-explain.js';
import { dialectTestCommand } from './dialect-test.js';
import { dialectTryCommand } from './dialect-try.js';
import { dialectValidateCommand } from './dialect-validate.js';

/**
 * `dialect <subcommand>`: tools for writing dialect files. Each subcommand is a CliCommand of its own, in
 * its own file; adding one to this list puts it in the usage and the dispatch.
 */
export const DIALECT_SUBCOMMANDS: CliCommand[] = [
  dialectValidateCommand,
  dialectExplainCommand,
  dialectTestCommand,
  dialectTryCommand,
];

function groupUsage(): string {
  const list = commandList(DIALECT_SUBCOMMANDS);
  return `mcp-ssh-session dialect <subcommand> [arguments]

Tools for writing a dialect file and checking it against recorded or real devices (docs/dialects.md).

Subcommands:
${list}

mcp-ssh-session dialect <subcommand> --help shows a subcommand's arguments.`;
}

const subcommand = (name: string | undefined) => DIALECT_SUBCOMMANDS.find((c) => c.name === name);

export const dialectCommand: CliCommand = {
  name: 'dialect',
  summary: `write and check dialect files (${DIALECT_SUBCOMMANDS.map((c) => c.name).join(', ')})`,
  get usage() {
    return groupUsage();
  },
  usageFor: (argv) => subcommand(argv[0])?.usage ?? groupUsage(),
  async run(argv) {
    const [name, ...rest] = argv;
    const sub = subcommand(name);
    if (!sub) {
      throw new UsageError(name === undefined ? 'name a subcommand' : `unknown subcommand "${name}"`);
    }
    return sub.run(rest);
  },
};
