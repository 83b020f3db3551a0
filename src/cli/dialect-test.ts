import { parseArgs } from 'node:util';
import { type CliCommand, positiveNumber, UsageError } from './args.js';
import { dialectFileArgument } from './dialect-file.js';
import { checkPassed, checkTranscript, formatCheck } from './transcript-check.js';

/** `dialect test`: replay recorded sessions to a dialect and compare each command with its recording. */
export const dialectTestCommand: CliCommand = {
  name: 'test',
  summary: 'replay transcripts to a dialect and compare every command with its recording',
  usage: `mcp-ssh-session dialect test <file.yaml|name|detect> <transcript>... [--speed N] [--timeout S]

Serves each transcript (docs/transcripts.md) as a device on 127.0.0.1, opens a session to it with the
dialect as the server would (detect: let detection choose), runs every recorded command, and compares the
mode, the error and the output with the recording. Prints ok or FAIL per command with the first
difference, and what the dialect sent that the recording never saw. ~/.ssh is not read or written.

  --speed N     play the recorded pauses N times faster (default: no pauses; 1 = as recorded)
  --timeout S   seconds a command may take before it counts as hanging (default 15)

Exit status: 0 when every command of every transcript is as recorded, 1 otherwise, 2 for bad arguments.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { speed: { type: 'string' }, timeout: { type: 'string' } },
    });
    const [dialect, ...transcripts] = positionals;
    if (!dialect || transcripts.length === 0)
      throw new UsageError('give a dialect and at least one transcript');
    const file = dialect === 'detect' ? undefined : await dialectFileArgument(dialect);
    const speed = Number(values.speed ?? 0);
    if (!Number.isFinite(speed) || speed < 0)
      throw new UsageError(`--speed must be 0 or more, got "${values.speed}"`);
    const timeoutS = positiveNumber('--timeout', values.timeout);
    let failed = 0;
    for (const transcript of transcripts) {
      try {
        const check = await checkTranscript(transcript, {
          ...(file && { dialect: file }),
          speed,
          ...(timeoutS !== undefined && { timeoutS }),
        });
        process.stdout.write(`${formatCheck(check)}\n`);
        if (!checkPassed(check)) failed++;
      } catch (error) {
        // A file that cannot be read is reported with its line; the others are still tested.
        process.stdout.write(`${transcript}:\n  FAIL  ${(error as Error).message}\n`);
        failed++;
      }
    }
    return failed === 0 ? 0 : 1;
  },
};
