import { parseArgs } from 'node:util';
import { formatValidation, validateDialectFile } from '../dialect/validate.js';
import { type CliCommand, UsageError } from './args.js';
import { dialectFileArgument } from './dialect-file.js';

/** `dialect validate`: load each file as the server would and check its examples. */
export const dialectValidateCommand: CliCommand = {
  name: 'validate',
  summary: 'load dialect files as the server would and check their examples',
  usage: `mcp-ssh-session dialect validate <file.yaml|name>...

Loads each dialect as the server would, resolving extends through the built-in dialects,
MCP_SSH_DIALECT_PATH and the file's own folder, then checks every line of its examples: section the
way the runner would match it. Prints "ok FILE (name, N modes, M examples checked)", or each problem as
FILE:LINE:COL: field: what is wrong — what to fix. Warnings (legal, but likely wrong) do not fail a file.

Exit status: 0 when every file is good, 1 when any is not, 2 for bad arguments.`,
  async run(argv) {
    const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
    if (positionals.length === 0) throw new UsageError('give at least one dialect file');
    let bad = 0;
    for (const argument of positionals) {
      const report = await validateDialectFile(await dialectFileArgument(argument));
      process.stdout.write(`${formatValidation(report).join('\n')}\n`);
      if (report.problems.length > 0 || !report.dialect) bad++;
    }
    return bad > 0 ? 1 : 0;
  },
};
