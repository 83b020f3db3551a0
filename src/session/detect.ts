import { DETECTION_CHANNEL, detectionDialect } from '../dialect/detection.js';
import type { Dialect } from '../dialect/dialect.js';
import { errorLineIn } from '../dialect/matching.js';
import { type ExpectRunner, findLine } from '../expect/runner.js';
import type { SshConnection } from '../ssh/connection.js';
import { type ChannelTap, openChannel, openRunner, sameChannel } from './channel.js';

export class DetectionError extends Error {}

/** Detection as a whole: the first prompt and every probe. */
const DETECT_BUDGET_MS = 8000;
/** One probe: a device that does not answer it is not held on to. */
const PROBE_MS = 3000;

export interface DetectOptions {
  /** Bounds the whole detection too, when shorter than DETECT_BUDGET_MS. */
  timeoutMs: number;
  tap?: ChannelTap;
  /** Called with the runner of the dialect found before it starts (trace hooks); `setupProbe` with detection's. */
  setup?: (runner: ExpectRunner) => void;
  setupProbe?: (runner: ExpectRunner) => void;
  /** Told the dialect found, before its runner opens. */
  chosen?: (dialect: Dialect) => void;
}

/**
 * Pick a dialect for a host nobody named one for, from the detection rules in the dialect files. One
 * terminal session is opened and driven by the runner: the first prompt and the text before it narrow the
 * candidates, then probes (commands the dialects declare, each sent once) decide. When the winner uses the
 * same kind of channel, it takes this one over, prompt on screen; otherwise the channel is closed.
 */
export async function detectDialect(
  client: SshConnection,
  candidates: Dialect[],
  options: DetectOptions,
): Promise<{ dialect: Dialect; runner?: ExpectRunner }> {
  const deadline = Date.now() + Math.min(options.timeoutMs, DETECT_BUDGET_MS);
  const left = () => Math.max(1, deadline - Date.now());
  const channel = await openChannel(client, DETECTION_CHANNEL, options.tap);
  let probeRunner: ExpectRunner;
  try {
    probeRunner = await openRunner(
      channel,
      detectionDialect(candidates, DETECTION_CHANNEL),
      left(),
      options.setupProbe,
    );
  } catch (error) {
    throw new DetectionError(`${unknownDevice(candidates)} ${(error as Error).message}`);
  }
  const prompt = probeRunner.vars.prompt as string;
  try {
    const chosen = await choose(probeRunner, candidates, prompt, left);
    options.chosen?.(chosen);
    if (!sameChannel(chosen.channel, DETECTION_CHANNEL)) {
      probeRunner.close();
      return { dialect: chosen };
    }
    // The winner takes the channel over with the prompt on screen.
    const runner = await openRunner(channel, chosen, options.timeoutMs, options.setup, `\r\n${prompt}`);
    return { dialect: chosen, runner };
  } catch (error) {
    probeRunner.close();
    if (error instanceof DetectionError) throw error;
    throw new DetectionError(`${(error as Error).message}`);
  }
}

async function choose(
  runner: ExpectRunner,
  candidates: Dialect[],
  prompt: string,
  left: () => number,
): Promise<Dialect> {
  // Greetings and answers are searched as the runner searches output for errors: line by line, within
  // bounds, so a dialect's pattern cannot stall detection on a long line.
  const banner = runner.banner;
  // A greeting only one platform prints decides at once.
  const greeted = candidates.filter((d) => d.detect.greeting && errorLineIn(banner, [d.detect.greeting]));
  if (greeted.length === 1) return greeted[0] as Dialect;
  // Greetings only ever count for a dialect: a login banner can be turned off or replaced.
  let remaining = candidates.filter((d) => d.detect.prompt === undefined || d.detect.prompt.test(prompt));
  if (remaining.length === 0) {
    throw new DetectionError(
      `${unknownDevice(candidates)} Its prompt ${JSON.stringify(prompt)} fits no dialect's detect.prompt.`,
    );
  }
  if (remaining.length === 1) return remaining[0] as Dialect;
  const sends = [...new Set(remaining.flatMap((d) => d.detect.probes.map((p) => p.send)))];
  const tried: string[] = [];
  for (const send of sends) {
    if (left() <= 1) break;
    const outcome = await runner.run(send, {
      timeoutMs: Math.min(PROBE_MS, left()),
      maxOutputBytes: 64 * 1024,
    });
    if (runner.isClosed)
      throw new DetectionError(`${unknownDevice(candidates)} The device closed the session after "${send}".`);
    const fits = remaining.filter((d) =>
      d.detect.probes.some((p) => p.send === send && findLine(outcome.output, [p.expect]) !== undefined),
    );
    tried.push(
      `"${send}" fits ${fits.map((d) => d.name).join(', ') || 'none'}${outcome.timedOut ? ' (no prompt came back)' : ''}`,
    );
    if (fits.length === 1) return fits[0] as Dialect;
    if (fits.length > 1) remaining = fits;
  }
  throw new DetectionError(
    `Could not tell which dialect fits: the prompt ${JSON.stringify(prompt)} fits ${remaining.map((d) => d.name).join(', ')}, and no probe decided (${tried.join('; ') || 'no probe could be sent in time'}). Pass dialect: one of ${candidates.map((d) => d.name).join(', ')}.`,
  );
}

function unknownDevice(all: Dialect[]): string {
  const names = all.map((d) => d.name).join(', ');
  return `Could not detect the device's dialect. Pass dialect: one of ${names} (list_dialects describes them).`;
}
