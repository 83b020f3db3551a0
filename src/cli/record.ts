import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TranscriptRecorder, transcriptFiles } from '../transcript/recorder.js';
import type { CliCommand } from './args.js';
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
    const nextFile = transcriptFiles(path.resolve(values.out ?? fallback));
    const written: string[] = [];
    const recorders: TranscriptRecorder[] = [];
    const status = await runSessionCli(
      host,
      values,
      (name) => {
        const recorder = new TranscriptRecorder(
          () => {
            const file = nextFile();
            written.push(file);
            return file;
          },
          { host: name },
        );
        recorders.push(recorder);
        return recorder;
      },
      [],
      async () => {
        await Promise.race([Promise.all(recorders.map((r) => r.finished)), delay(CLOSE_WAIT_MS)]);
        for (const recorder of recorders) recorder.close();
      },
    );
    process.stderr.write(
      written.length > 0 ? `transcript written to ${written.join(', ')}\n` : 'nothing was recorded\n',
    );
    return status;
  },
};
