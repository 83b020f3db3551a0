import { StringDecoder } from 'node:string_decoder';
import type { Client } from 'ssh2';
import type { Dialect } from '../dialect/dialect.js';
import type { ExpectRunner } from '../expect/runner.js';
import { shownLine, TerminalCleaner } from '../expect/terminal.js';
import { openChannel, openRunner } from './channel.js';

export class DetectionError extends Error {}

/** How long one look at the device (its greeting, one probe) may take. */
const LOOK_MS = 5000;

/**
 * Pick a dialect for a host nobody named one for, from the detection rules in the dialect files.
 * Dialects on an exec channel are tried by opening them (a plain shell answers at once, and keeps the
 * runner); the others are told apart by the greeting and prompt of one terminal session, then by probes.
 */
export async function detectDialect(
  client: Client,
  candidates: Dialect[],
  timeoutMs: number,
): Promise<{ dialect: Dialect; runner?: ExpectRunner }> {
  const tried: string[] = [];
  for (const dialect of candidates.filter((d) => d.channel.type === 'exec')) {
    try {
      const runner = await openRunner(client, dialect, Math.min(timeoutMs, LOOK_MS));
      const probe = dialect.detect.probe;
      if (!probe) return { dialect, runner };
      const outcome = await runner.run(probe.send, { timeoutMs: LOOK_MS, maxOutputBytes: 64 * 1024 });
      if (outcome.exitCode === 0 && probe.expect.test(outcome.output.head)) return { dialect, runner };
      runner.close();
      tried.push(`${dialect.name} (probe "${probe.send}" did not answer as expected)`);
    } catch (error) {
      tried.push(`${dialect.name} (${(error as Error).message})`);
    }
  }
  const shellDialects = candidates.filter((d) => d.channel.type === 'shell');
  if (shellDialects.length === 0) throw new DetectionError(unknownDevice(tried, candidates));
  return { dialect: await detectOnTerminal(client, shellDialects, tried, candidates) };
}

async function detectOnTerminal(
  client: Client,
  dialects: Dialect[],
  tried: string[],
  all: Dialect[],
): Promise<Dialect> {
  const stream = await openChannel(client, { type: 'shell', pty: { term: 'vt100', cols: 511, rows: 24 } });
  let text = '';
  let wake: (() => void) | undefined;
  // The same decoding and cleaning as the runner's, so a sequence split across chunks cannot hide a prompt.
  const decoder = new StringDecoder('utf8');
  const cleaner = new TerminalCleaner();
  stream.on('data', (chunk: Buffer) => {
    text += cleaner.push(decoder.write(chunk));
    // Only the end matters for a prompt; a device that talks a lot must not make each look slower.
    if (text.length > 256 * 1024) text = text.slice(-64 * 1024);
    wake?.();
  });
  const lastLine = () => shownLine(text.slice(text.lastIndexOf('\n') + 1));
  /** Wait, bounded, until the last line received satisfies `done`. */
  const waitFor = (done: (line: string) => boolean) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), LOOK_MS);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        wake = undefined;
        resolve(ok);
      };
      wake = () => done(lastLine()) && finish(true);
      wake();
    });

  try {
    const prompted = await waitFor((line) => dialects.some((d) => d.detect.prompt?.test(line)));
    const prompt = lastLine();
    const greeting = text;
    if (!prompted) {
      throw new DetectionError(
        `${unknownDevice(tried, all)} A terminal session showed no prompt any dialect knows within ${LOOK_MS} ms (last line: ${JSON.stringify(prompt.slice(-80))}).`,
      );
    }
    const matching = dialects.filter(
      (d) =>
        d.detect.prompt?.test(prompt) &&
        (d.detect.greeting === undefined || d.detect.greeting.test(greeting)),
    );
    if (matching.length === 1) return matching[0] as Dialect;
    for (const dialect of matching) {
      const probe = dialect.detect.probe;
      if (!probe) continue;
      text = '';
      stream.write(`${probe.send}${dialect.lineEnding}`);
      // The probe's answer ends when the same prompt comes back; its first line is the echo. A pager that
      // shows up on the way is answered the way this dialect says.
      const answered = await waitFor((line) => {
        const pager = dialect.pagers.find((p) => p.pattern.test(line));
        if (pager?.send !== undefined) stream.write(pager.send);
        return line === prompt;
      });
      const answer = text.slice(text.indexOf('\n') + 1, text.length - prompt.length);
      if (answered && probe.expect.test(answer)) return dialect;
    }
    throw new DetectionError(
      `Could not tell which dialect fits: the prompt ${JSON.stringify(prompt.trim())} fits ${matching.map((d) => d.name).join(', ')} and no probe decided. Pass dialect: one of ${all.map((d) => d.name).join(', ')}.`,
    );
  } finally {
    stream.close();
  }
}

function unknownDevice(tried: string[], all: Dialect[]): string {
  const names = all.map((d) => d.name).join(', ');
  return `Could not detect the device's dialect${tried.length ? `; tried ${tried.join('; ')}` : ''}. Pass dialect: one of ${names} (list_dialects describes them).`;
}
