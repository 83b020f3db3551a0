import { parseArgs } from 'node:util';
import { explainLine } from '../dialect/explain.js';
import { formatValidation, validateDialectFile } from '../dialect/validate.js';
import { type CliCommand, UsageError } from './args.js';
import { dialectFileArgument } from './dialect-file.js';

/** `dialect explain`: what the runner makes of one line, and every pattern that was tried. */
export const dialectExplainCommand: CliCommand = {
  name: 'explain',
  summary: 'say what a dialect makes of one line a device prints, pattern by pattern',
  usage: `mcp-ssh-session dialect explain <file.yaml|name> --line '<text>' [--prompt '<first prompt>'] [--mode M]

Takes one line exactly as the device prints it (trailing spaces included) and says what the runner does
with it: at open (first prompt, login answer), while a command runs (pager, input prompt, mode prompt,
a renamed device's prompt, a question), as output (error, a context line of a prompt) and when detecting.
Then lists every pattern of the dialect with "match" or "no match", as it was rendered.

  --line TEXT     the line to explain (required)
  --prompt TEXT   the session's first prompt, to learn values (host...) from; without it, values are
                  learned from the line itself when it is a first prompt
  --mode M        the mode the line should be a prompt of: says whether it is, and why not

Exit status: 0 whether or not anything matched, 1 when the dialect does not load, 2 for bad arguments.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: withValuesAttached(argv, ['--line', '--prompt']),
      allowPositionals: true,
      options: { line: { type: 'string' }, prompt: { type: 'string' }, mode: { type: 'string' } },
    });
    if (positionals.length !== 1) throw new UsageError('give one dialect file or name');
    if (values.line === undefined) throw new UsageError('give the line to explain with --line');
    const report = await validateDialectFile(await dialectFileArgument(positionals[0] as string));
    if (!report.dialect) {
      process.stderr.write(`${formatValidation(report).join('\n')}\n`);
      return 1;
    }
    const modes = report.dialect.modes.map((m) => m.name);
    if (values.mode !== undefined && !modes.includes(values.mode)) {
      throw new UsageError(
        `--mode: no mode named "${values.mode}" in ${report.dialect.name} (modes: ${modes.join(', ') || 'none'})`,
      );
    }
    const text = explainLine(report.dialect, { line: values.line, prompt: values.prompt, mode: values.mode });
    process.stdout.write(`${text}\n`);
    return 0;
  },
};

/**
 * `--line X` as `--line=X`: a line often starts with "-" (a pager's "--More--"), which the argument parser
 * would otherwise take for an option.
 */
function withValuesAttached(argv: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (names.includes(arg) && i + 1 < argv.length) out.push(`${arg}=${argv[++i]}`);
    else out.push(arg);
  }
  return out;
}
