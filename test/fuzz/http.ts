import { Wire, type WireResponse } from '../support/raw-http.js';
import type { Outcome, Verdict } from './driver.js';
import { HTTP_WEIGHTS, type HttpPlan, type HttpReq, httpGenerators } from './http-cases.js';
import { type HttpTarget, type HttpWorld, messagesOf, TOKENS } from './http-target.js';
import { judge, unclear } from './judge.js';
import type { Rng } from './rng.js';

/** A case of the http group: its plan is made once the server's port and sessions are known. */
export interface HttpCase {
  group: 'http';
  kind: string;
  plan: (w: HttpWorld) => HttpPlan;
}

export function httpCase(rng: Rng): HttpCase {
  const kinds = Object.keys(httpGenerators);
  const total = kinds.reduce((sum, k) => sum + (HTTP_WEIGHTS[k] ?? 1), 0);
  let x = rng.next() * total;
  let kind = kinds[kinds.length - 1] as string;
  for (const k of kinds) {
    x -= HTTP_WEIGHTS[k] ?? 1;
    if (x < 0) {
      kind = k;
      break;
    }
  }
  const generate = httpGenerators[kind] as (rng: Rng, w: HttpWorld) => HttpPlan;
  return { group: 'http', kind, plan: (w) => generate(rng, w) };
}

type Problem = { verdict: Exclude<Verdict, 'ok' | 'crash'>; why: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The request bytes without their Authorization lines: what the client itself put elsewhere. */
function withoutAuthorization(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/^authorization:[^\r\n]*\r?\n/gim, '');
}

/** The longest error body that is still a message and not an echo or a page. */
const MAX_ERROR_BODY = 4000;

/**
 * One response, judged: a status that fits the request, 401 only with a Bearer challenge naming the
 * resource metadata, error bodies that are JSON-RPC errors (OAuth errors for refused tokens) with a
 * usable message, no HTML, no stack, no secret the request did not carry itself.
 */
function judgeResponse(
  req: HttpReq,
  res: WireResponse,
  sent: string,
  secrets: readonly string[],
): Problem | undefined {
  const what = `${req.method} ${req.path.slice(0, 60)}`;
  const text = res.body.toString('utf8');
  const raw = `${res.head}\r\n\r\n${res.body.toString('latin1')}`;
  for (const secret of secrets) {
    if (raw.includes(secret) && !sent.includes(secret))
      return { verdict: 'leak', why: `${what}: ${res.status} holds a token (${secret.slice(0, 6)}…)` };
  }
  if (req.statuses ? !req.statuses.includes(res.status) : res.status >= 500) {
    return {
      verdict: 'malformed',
      why: `${what}: status ${res.status}, expected ${req.statuses?.join('/') ?? 'below 500'}: ${oneLine(text, 160)}`,
    };
  }
  const type = res.headers['content-type']?.[0] ?? '';
  if (/text\/html/i.test(type) || /<(!doctype|html|body|pre)\b/i.test(text.slice(0, 500)))
    return { verdict: 'malformed', why: `${what}: ${res.status} is an HTML page: ${text.slice(0, 120)}` };
  const challenge = res.headers['www-authenticate']?.join(', ');
  if (
    res.status === 401 &&
    !(challenge && /^Bearer\b/.test(challenge) && /resource_metadata="[^"]+"/.test(challenge))
  )
    return {
      verdict: 'malformed',
      why: `${what}: 401 without a Bearer challenge naming resource_metadata: ${challenge}`,
    };
  if (challenge !== undefined && /[\x00-\x1f\x7f]/.test(challenge))
    return { verdict: 'malformed', why: `${what}: control characters in WWW-Authenticate` };
  if (res.status >= 400 && req.method !== 'HEAD') {
    if (text.length > MAX_ERROR_BODY)
      return { verdict: 'unclear', why: `${what}: ${res.status} body of ${text.length} characters` };
    if (text.trim() === '') return { verdict: 'unclear', why: `${what}: ${res.status} with an empty body` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { verdict: 'malformed', why: `${what}: ${res.status} body is not JSON: ${oneLine(text)}` };
    }
    if (!isObject(body)) return { verdict: 'malformed', why: `${what}: ${res.status} body is not an object` };
    if (isObject(body.error)) {
      const problem = judge({ json: body, raw: text }, { has: () => true });
      if (
        body.id !== null &&
        body.id !== undefined &&
        typeof body.id !== 'string' &&
        typeof body.id !== 'number'
      )
        return { verdict: 'malformed', why: `${what}: ${res.status} error with an id of the wrong type` };
      if (problem) return { verdict: problem.verdict, why: `${what}: ${res.status}: ${problem.why}` };
    } else if (
      typeof body.error === 'string' &&
      (challenge !== undefined || req.path.startsWith('/.well-known/'))
    ) {
      // A refused token: RFC 6750's error object, the challenge in the header says the rest.
      const message = typeof body.error_description === 'string' ? body.error_description : body.error;
      const why = unclear(message);
      if (why) return { verdict: 'unclear', why: `${what}: ${res.status}: ${why}: ${message.slice(0, 120)}` };
    } else {
      return {
        verdict: 'malformed',
        why: `${what}: ${res.status} body is not a JSON-RPC error: ${oneLine(text)}`,
      };
    }
  }
  if (res.status === 200 && req.method === 'POST' && !res.open) {
    for (const message of messagesOf(res)) {
      if (!isObject(message))
        return {
          verdict: 'malformed',
          why: `${what}: an event that is not a JSON object: ${String(message).slice(0, 100)}`,
        };
      const problem = judge({ json: message, raw: JSON.stringify(message) }, { has: () => true });
      if (problem) return { verdict: problem.verdict, why: `${what}: ${problem.why}` };
    }
  }
  return undefined;
}

/** A server log line, judged: JSON (the HTTP server logs one object a line) and free of secrets. */
function judgeLogLine(line: string, secrets: readonly string[]): Problem | undefined {
  if (line.trim() === '') return undefined;
  for (const secret of secrets)
    if (line.includes(secret))
      return { verdict: 'leak', why: `log line holds a token: ${line.slice(0, 160)}` };
  try {
    if (isObject(JSON.parse(line))) return undefined;
  } catch {}
  return { verdict: 'unclear', why: `log line is not JSON: ${line.slice(0, 160)}` };
}

const oneLine = (text: string, max = 120) => text.replace(/\s+/g, ' ').slice(0, max);

const ORDER: Verdict[] = ['crash', 'leak', 'hang', 'malformed', 'unclear'];

/**
 * Runs one http case against the server: every step's bytes on a connection (cut, aborted, kept alive
 * as the plan says), every response judged, the log judged, then the health probe. A server that died is
 * a crash; one whose probe fails is restarted for the next case.
 */
export async function runHttpCase(
  target: HttpTarget,
  index: number,
  c: HttpCase,
  boundMs: number,
  show?: (text: string) => void,
): Promise<Outcome> {
  const w = await target.ensure();
  target.takeLog();
  const plan = c.plan(w);
  const secrets = [...Object.values(TOKENS), ...plan.secrets.filter((s) => s.length >= 12)];
  const problems: Problem[] = [];
  const answers: string[] = [];
  let sample: string | undefined;
  const started = performance.now();
  let wire: Wire | undefined;
  const wires: Wire[] = [];
  for (const [i, step] of plan.steps.entries()) {
    if (!step.reuse || !wire || wire.closed) {
      wire = new Wire(w.port);
      wires.push(wire);
    }
    const t0 = performance.now();
    const sent = withoutAuthorization(step.bytes);
    if (show)
      show(
        `step ${i}: ${JSON.stringify(step.bytes.subarray(0, 600).toString('latin1'))}${step.bytes.length > 600 ? ` … (${step.bytes.length} bytes)` : ''}${step.abort ? ` cut at ${step.abort.at}` : ''}`,
      );
    let result: Awaited<ReturnType<Wire['read']>>;
    const methods = step.requests.map((r) => r.method);
    const streams = step.requests.map((r) => r.stream === true);
    if (step.abort) {
      await wire.write(step.bytes.subarray(0, step.abort.at));
      result = await wire.read({ methods, streams, needed: 0, graceMs: step.abort.waitMs }, boundMs, t0);
      wire.close(step.abort.reset);
    } else {
      await wire.write(step.bytes, step.cuts);
      // Every response up to the first optional one must come, unless the server closes the connection.
      const needed = step.requests.findIndex((r) => r.optional);
      const must = needed < 0 ? step.requests.length : needed;
      const bound = boundMs + 20 * Math.max(0, step.requests.length - 1);
      const grace = step.requests.some((r) => r.optional || r.mayClose) ? 300 : 0;
      result = await wire.read({ methods, streams, needed: must, graceMs: grace }, bound, t0);
    }
    for (const [j, res] of result.responses.entries()) {
      const req = step.requests[j] ?? { method: '?', path: '?', statuses: [400], mayClose: true };
      answers.push(`HTTP ${res.status}`);
      sample ??= `${res.status} ${res.body.toString('utf8').replace(/\s+/g, ' ').slice(0, 160)}`;
      if (show)
        show(`  -> ${res.status} in ${res.ms} ms ${JSON.stringify(res.body.toString('utf8').slice(0, 300))}`);
      const problem = judgeResponse(req, res, sent, secrets);
      if (problem) problems.push(problem);
      if (res.open && req.stream) break;
    }
    if (result.garbage) problems.push({ verdict: 'malformed', why: `not HTTP: ${result.garbage}` });
    const missing = step.requests.slice(result.responses.length);
    const owed = missing.filter((r) => !r.optional && !(r.mayClose && result.closed));
    if (!step.abort && owed.length > 0 && result.responses.at(-1)?.open !== true) {
      const first = owed[0] as HttpReq;
      if (result.closed)
        problems.push({
          verdict: 'malformed',
          why: `${first.method} ${first.path.slice(0, 60)}: connection closed without an answer (${result.responses.length} of ${step.requests.length} answered)`,
        });
      else
        problems.push({
          verdict: 'hang',
          why: `${first.method} ${first.path.slice(0, 60)}: no answer in ${boundMs} ms (${result.responses.length} of ${step.requests.length} answered)`,
        });
    }
    if (!target.alive) break;
  }
  for (const x of wires) x.close();
  const ms = Math.round(performance.now() - started);
  const outcome = (verdict: Verdict, why?: string): Outcome => ({
    index,
    group: c.group,
    kind: c.kind,
    verdict,
    ms,
    ...(why !== undefined && { why }),
    answers,
    ...(sample !== undefined && { sample }),
  });
  if (!target.alive) {
    // Give the last words a moment to arrive.
    await new Promise((r) => setTimeout(r, 100));
    const tail = target.stderrTail.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
    await target.stop();
    return outcome('crash', `exit ${target.lastExit ?? '?'}; ${tail}`);
  }
  const health = await target.probe(plan.alice);
  for (const line of target.takeLog()) {
    const problem = judgeLogLine(line, secrets);
    if (problem) problems.push(problem);
  }
  if (health) {
    const crashed = !target.alive;
    await target.stop(); // a fresh server for the next case
    if (crashed) return outcome('crash', `health probe: ${health.why}`);
    problems.unshift({
      verdict: health.hang ? 'hang' : 'malformed',
      why: `health probe after the case: ${health.why}`,
    });
  }
  const worst = ORDER.map((v) => problems.find((p) => p.verdict === v)).find(Boolean);
  if (show) for (const p of problems) show(`  ${p.verdict}: ${p.why}`);
  return worst ? outcome(worst.verdict, worst.why) : outcome('ok');
}
