import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TranscriptRecorder, transcriptFiles } from '../transcript/recorder.js';
import { type CliCommand, UsageError } from './args.js';
import { runSessionCli, SESSION_OPTIONS, SESSION_USAGE } from './session-cli.js';

/** How long to wait for the device's goodbye once the session is closed. */
const CLOSE_WAIT_MS = 2000;

/** `record`: a real session, every byte each way, written as a transcript (docs/transcripts.md). */
export const recordCommand: CliCommand = {
  name: 'record',
  summary: 'run commands on a host and write the session as a transcript',
  usage: `mcp-ssh-session record <host-or-alias> [--out FILE] [options]

Opens a session as the server would (dialect, paging off, enable), runs each command, prints its output,
and writes everything the device and this side sent, with timestamps, to FILE (default
./<host>-<time>.transcript.yaml). Secrets are written as {{secret:NAME}} placeholders, never as values.

  --out FILE         where the transcript goes (a second shell, after a reconnect, goes to FILE-2 ...)
${SESSION_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...SESSION_OPTIONS, out: { type: 'string' } },
    });
    const host = positionals[0];
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const fallback = `${(host ?? 'host').replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.transcript.yaml`;
    const out = path.resolve(values.out ?? fallback);
    // Checked before connecting: a recording never overwrites one.
    if (existsSync(out)) throw new UsageError(`--out: ${out} exists; a recording never overwrites one`);
    const nextFile = transcriptFiles(out);
    const recorders: TranscriptRecorder[] = [];
    let status = 1;
    try {
      status = await runSessionCli(
        host,
        values,
        (name) => {
          const recorder = new TranscriptRecorder(nextFile, { host: name });
          recorders.push(recorder);
          return recorder;
        },
        [],
        async () => {
          await Promise.race([Promise.all(recorders.map((r) => r.finished)), delay(CLOSE_WAIT_MS)]);
          for (const recorder of recorders) recorder.close();
        },
      );
    } finally {
      const files = recorders.flatMap((r) => r.files);
      const errors = recorders.flatMap((r) => (r.error ? [r.error] : []));
      for (const error of errors) process.stderr.write(`recording failed: ${error}\n`);
      if (errors.length > 0) status = 1;
      process.stderr.write(
        files.length === 0
          ? 'nothing was recorded\n'
          : `transcript${status === 0 ? '' : ' (incomplete)'} written to ${files.join(', ')}\n`,
      );
    }
    return status;
  },
};
