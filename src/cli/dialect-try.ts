import { parseArgs } from 'node:util';
import type { RunnerTrace } from '../expect/runner.js';
import type { ObservedResult, ShellObserver } from '../session/session.js';
import { redact } from '../util/secrets.js';
import type { CliCommand } from './args.js';
import { runSessionCli, SESSION_OPTIONS, SESSION_USAGE } from './session-cli.js';

/** Longest piece of device output shown on one trace line. */
const SHOWN_MAX = 160;

const shown = (text: string) => {
  const json = JSON.stringify(redact(text));
  return json.length > SHOWN_MAX ? `${json.slice(0, SHOWN_MAX)}..." (${text.length} characters)` : json;
};

/** One trace line per thing the runner saw or decided, for `dialect try`. */
function describe(event: RunnerTrace): string {
  switch (event.type) {
    case 'learned':
      return `learned the prompt ${shown(event.prompt)}: ${JSON.stringify(event.vars)}${event.mode ? `, mode ${event.mode}` : ', in no mode'}`;
    case 'relearned':
      return `a prompt of the ${event.mode} shape with new values: ${shown(event.prompt)}, learned again: ${JSON.stringify(event.vars)}`;
    case 'login':
      return `before the first prompt ${shown(event.line)} is answered with ${shown(event.send)} (login)`;
    case 'find-prompt':
      return `no prompt yet and the device is quiet: pressed Enter (try ${event.attempt}); last line ${shown(event.lastLine)}`;
    case 'stdin-wait':
      return `quiet, no prompt shown, and the stdin probe says the command reads its input: waiting for input (last line ${shown(event.lastLine)})`;
    case 'sent':
      return `sent ${shown(event.text)}`;
    case 'answered':
      return `answered ${event.line ? `${shown(event.line)} ` : ''}with ${event.with}`;
    case 'ended':
      return `the command ended at ${shown(event.line)}: mode ${event.mode ?? 'none'}`;
    case 'error-line':
      return `an error pattern matched ${shown(event.line)}: the command failed`;
    case 'step-refused':
      return `optional step ${shown(event.send)} was refused (${event.why}); going on`;
    case 'mode':
      return `now in ${event.mode} mode`;
  }
}

/**
 * Shows on stderr, step by step, what a session's runner saw and decided: bytes each way, the prompt it
 * learned, answers, where each command ended. Secrets are masked.
 */
export class TracePrinter implements ShellObserver {
  private readonly t0 = performance.now();
  /** Device output not shown yet: a device echoing key by key is shown a line at a time. */
  private pending = '';
  private pendingAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  private now(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private line(mark: string, text: string, at = this.now()): void {
    if (mark !== '<-') this.flush();
    this.write(`${at.toFixed(3).padStart(8)} ${mark} ${text}`);
  }

  private flush(): void {
    clearTimeout(this.timer);
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.line('<-', shown(text), this.pendingAt);
  }

  opened(channel: { type: string; pty: unknown }): void {
    this.line(
      '==',
      `opened a ${channel.type} channel${channel.pty ? ` with a terminal ${JSON.stringify(channel.pty)}` : ''}`,
    );
  }
  sent(data: string, secret?: string): void {
    this.line('->', secret === undefined ? shown(data) : `(the ${secret} secret)`);
  }
  received(chunk: Buffer): void {
    if (!this.pending) this.pendingAt = this.now();
    this.pending += chunk.toString('utf8');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 20);
  }
  closed(exitCode: number | null): void {
    this.line('==', `the channel closed${exitCode === null ? '' : ` (exit ${exitCode})`}`);
  }
  trace(event: RunnerTrace): void {
    // What was sent shows on its own line (->).
    if (event.type !== 'sent') this.line('==', describe(event));
  }
  dialect(name: string): void {
    this.line('==', `dialect ${name}`);
  }
  command(command: string, enter: string | undefined): void {
    this.line('>>', `command ${shown(command)}${enter ? ` in ${enter} mode` : ''}`);
  }
  result(result: ObservedResult): void {
    this.line(
      '<<',
      `${result.status}, exit ${result.exit ?? 'none'}${result.mode ? `, mode ${result.mode}` : ''}${result.error ? `: ${result.error}` : ''}`,
    );
  }
}

/** `dialect try`: a real session, with every step of the runner shown. */
export const dialectTryCommand: CliCommand = {
  name: 'try',
  summary: 'open a session to a host and show step by step what the runner saw and decided',
  usage: `mcp-ssh-session dialect try <host-or-alias> [--dialect FILE|NAME] [options]

Opens a session as the server would and runs the commands, printing each output on stdout and, on stderr,
every step: bytes each way (<- and ->), the prompt learned, login answers, pagers and secrets answered,
where each command ended and in which mode, errors matched. Without --dialect, detection is shown too.
Secrets are masked.

${SESSION_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: SESSION_OPTIONS,
    });
    return runSessionCli(positionals[0], values, () => new TracePrinter());
  },
};
