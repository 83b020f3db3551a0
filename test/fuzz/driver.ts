import type { Answer, RawClient } from '../support/raw-client.js';
import { type FuzzCase, issuedIds } from './case.js';
import { judge, type Problem } from './judge.js';

/** `leak`: a configured token (or one the case presented) in a response or a log line (http group). */
export type Verdict = 'ok' | 'crash' | 'hang' | 'malformed' | 'unclear' | 'leak';

export interface Outcome {
  index: number;
  group: string;
  kind: string;
  verdict: Verdict;
  ms: number;
  why?: string;
  /** What each answer was (result, tool error, error code), for the coverage line of the report. */
  answers?: string[];
  /** The start of the first answer's text or error message. */
  sample?: string;
}

/** How a fresh server is started (spawned and initialized). */
export type Start = () => Promise<RawClient>;

/**
 * Sends cases one at a time to the server under fuzz, each followed by a ping, and waits for what each
 * must get back. A dead server counts as a crash and one that does not answer in time as a hang; either
 * way the next case gets a fresh server, so one failure does not turn into a thousand.
 */
export class Driver {
  private client: RawClient | undefined;
  private readonly sentIds = new Set<string | number>();
  private sentinel = 0;
  stderrTail = '';

  constructor(private readonly start: Start) {}

  async run(index: number, c: FuzzCase, boundMs: number): Promise<Outcome> {
    const client = await this.ensure();
    client.take();
    const ping = `ping-${++this.sentinel}`; // a prefix no case id uses
    const ids = c.lines.flatMap((l) => (typeof l.expect === 'object' ? [l.expect.id] : []));
    for (const id of [...ids, ping, ...c.lines.flatMap((l) => idIn(l.bytes))]) this.sentIds.add(id);
    const expected = c.lines.filter((l) => l.expect !== 'none').length;
    const bytes = Buffer.concat([
      ...c.lines.flatMap((l) => [l.bytes, Buffer.from('\n')]),
      Buffer.from(`{"jsonrpc":"2.0","id":"${ping}","method":"ping"}\n`),
    ]);
    const started = performance.now();
    const outcome = (verdict: Verdict, why?: string): Outcome => ({
      index,
      group: c.group,
      kind: c.kind,
      verdict,
      ms: Math.round(performance.now() - started),
      ...(why !== undefined && { why }),
    });
    const cuts = [
      ...(c.cuts ?? []).filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b),
      bytes.length,
    ];
    let from = 0;
    for (const cut of cuts) {
      await client.write(bytes.subarray(from, cut));
      from = cut;
      if (cuts.length > 1) await new Promise((r) => setImmediate(r));
    }
    const answered = (answers: Answer[]) => {
      const got = new Set(answers.map((a) => a.json?.id));
      const replies = answers.filter((a) => a.json?.id !== ping && !(a.json && 'method' in a.json));
      return got.has(ping) && ids.every((id) => got.has(id)) && replies.length >= expected;
    };
    // Each message gets the bound; a write of hundreds of them gets a little more for the whole lot.
    const bound = (c.boundMs ?? boundMs) + 20 * Math.max(0, c.lines.length - 1);
    const done = await client.until(answered, bound);
    const answers = client.take();
    if (!client.alive) {
      this.stderrTail = client.stderr.slice(-2000);
      this.client = undefined;
      return outcome('crash', `exit ${JSON.stringify(client.exit)}; ${lastLines(client.stderr)}`);
    }
    if (!done) {
      const got = answers.map((a) => a.json?.id ?? a.raw.slice(0, 40));
      await this.restart();
      return outcome(
        'hang',
        `no full answer in ${c.boundMs ?? boundMs} ms; got ${JSON.stringify(got).slice(0, 200)}`,
      );
    }
    const known = { has: (id: string | number) => this.sentIds.has(id) || issuedIds.has(id) };
    const problems = answers.map((a) => judge(a, known)).filter((p): p is Problem => p !== undefined);
    const worst = problems.find((p) => p.verdict === 'malformed') ?? problems[0];
    const replies = answers.filter((a) => a.json?.id !== ping);
    const kinds = replies.map(answerKind);
    const sample = replies[0] ? textOf(replies[0]).slice(0, 200) : undefined;
    return {
      ...(worst ? outcome(worst.verdict, worst.why) : outcome('ok')),
      answers: kinds,
      ...(sample !== undefined && { sample }),
    };
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }

  private async ensure(): Promise<RawClient> {
    if (!this.client?.alive) this.client = await this.start();
    return this.client;
  }

  private async restart(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (old?.alive) {
      old.child.kill('SIGKILL');
      await old.until(() => !old.alive, 5000);
    }
  }
}

/** An answer's text: the error message, the tool result's text, or the raw line. */
function textOf(answer: Answer): string {
  const m = answer.json;
  if (!m) return answer.raw;
  const error = m.error as { message?: string } | undefined;
  if (error) return `error: ${error.message}`;
  const result = m.result as { isError?: boolean; content?: { text?: string }[] } | undefined;
  const text = result?.content?.map((c) => c.text ?? '').join('') ?? JSON.stringify(m.result);
  return `${result?.isError ? 'tool error: ' : ''}${text}`.replace(/\s+/g, ' ');
}

/** `result`, `error -32602`, or `tool error: <its first words>`: what reached which code path. */
function answerKind(answer: Answer): string {
  const m = answer.json;
  if (!m) return 'not JSON';
  const error = m.error as { code?: unknown } | undefined;
  if (error) return `error ${String(error.code)}`;
  const result = m.result as { isError?: boolean; content?: { text?: string }[] } | undefined;
  if (!result?.isError) return 'result';
  const text = result.content?.[0]?.text ?? '';
  const words = text
    .replace(/"[^"]*"|'[^']*'|\S*\d\S*/g, '…')
    .split(/[\s:;(,]+/)
    .filter(Boolean)
    .slice(0, 4)
    .join(' ');
  return `tool error: ${words}`;
}

/** The id a line carries when it parses: garbage lines can still hold a valid one the server echoes. */
function idIn(bytes: Buffer): (string | number)[] {
  try {
    const id = (JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown } | null)?.id; // drops a BOM, as the server does
    return typeof id === 'string' || typeof id === 'number' ? [id] : [];
  } catch {
    return [];
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
}
